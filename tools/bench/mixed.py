"""Small requests while large ones run: single predictions' latency while 10,000-row batches go back to back.

One server pinned to CPU 0 (a 1-vCPU instance): wrk sends single predictions (the seed's Adelie) from CPU 1,
alone and then while a client thread posts 10,000-row JSON batches one after another. On the fast lane a
batch must not hold up the event loop: its work runs in a worker thread (web/pipeline.py, OFFLOAD_FROM_BYTES).

  python -m tools.bench.mixed --lean .venv-lean/bin      (make bench and make ab run it too)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
from pathlib import Path

from tools.bench.benchmark import ADELIE, BATCH_SIZE, OURS_SOURCE, Server, post, wrk
from tools.examples import random_penguins


def singles_during_batches(
    lean_bin: Path, source: Path, log_dir: Path, duration: int = 10, connections: int = 4, name: str = "mixed"
) -> dict:
    """wrk's singles alone, then beside back-to-back batches: requests/s, p50 and p99 ms, and batches answered."""
    batch = json.dumps({"instances": random_penguins(BATCH_SIZE)}).encode()
    server = Server(lean_bin, source, {}, log_dir, name)
    try:
        server.first_correct_answer()
        assert post(server.url, batch, timeout=60)[0] == 200  # numpy imported, tables built
        alone = wrk(server.url, ADELIE, duration, connections)
        stop, answered, failed = threading.Event(), [0], [0]

        def batches() -> None:
            while not stop.is_set():
                status, _ = post(server.url, batch, timeout=120)
                answered[0] += status == 200
                failed[0] += status != 200

        worker = threading.Thread(target=batches, daemon=True)
        worker.start()
        during = wrk(server.url, ADELIE, duration, connections)
        stop.set()
        worker.join(timeout=120)
    finally:
        server.stop()
    return {"alone": alone, "during": during, "batches": answered[0], "batch_errors": failed[0]}


def report(figures: dict, label: str = "ours") -> str:
    alone, during = figures["alone"], figures["during"]
    return (
        f"{label}: singles alone p50 {alone['p50_ms']} ms, p99 {alone['p99_ms']} ms, {alone['rps']:.0f}/s; "
        f"beside {BATCH_SIZE:,}-row batches back to back ({figures['batches']} answered): "
        f"p50 {during['p50_ms']} ms, p99 {during['p99_ms']} ms, {during['rps']:.0f}/s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lean", type=Path, required=True, help="bin folder of a venv of function/requirements.txt")
    parser.add_argument("--duration", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-mixed-") as scratch:
        print(report(singles_during_batches(args.lean, OURS_SOURCE, Path(scratch), args.duration)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
