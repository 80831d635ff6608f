"""Traffic for the drift report: real penguins (or shifted ones) sent to a real function; `make drift` runs it.

python -m tools.drift_traffic [--shift] [--penguins N] [--out DIR]: serves function/ on a free loopback
port with its log in DIR/serve.log, sends the penguins (singles and a batch), stops it, and runs
`python -m training drift` on that log (its exit status is this script's).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tools.examples import field_penguins
from tools.procs import free_port, function_command, stop_process_group

ROOT = Path(__file__).resolve().parent.parent

HEAVIER_G = 900  # shifted birds: this much heavier (within the hard limit)
SHIFTED_ISLANDS = {"Torgersen": 0.6, "Dream": 0.4}  # and another island mix: no Biscoe at all


def shifted(penguins: list[dict], seed: int) -> list[dict]:
    """The same birds, HEAVIER_G heavier, on another island mix; bills, flippers and sex unchanged."""
    rng = random.Random(seed)
    islands, weights = list(SHIFTED_ISLANDS), list(SHIFTED_ISLANDS.values())
    return [
        {**p, "body_mass_g": min(p["body_mass_g"] + HEAVIER_G, 7000), "island": rng.choices(islands, weights)[0]}
        for p in penguins
    ]


def post(url: str, payload: object) -> int:
    request = urllib.request.Request(
        url + "/predict", json.dumps(payload).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
        return response.status


def send(url: str, penguins: list[dict], batch: int = 0) -> None:
    """POST each penguin on its own, the last `batch` of them as one {"instances": [...]} request."""
    singles = penguins[: len(penguins) - batch]
    for penguin in singles:
        post(url, penguin)
    if batch:
        post(url, {"instances": penguins[len(singles) :]})


def wait_listening(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the function did not start: see its log")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shift", action="store_true", help=f"send them {HEAVIER_G} g heavier, on other islands")
    parser.add_argument("--penguins", type=int, default=400, help="how many (default 400)")
    parser.add_argument("--out", default=str(ROOT / "reports" / "drift"), help="report folder")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    log_path = Path(args.out) / "serve.log"
    port = free_port()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            function_command(port), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_listening(port, process)
            penguins = field_penguins(args.penguins, seed=1)
            penguins = shifted(penguins, seed=2) if args.shift else penguins
            print(f"sending {len(penguins)} {'shifted' if args.shift else 'real'} penguins to 127.0.0.1:{port}")
            send(f"http://127.0.0.1:{port}", penguins, batch=min(50, len(penguins) // 4))
        finally:
            stop_process_group(process)
    print(f"the function's log: {log_path}")
    drift = [sys.executable, "-m", "training", "drift", str(log_path), "--out", args.out]
    return subprocess.run(drift, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
