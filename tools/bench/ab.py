"""What a change cost: POST /predict's requests/s at a git revision against the working tree, paired.

`make bench` divides ours by the framework floor, and that ratio moves by about 0.05 from run to run here,
more than most changes cost. This compares the two versions of ours head to head instead: each round
starts both cold on CPU 0 and loads each with wrk on CPU 1 for --duration seconds, the one that goes first
alternating; it prints a line per round and the median of new / old.

  python -m tools.bench.ab --lean .venv-lean/bin --old HEAD~1      (make ab OLD=HEAD~1)
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.bench.benchmark import OURS_SOURCE, ROOT, load


def checkout(revision: str, folder: Path) -> Path:
    """The revision's tree in a detached worktree under folder; its function's main.py."""
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(folder), revision], check=True)
    return folder / "function" / "main.py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lean", type=Path, required=True, help="bin folder of a venv of function/requirements.txt")
    parser.add_argument("--old", required=True, help="the git revision to compare the working tree with")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk load per server and round")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as scratch:
        old_source = checkout(args.old, Path(scratch) / "old")
        try:
            # Bytecode ahead for both, as a deployed function has it (this machine sets PYTHONDONTWRITEBYTECODE).
            subprocess.run([str(args.lean / "python"), "-m", "compileall", "-q", str(old_source.parent)], check=True)
            subprocess.run([str(args.lean / "python"), "-m", "compileall", "-q", str(OURS_SOURCE.parent)], check=True)
            sources = {"old": old_source, "new": OURS_SOURCE}
            print(f"{args.old} (old) against the working tree (new), {args.rounds} rounds of {args.duration} s each")
            ratios = []
            for round_ in range(args.rounds):
                order = ["old", "new"] if round_ % 2 == 0 else ["new", "old"]
                rps = {}
                for name in order:
                    result = load(args.lean, sources[name], Path(scratch), name, args.duration, args.connections)
                    if result["errors"] or not result["rps"]:
                        print(f"{name} answered {result['errors']} non-2xx under load", file=sys.stderr)
                        return 1
                    rps[name] = result["rps"]
                ratios.append(rps["new"] / rps["old"])
                figures = f"old {rps['old']:.0f}, new {rps['new']:.0f} requests/s, new / old {ratios[-1]:.3f}"
                print(f"round {round_ + 1}: {figures}", flush=True)
            print(f"median new / old over {len(ratios)} rounds: {statistics.median(ratios):.3f}")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(Path(scratch) / "old")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
