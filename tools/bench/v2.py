"""The V2 figures of `make bench`: single-penguin infer against POST /predict, and a 10,000-row infer.

Both send the bytes tritonclient's infer() sends by default (binary inputs, binary outputs), to one server
from the lean venv pinned to CPU 0: rounds of native then V2 under wrk, then bulk requests timed server-side
by the function's own request log. Standalone: `python -m tools.bench.v2 --lean .venv-lean/bin`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from tools.bench.benchmark import (
    BATCH_SIZE,
    JSON_HEADERS,
    OURS_SOURCE,
    Server,
    last_latencies,
    post,
    wrk,
)
from tools.examples import ADELIE, field_penguins, random_penguins
from tools.v2_client import INFER, request_body

SINGLE_GOAL = 0.8  # V2 single-penguin requests/s over POST /predict's, at least
BULK_GOAL = 100_000  # rows/s of one 10,000-row infer, server-side, at least


def _infer_url(server: Server) -> str:
    return server.url.removesuffix("/predict") + INFER


def single_throughput(server: Server, duration: int, connections: int, rounds: int) -> dict:
    """Rounds of wrk on POST /predict then on V2 infer (the seed's Adelie); the round with the median ratio."""
    body, headers = request_body([ADELIE])
    status, answer = post(_infer_url(server), body, headers=headers)
    assert status == 200 and b"Adelie" in answer, answer[:300]
    pairs = [
        (
            wrk(server.url, ADELIE, duration, connections),
            wrk(_infer_url(server), body, duration, connections, headers),
        )
        for _ in range(rounds)
    ]
    ratios = [v2["rps"] / native["rps"] for native, v2 in pairs]
    native, v2 = sorted(pairs, key=lambda pair: pair[1]["rps"] / pair[0]["rps"])[len(pairs) // 2]
    return {
        "native": native,
        "v2": v2,
        "ratios": [round(r, 3) for r in ratios],
        "ratio": round(v2["rps"] / native["rps"], 3),
    }


def _best_server_time(server: Server, url: str, body: bytes, headers: dict[str, str], repeats: int) -> float:
    """The best server-side seconds of repeats requests, after one that pays for numpy's import."""
    for _ in range(repeats + 1):
        status, answer = post(url, body, timeout=60, headers=headers)
        assert status == 200, answer[:300]
    return min(last_latencies(server, repeats + 1)[1:])


def bulk_throughput(server: Server, count: int = BATCH_SIZE, repeats: int = 5) -> dict:
    """One count-row V2 infer, and the same penguins as one native batch, for each workload (formats.py's)."""
    figures = {}
    for workload, penguins in (("field penguins", field_penguins(count)), ("random penguins", random_penguins(count))):
        v2 = _best_server_time(server, _infer_url(server), *request_body(penguins), repeats)
        native_body = json.dumps({"instances": penguins}).encode()
        native = _best_server_time(server, server.url, native_body, JSON_HEADERS, repeats)
        figures[workload] = {
            "rows": count,
            "server_s": round(v2, 4),
            "rows_per_s": round(count / v2),
            "native_server_s": round(native, 4),
            "native_rows_per_s": round(count / native),
        }
    return figures


def measure(lean_bin: Path, log_dir: Path, duration: int, connections: int, rounds: int = 3) -> dict:
    """Both V2 figures from one server of the deployable set."""
    server = Server(lean_bin, OURS_SOURCE, {}, log_dir, "v2")
    try:
        server.first_correct_answer()
        return {"single": single_throughput(server, duration, connections, rounds), "bulk": bulk_throughput(server)}
    finally:
        server.stop()


def report(figures: dict) -> list[str]:
    """The lines make bench prints, each with its goal."""
    single = figures["single"]
    lines = [
        f"V2 infer, one penguin (tritonclient's binary bytes): {single['v2']['rps']:.0f} requests/s against "
        f"POST /predict's {single['native']['rps']:.0f} = {single['ratio']:.2f}x (goal >= {SINGLE_GOAL}x; "
        f"each round: {', '.join(f'{r:.2f}' for r in single['ratios'])}), p50 / p99 {single['v2']['p50_ms']} / "
        f"{single['v2']['p99_ms']} ms, {single['v2']['errors']} errors",
    ]
    for workload, bulk in figures["bulk"].items():
        lines.append(
            f"V2 infer, {bulk['rows']:,} {workload} in one request: {bulk['server_s']} s server-side = "
            f"{bulk['rows_per_s']:,} rows/s (goal >= {BULK_GOAL:,}); the same as one POST /predict batch: "
            f"{bulk['native_server_s']} s = {bulk['native_rows_per_s']:,} rows/s"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lean", required=True, help="bin folder of a venv built from function/requirements.txt")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk load per server and round")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="penguin-bench-v2-"))
    try:
        figures = measure(Path(args.lean), log_dir, args.duration, args.connections, args.rounds)
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)
    print("\n".join(report(figures)))
    print(json.dumps(figures, indent=2))
    bulk = figures["bulk"]["field penguins"]["rows_per_s"]
    return 0 if figures["single"]["ratio"] >= SINGLE_GOAL and bulk >= BULK_GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
