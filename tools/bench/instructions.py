"""Instructions per request, counted by valgrind's callgrind: the same count however busy the machine is.

Wall-clock figures on a shared machine move by 15% between rounds; instruction counts do not. Each figure is
(the instructions of N requests minus those of M requests) / (N - M), one process per count, through the
ASGI app the framework builds, in process (no socket): the floor's function, ours, then ours with one more
part of its path replaced by a stand-in each time (tools/bench/inprocess.parts), so each part's figure is
what it adds. Run in the lean venv, as `make bench` runs inprocess:

    PYTHONPATH=. .venv-lean/bin/python -m tools.bench.instructions
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import functions_framework

from tools.bench import inprocess
from tools.procs import stdout_to_devnull

FLOOR = os.path.join(inprocess.ROOT, "tools", "bench", "peers", "asgi_floor.py")
OURS = os.path.join(inprocess.ROOT, "function", "main.py")
COLLECTED = re.compile(rb"Collected : (\d+)")


def child(source: str, requests: int, replaced: int) -> None:
    """One counted process: warm the app, replace the first `replaced` parts, then send `requests` requests."""
    app = functions_framework.create_app("predict", source)
    with stdout_to_devnull():
        asyncio.run(inprocess._timed(app, 50))
        if replaced:
            import main as function_main  # function/ is on sys.path: create_app put it there

            for _, replace in inprocess.parts(function_main)[:replaced]:
                replace()
        asyncio.run(inprocess._timed(app, requests))


def count(source: str, requests: int, replaced: int) -> int:
    """The instructions one child process runs, from callgrind's summary."""
    valgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    command = [
        *valgrind,
        sys.executable,
        "-m",
        "tools.bench.instructions",
        "--child",
        source,
        str(requests),
        str(replaced),
    ]
    result = subprocess.run(command, capture_output=True, cwd=inprocess.ROOT, timeout=600)
    found = COLLECTED.search(result.stderr)
    if result.returncode != 0 or not found:
        raise SystemExit(f"callgrind failed ({result.returncode}): {result.stderr[-1500:].decode(errors='replace')}")
    return int(found.group(1))


def per_request(source: str, replaced: int, many: int, few: int) -> int:
    with ThreadPoolExecutor(2) as pool:  # the two counts at once: one process per CPU
        big, small = pool.map(lambda n: count(source, n, replaced), (many, few))
    return round((big - small) / (many - few))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests in the larger count (default 1000)")
    parser.add_argument("--child", nargs=3, metavar=("SOURCE", "REQUESTS", "REPLACED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), int(args.child[2]))
        return 0
    if args.requests < 300:
        parser.error(f"--requests must be at least 300 (a count of 200 is subtracted from it); got {args.requests}")
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: apt-get install valgrind")
    many, few = args.requests, 200
    names = [name for name, _ in inprocess.parts(_loaded_main())]
    floor = per_request(FLOOR, 0, many, few)
    print(f"instructions per request through the framework's ASGI app, in process ({many} requests minus {few}):")
    print(f"  the floor's function: {floor:,}")
    previous = per_request(OURS, 0, many, few)
    print(f"  ours: {previous:,} ({previous / floor:.2f}x the floor)", flush=True)
    for replaced, name in enumerate(names, start=1):
        now = per_request(OURS, replaced, many, few)
        print(f"    {name}: {previous - now:+,}", flush=True)
        previous = now
    rest = previous - floor
    print(f"    the rest (routing, the call's headers, the answer's), less the floor's body and JSON: {rest:+,}")
    return 0


def _loaded_main():
    """The function's main module, as the framework loads it (for the parts' names)."""
    with stdout_to_devnull():
        functions_framework.create_app("predict", OURS)
        import main as function_main

        return function_main


if __name__ == "__main__":
    sys.exit(main())
