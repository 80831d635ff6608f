"""`make serve-gcs` (python -m tools.serve_gcs): the cloud flow locally, on fake-gcs-server."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.gcs_emulator import FakeGcs
from tools.procs import function_command

ROOT = Path(__file__).resolve().parent.parent


def serve_function_on_fake_gcs(gcs_port: int, function_port: int, bucket: str, prefix: str) -> int:
    """`make serve-gcs`: fake-gcs-server, the bundled model published to it, the function serving from it."""
    from google.cloud import storage

    from training.publish import publish

    data_dir = Path(tempfile.mkdtemp(prefix="fake-gcs-"))
    gcs = FakeGcs(gcs_port, data_dir / "fake-gcs.log", backend_dir=data_dir / "data")
    gcs.start()
    os.environ["STORAGE_EMULATOR_HOST"] = gcs.url
    uri = f"gs://{bucket}/{prefix}"
    try:
        client = storage.Client()
        client.create_bucket(bucket)
        version = publish(str(ROOT / "function" / "model"), uri, client)
        print(
            f"fake-gcs-server on {gcs.url} (log {gcs.log_path}); published {version} to {uri}\n"
            f"  try: STORAGE_EMULATOR_HOST={gcs.url} python -m training versions {uri}",
            flush=True,
        )
        env = {**os.environ, "MODEL_URI": uri, "MODEL_EXPECTED_VERSION": version}  # as deploy.sh sets them
        function = subprocess.Popen(
            function_command(function_port),
            env=env,
        )
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so `kill` also runs the clean-up below
        try:
            return function.wait()
        finally:
            function.terminate()
            function.wait(10)
    except KeyboardInterrupt:
        return 0
    finally:
        gcs.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=serve_function_on_fake_gcs.__doc__)
    parser.add_argument("--gcs-port", type=int, default=4443)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--bucket", default="penguin-models")
    parser.add_argument("--prefix", default="penguins")
    args = parser.parse_args()
    raise SystemExit(serve_function_on_fake_gcs(args.gcs_port, args.port, args.bucket, args.prefix))
