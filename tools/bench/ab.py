"""What a change cost: a git revision against the working tree, paired, in one run.

`make bench` divides ours by the framework floor, and that ratio moves by about 0.05 from run to run here,
more than most changes cost. This compares the two versions of ours head to head instead, each server
started cold on CPU 0 and loaded from CPU 1, the one that goes first alternating by round:
  rps     POST /predict requests/s under wrk (the seed's Adelie), --rounds rounds, the median of new / old
  bulk    rows/s of one 10,000-row request in each bulk format (JSON, CSV, BigQuery, V2), server-side, the
          best of up to 3 rounds taking turns (each round: a fresh server, the best of 10 requests): the work
          is the same every time, so a slower answer is the machine's doing, and the best is the code's
  mixed   single predictions' p50/p99 alone and beside back-to-back 10,000-row batches (tools/bench/mixed.py)

  python -m tools.bench.ab --lean .venv-lean/bin --old HEAD~1 [--measure rps,bulk,mixed]   (make ab OLD=HEAD~1)
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.bench.benchmark import BATCH_SIZE, JSON_HEADERS, OURS_SOURCE, ROOT, Server, load, post
from tools.bench.formats import bigquery_body, csv_body
from tools.bench.mixed import report as mixed_report
from tools.bench.mixed import singles_during_batches
from tools.examples import field_penguins
from tools.v2_client import INFER, request_body
from training.cli import at_least, commands, venv_bin

MEASURES = ("rps", "bulk", "mixed")


def checkout(revision: str, folder: Path) -> Path:
    """The revision's tree in a detached worktree under folder; its function's main.py."""
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(folder), revision], check=True)
    return folder / "function" / "main.py"


def bulk_bodies(count: int = BATCH_SIZE) -> dict[str, tuple[str, bytes, dict[str, str]]]:
    """Each bulk way in: its path, the same field penguins as its body, and its headers."""
    penguins = field_penguins(count)
    return {
        "json batch": ("/predict", json.dumps({"instances": penguins}).encode(), JSON_HEADERS),
        "csv as csv": ("/predict", csv_body(penguins), {"Content-Type": "text/csv", "Accept": "text/csv"}),
        "bigquery": ("/predict", bigquery_body(penguins), JSON_HEADERS),
        "v2 binary": (INFER, *request_body(penguins)),
    }


def bulk_rows_per_s(lean: Path, source: Path, log_dir: Path, name: str, repeats: int = 10) -> dict[str, float]:
    """Rows/s of each bulk way in, from the best server-side latency the function logged (after a warm-up)."""
    server = Server(lean, source, {}, log_dir, name)
    rates = {}
    try:
        server.first_correct_answer()
        base = server.url.removesuffix("/predict")
        for way, (path, body, headers) in bulk_bodies().items():
            for _ in range(repeats + 1):
                status, answer = post(base + path, body, timeout=120, headers=headers)
                assert status == 200, f"{name} {way}: {status} {answer[:200]!r}"
            lines = [json.loads(line) for line in server.log_path.read_text().split("\n") if '"httpRequest"' in line]
            best = min(float(line["httpRequest"]["latency"].rstrip("s")) for line in lines[-repeats:])
            rates[way] = round(BATCH_SIZE / best)
    finally:
        server.stop()
    return rates


@commands("python -m tools.bench.ab")
def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench.ab", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--lean",
        type=lambda path: Path(venv_bin(path)),
        required=True,
        help="bin folder of a venv of function/requirements.txt",
    )
    parser.add_argument("--old", required=True, help="the git revision to compare the working tree with")
    parser.add_argument("--rounds", type=at_least(1), default=6)
    parser.add_argument("--duration", type=at_least(1), default=10, help="seconds of wrk load per server and round")
    parser.add_argument("--connections", type=at_least(1), default=8)
    parser.add_argument("--measure", default="rps", help=f"comma-separated, of {', '.join(MEASURES)}")
    args = parser.parse_args()
    measures = [m.strip() for m in args.measure.split(",") if m.strip()]
    unknown = [m for m in measures if m not in MEASURES]
    if unknown:
        parser.error(f"--measure takes {', '.join(MEASURES)}; got {', '.join(unknown)}")
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as scratch:
        old_source = checkout(args.old, Path(scratch) / "old")
        try:
            # Bytecode ahead for both, as a deployed function has it (this machine sets PYTHONDONTWRITEBYTECODE).
            for source in (old_source, OURS_SOURCE):
                subprocess.run([str(args.lean / "python"), "-m", "compileall", "-q", str(source.parent)], check=True)
            sources = {"old": old_source, "new": OURS_SOURCE}
            print(f"{args.old} (old) against the working tree (new): {', '.join(measures)}")
            if "rps" in measures and _rps(args, sources, Path(scratch)) != 0:
                return 1
            if "bulk" in measures:
                _bulk(args, sources, Path(scratch))
            if "mixed" in measures:
                for name in ("old", "new"):
                    figures = singles_during_batches(args.lean, sources[name], Path(scratch), args.duration)
                    print(mixed_report(figures, name), flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(Path(scratch) / "old")])
    return 0


def _bulk(args: argparse.Namespace, sources: dict[str, Path], scratch: Path) -> None:
    """Each bulk way in, old and new taking turns for min(--rounds, 3) rounds: the best round's rows/s."""
    rounds = min(args.rounds, 3)
    rates: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
    for round_ in range(rounds):
        for name in ["old", "new"] if round_ % 2 == 0 else ["new", "old"]:
            rates[name].append(bulk_rows_per_s(args.lean, sources[name], scratch, name))
    for way in rates["new"][0]:
        old = max(r[way] for r in rates["old"])
        new = max(r[way] for r in rates["new"])
        each = ", ".join(f"{n[way] / o[way]:.2f}" for o, n in zip(rates["old"], rates["new"]))
        figures = f"old {old:,.0f} rows/s, new {new:,.0f} rows/s (the best of {rounds} rounds)"
        print(f"bulk {way}: {figures}, new / old {new / old:.2f} (each round: {each})")


def _rps(args: argparse.Namespace, sources: dict[str, Path], scratch: Path) -> int:
    ratios = []
    for round_ in range(args.rounds):
        order = ["old", "new"] if round_ % 2 == 0 else ["new", "old"]
        rps = {}
        for name in order:
            result = load(args.lean, sources[name], scratch, name, args.duration, args.connections)
            if result["errors"] or not result["rps"]:
                print(f"{name} answered {result['errors']} non-2xx under load", file=sys.stderr)
                return 1
            rps[name] = result["rps"]
        ratios.append(rps["new"] / rps["old"])
        print(f"round {round_ + 1}: old {rps['old']:.0f}, new {rps['new']:.0f} requests/s, new / old {ratios[-1]:.3f}")
    print(f"median new / old over {len(ratios)} rounds: {statistics.median(ratios):.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
