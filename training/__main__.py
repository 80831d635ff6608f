"""Command line for training and publishing.

python -m training train --out DIR [--seed N]           train, evaluate, write an artifact
python -m training publish DIR gs://BUCKET/PREFIX        upload it and make it current
python -m training promote gs://BUCKET/PREFIX VERSION    make an uploaded version current
python -m training versions gs://BUCKET/PREFIX           list versions, * marks the current one
python -m training drift SOURCE... [--reference DIR] [--out DIR]   drift of logged traffic against training
"""

from __future__ import annotations

import argparse
import sys

from penguins.errors import PenguinError


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the subcommand; errors print one line and exit 1."""
    parser = argparse.ArgumentParser(
        prog="python -m training", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train_cmd = commands.add_parser("train", help="train, evaluate and write an artifact")
    train_cmd.add_argument("--out", required=True, help="folder to write the artifact into")
    train_cmd.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    publish_cmd = commands.add_parser("publish", help="upload an artifact and point current.json at it")
    publish_cmd.add_argument("artifact_dir")
    publish_cmd.add_argument("uri", help="gs://BUCKET/PREFIX")
    promote_cmd = commands.add_parser("promote", help="point current.json at an uploaded version")
    promote_cmd.add_argument("uri", help="gs://BUCKET/PREFIX")
    promote_cmd.add_argument("version")
    versions_cmd = commands.add_parser("versions", help="list the uploaded versions")
    versions_cmd.add_argument("uri", help="gs://BUCKET/PREFIX")
    drift_cmd = commands.add_parser(
        "drift", help="compare the function's request lines with the training data (exit 0 ok, 1 drift, 2 unusable)"
    )
    drift_cmd.add_argument(
        "sources", nargs="+", metavar="SOURCE", help="log files: JSON lines or gcloud's JSON array; - for stdin"
    )
    drift_cmd.add_argument("--reference", default=None, help="artifact folder (default: the bundled function/model)")
    drift_cmd.add_argument("--out", default="reports/drift", help="folder for drift.json and drift.html")
    drift_cmd.add_argument("--min-predictions", type=int, default=None, help="fewer says insufficient data")
    args = parser.parse_args(argv)

    try:
        return _run(args)
    except PenguinError as exc:  # includes PublishError's siblings from the serving package
        print(f"error: {exc}", file=sys.stderr)
        return 1


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
    from . import publish as gcs  # google-cloud-storage only for the commands that need it

    try:
        if args.command == "publish":
            print(gcs.publish(args.artifact_dir, args.uri))
        elif args.command == "promote":
            gcs.promote(args.uri, args.version)
            print(f"{args.uri} now serves {args.version}")
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


if __name__ == "__main__":
    sys.exit(main())
