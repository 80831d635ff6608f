"""`make bench` for the gs:// configuration as deployed: cold start and memory beside the bundled model.

Also run alone inside the lean venv (`python -m tools.bench.gcs --parts` from the root, STORAGE_EMULATOR_HOST and
MODEL_URI set): what each part of the storage path costs at start, after the server's own imports, as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
BUCKET = "bench"
MODEL_URI = f"gs://{BUCKET}/penguins"
FLOOR_SOURCE = ROOT / "tools" / "bench" / "peers" / "floor_function.py"


def gcs_environment(log_dir: Path) -> tuple[object, dict[str, str]]:
    """fake-gcs-server with the bundled model published, and the function's environment as deploy.sh sets it."""
    from google.cloud import storage

    from tools.gcs_emulator import FakeGcs
    from tools.procs import free_port
    from training.publish import publish

    gcs = FakeGcs(free_port(), log_dir / "fake-gcs.log")
    gcs.start()
    os.environ["STORAGE_EMULATOR_HOST"] = gcs.url
    client = storage.Client()
    client.create_bucket(BUCKET)
    version = publish(str(ROOT / "function" / "model"), MODEL_URI, client)
    return gcs, {"MODEL_URI": MODEL_URI, "STORAGE_EMULATOR_HOST": gcs.url, "MODEL_EXPECTED_VERSION": version}


def gcs_figures(
    lean_bin: Path,
    log_dir: Path,
    runs: int,
    cold_start: Callable[..., float],
    load: Callable[..., dict],
    load_args: tuple[int, int],
) -> dict:
    """Cold starts from fake-gcs-server with and without MODEL_EXPECTED_VERSION, memory after load, the parts.

    The load runs right after a floor's, and the gs:// figures are against that floor (the machine drifts).
    """
    source = ROOT / "function" / "main.py"
    gcs, env = gcs_environment(log_dir)
    downloading = {k: v for k, v in env.items() if k != "MODEL_EXPECTED_VERSION"}
    try:
        figures = {
            "cold_start_deployed": cold_start(lean_bin, source, env, log_dir, "ours-gcs", runs),
            "cold_start_downloading": cold_start(lean_bin, source, downloading, log_dir, "ours-gcs-download", runs),
            "floor_load": load(lean_bin, FLOOR_SOURCE, log_dir, "floor", *load_args),
            "load": load(lean_bin, source, log_dir, "ours-gcs", *load_args, env=env),
            "parts": storage_parts(lean_bin, downloading),
        }
    finally:
        gcs.stop()
    return figures


def storage_parts(lean_bin: Path, env: dict[str, str]) -> list[dict]:
    """Run this file's --parts mode in the lean venv, pinned to CPU 0 like the servers."""
    out = subprocess.run(
        ["taskset", "-c", "0", str(lean_bin / "python"), "-m", "tools.bench.gcs", "--parts"],
        cwd=ROOT,  # the lean venv has only the function's own set: tools is found from here
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def _measure_parts() -> list[dict]:
    """Each step of a cold download through penguins.store, timed and with the resident memory it adds."""
    import tempfile

    import functions_framework  # the server has these already: not the storage path's cost

    functions_framework.create_app("predict", str(ROOT / "function" / "main.py"))  # imports main, as it serves

    from penguins import store

    parts: list[dict] = []
    started, rss = time.perf_counter(), _rss_mb()

    def step(name: str) -> None:
        nonlocal started, rss
        now, now_rss = time.perf_counter(), _rss_mb()
        parts.append({"part": name, "ms": round((now - started) * 1e3, 1), "mb": round(now_rss - rss, 1)})
        started, rss = time.perf_counter(), _rss_mb()

    store._storage_module()
    step("import google.cloud.storage")
    source = store.GcsSource(os.environ["MODEL_URI"], tempfile.mkdtemp(prefix="bench-parts-"))
    source._bucket()
    step("storage.Client() (credentials: anonymous against the emulator)")
    source.pointer_generation()
    step("current.json's metadata (the refresh check)")
    version, _ = source.read_pointer()
    step("current.json read")
    files = {}
    for filename in store.ARTIFACT_FILES:
        name = source.location.artifact_file(version, filename)
        blob = source._bucket().blob(name)  # as GcsSource.fetch_version reads it, crc32c checked by the client
        files[filename] = blob.download_as_bytes(checksum="auto", **source._call_options())
        step(f"{filename} read ({len(files[filename]) / 1024:.0f} KB)")
    store.parse_artifact(files[store.MANIFEST_FILE], files[store.MODEL_FILE])
    step("sha256 and manifest verified")
    return parts


if __name__ == "__main__" and sys.argv[1:] == ["--parts"]:
    print(json.dumps(_measure_parts()))
