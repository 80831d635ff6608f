"""Command line: python -m training train --out DIR [--seed N]."""

from __future__ import annotations

import argparse
import sys

from .train import train


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the subcommand."""
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    train_cmd = commands.add_parser("train", help="train, evaluate and write an artifact")
    train_cmd.add_argument("--out", required=True, help="folder to write the artifact into")
    train_cmd.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)

    if args.command == "train":
        artifact = train(args.out, seed=args.seed)
        metrics = artifact.manifest["metrics"]
        print(f"wrote model {artifact.version} to {args.out}: cross-validated accuracy "
              f"{metrics['accuracy']['mean']:.4f}, macro F1 {metrics['macro_f1']['mean']:.4f}, "
              f"log loss {metrics['log_loss']['mean']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
