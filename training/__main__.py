"""Command line for training and publishing.

python -m training train --out DIR [--seed N]           train, evaluate, write an artifact
python -m training publish DIR gs://BUCKET/PREFIX        upload it and make it current, if the gate allows
python -m training promote gs://BUCKET/PREFIX VERSION    make an uploaded version current, if the gate allows
python -m training versions gs://BUCKET/PREFIX           list versions, * marks the current one
python -m training drift SOURCE... [--reference DIR] [--out DIR]   drift of logged traffic against training
python -m training compare A B                           the promotion gate's table: B as a candidate to replace A
python -m training tune [--small] [--adopt]              nested cross-validation of a small grid
"""

from __future__ import annotations

import argparse
import sys

from penguins.errors import PenguinError

from .cli import CommandError, at_least, commands, existing_file, existing_folder, output_folder

FORCE_HELP = "make it current even if the promotion gate refuses it (the pointer records that)"
# `compare`'s exit status when the candidate would be refused (1 is an error, 2 a usage error).
REFUSED_EXIT = 3


@commands("python -m training")
def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the subcommand; a mistake prints one sentence (exit 1, or 2 for usage)."""
    parser = argparse.ArgumentParser(
        prog="python -m training", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train_cmd = commands.add_parser("train", help="train, evaluate and write an artifact")
    train_cmd.add_argument("--out", required=True, type=output_folder, help="folder to write the artifact into")
    train_cmd.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    publish_cmd = commands.add_parser("publish", help="upload an artifact and point current.json at it")
    publish_cmd.add_argument("artifact_dir", type=existing_folder)
    publish_cmd.add_argument("uri", help="gs://BUCKET/PREFIX")
    publish_cmd.add_argument("--force", action="store_true", help=FORCE_HELP)
    promote_cmd = commands.add_parser("promote", help="point current.json at an uploaded version")
    promote_cmd.add_argument("uri", help="gs://BUCKET/PREFIX")
    promote_cmd.add_argument("version")
    promote_cmd.add_argument("--force", action="store_true", help=FORCE_HELP)
    compare_cmd = commands.add_parser("compare", help="the promotion gate's table for two artifacts")
    compare_cmd.add_argument(
        "current", help="artifact folder, gs://BUCKET/PREFIX or gs://BUCKET/PREFIX/artifacts/VERSION"
    )
    compare_cmd.add_argument("candidate", help="the same forms")
    versions_cmd = commands.add_parser("versions", help="list the uploaded versions")
    versions_cmd.add_argument("uri", help="gs://BUCKET/PREFIX")
    drift_cmd = commands.add_parser(
        "drift", help="compare the function's request lines with the training data (exit 0 ok, 1 drift, 2 unusable)"
    )
    drift_cmd.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        type=_log_source,
        help="log files: JSON lines or gcloud's JSON array; - for stdin",
    )
    drift_cmd.add_argument(
        "--reference", default=None, type=existing_folder, help="artifact folder (default: the bundled function/model)"
    )
    drift_cmd.add_argument(
        "--out", default="reports/drift", type=output_folder, help="folder for drift.json and drift.html"
    )
    drift_cmd.add_argument("--min-predictions", type=at_least(1), default=None, help="fewer says insufficient data")
    tune_cmd = commands.add_parser("tune", help="nested cross-validation; --adopt makes the choice the default")
    tune_cmd.add_argument("--small", action="store_true", help="a tiny grid (for a quick check)")
    tune_cmd.add_argument(
        "--adopt", action="store_true", help="record the evidence in training/defaults.json; adopt the choice if better"
    )
    tune_cmd.add_argument("--seed", type=int, default=0, help="random seed of the folds and fits (default 0)")
    tune_cmd.add_argument("--outer-folds", type=at_least(2), default=5)
    tune_cmd.add_argument("--inner-folds", type=at_least(2), default=3)
    args = parser.parse_args(argv)

    try:
        return _run(args)
    except PenguinError as exc:  # includes PublishError's siblings from the serving package
        raise CommandError(str(exc)) from None


def _log_source(path: str) -> str:
    return path if path == "-" else existing_file(path)


def _run(args: argparse.Namespace) -> int:
    if args.command == "train":
        from .train import train

        artifact = train(args.out, seed=args.seed)
        metrics = artifact.manifest["metrics"]
        print(
            f"wrote model {artifact.version} to {args.out}: cross-validated accuracy "
            f"{metrics['accuracy']['mean']:.4f}, macro F1 {metrics['macro_f1']['mean']:.4f}, "
            f"log loss {metrics['log_loss']['mean']:.4f}"
        )
        return 0
    if args.command == "drift":
        from penguins.settings import BUNDLED_MODEL_DIR

        from .drift import MIN_PREDICTIONS, run

        minimum = MIN_PREDICTIONS if args.min_predictions is None else args.min_predictions
        return run(args.sources, args.reference or BUNDLED_MODEL_DIR, args.out, minimum)
    if args.command == "tune":
        return _tune(args)
    if args.command == "compare" and not (args.current + args.candidate).count("gs://"):
        return _compare(args, None)  # two local folders: no storage client needed
    from . import publish as gcs  # google-cloud-storage only for the commands that need it

    def report(text: str) -> None:  # stderr: deploy.sh reads the version alone from stdout
        print(text, file=sys.stderr)

    try:
        if args.command == "publish":
            print(gcs.publish(args.artifact_dir, args.uri, force=args.force, report=report))
        elif args.command == "promote":
            gcs.promote(args.uri, args.version, force=args.force, report=report)
            print(f"{args.uri} now serves {args.version}")
        elif args.command == "compare":
            return _compare(args, gcs)
        else:
            print(gcs.format_versions(gcs.versions(args.uri)))
    except gcs.PublishError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except gcs.DefaultCredentialsError:
        print(
            "error: no Google Cloud credentials: run `gcloud auth application-default login` "
            "(or set STORAGE_EMULATOR_HOST for a local emulator)",
            file=sys.stderr,
        )
        return 1
    except (gcs.api.GoogleAPIError, OSError) as exc:  # OSError covers requests' connection errors
        print(f"error: Cloud Storage failed: {str(exc)[:300]}", file=sys.stderr)
        return 1
    return 0


def _compare(args: argparse.Namespace, gcs) -> int:
    from .gate import compare, format_comparison, read_unchecked_dir

    load = gcs.load_for_comparison if gcs else read_unchecked_dir
    comparison = compare(load(args.current), load(args.candidate))
    print(format_comparison(comparison))
    return REFUSED_EXIT if comparison.refused else 0


def _tune(args: argparse.Namespace) -> int:
    from . import tune

    grid, rounds = (tune.SMALL_GRID, tune.SMALL_ROUNDS) if args.small else (tune.FULL_GRID, tune.FULL_ROUNDS)
    evidence = tune.nested_cv(grid, rounds, args.seed, args.outer_folds, args.inner_folds)
    print(tune.summary(evidence))
    if args.adopt:
        adopted = tune.adopt(evidence)
        print(
            f"{tune.DEFAULTS_FILE}: the chosen configuration is the default now: retrain with `make model`"
            if adopted
            else f"{tune.DEFAULTS_FILE}: the evidence recorded, the default kept"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
