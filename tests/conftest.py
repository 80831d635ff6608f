"""Shared fixtures: isolated environment, the real Functions Framework app and server, small real models."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from procs import free_port, function_command, stop_process_group

ROOT = Path(__file__).resolve().parent.parent
FUNCTION_DIR = ROOT / "function"
MAIN = FUNCTION_DIR / "main.py"
BUNDLED_MODEL = FUNCTION_DIR / "model"
ENV_VARS = (
    "MODEL_URI",
    "MODEL_FALLBACK",
    "MODEL_LOAD_TIMEOUT_SECONDS",
    "MODEL_REFRESH_SECONDS",
    "MODEL_CACHE_DIR",
    "MODEL_EXPECTED_VERSION",
    "MAX_BATCH_SIZE",
    "MAX_BODY_BYTES",
    "LOG_INPUTS_FRACTION",
    "GOOGLE_CLOUD_PROJECT",
    "GCP_PROJECT",
    "STORAGE_EMULATOR_HOST",
    # Where the storage reader gets a token (function/penguins/gcs_reader.py): none leaks in from the machine.
    "GCE_METADATA_HOST",
    "GCE_METADATA_IP",
    "K_SERVICE",
    "GOOGLE_APPLICATION_CREDENTIALS",
)

from examples import ADELIE, SEED_EXAMPLES  # noqa: E402, F401 (the tests import them from here)


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", help="run the long versions of tests marked slow")


# The files that take longest (whole deploys with the real gcloud, load and property tests), longest
# first: pytest-xdist hands out files in this order (--dist loadfile), so they start at once on every
# worker and the short files fill in at the end, instead of one long file starting last and running alone.
LONGEST_FILES = (
    "test_rollout.py",
    "test_deploy.py",
    "test_generated.py",
    "test_load.py",
    "test_page.py",
    "test_monitoring.py",
    "test_deploy_bigquery.py",
    "test_gcs.py",
)


def pytest_collection_modifyitems(config, items):
    """Longest files first (LONGEST_FILES); tests marked long_only are deselected unless --run-slow."""
    rank = {name: index for index, name in enumerate(LONGEST_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file keeps its order
    if config.getoption("--run-slow"):
        return
    long_only = [item for item in items if item.get_closest_marker("long_only")]
    if long_only:  # not skipped: not run at all (make test-slow runs them)
        config.hook.pytest_deselected(items=long_only)
        items[:] = [item for item in items if not item.get_closest_marker("long_only")]


def pytest_sessionfinish(session, exitstatus):
    """A skipped test fails the run: every test needs only what `make test` installs, so a skip hides a gap."""
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller sees every report
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and exitstatus == pytest.ExitCode.OK:
        reporter.write_line(
            f"FAILED: {len(skipped)} test(s) skipped; install what they need (scripts/test-tools.sh) or fix them",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def long_run(request) -> bool:
    """True under --run-slow: slow tests scale up to their full size."""
    return request.config.getoption("--run-slow")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No test sees another's (or the developer's) configuration, nor another's downloaded models."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path / "model-cache"))


@pytest.fixture
def make_client(monkeypatch):
    """Build the real Functions Framework app (fresh module state) with extra environment variables."""
    import functions_framework

    def build(**env: str):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return functions_framework.create_app("predict", str(MAIN)).test_client()

    return build


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture(scope="session")
def small_artifact(tmp_path_factory):
    """A small real model trained by training/ into a temporary folder (one CV repeat, few rounds)."""
    from training.train import train

    out = tmp_path_factory.mktemp("small-model")
    artifact = train(str(out), seed=7, n_repeats=1, num_rounds=10)
    return out, artifact


class Server:
    """A real functions-framework process on a free loopback port."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        full_env = {**os.environ, **env}  # os.environ is already isolated by _isolated_env
        self._log = open(log_path, "wb")
        self.process = subprocess.Popen(
            function_command(self.port),
            cwd=ROOT,
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_listening(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log_path.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("server did not listen in time")

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None, timeout: float = 30
    ) -> tuple[int, dict, dict]:
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, dict(r.headers), json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), json.loads(e.read())

    def post_json(self, path: str, payload: object, **kw) -> tuple[int, dict, dict]:
        return self.request("POST", path, json.dumps(payload).encode(), {"Content-Type": "application/json"}, **kw)

    def log_lines(self) -> list[dict]:
        lines = []
        for line in self.log_path.read_text().split("\n"):  # not splitlines: it also splits at U+2028 and kin
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines

    def stop(self) -> None:
        stop_process_group(self.process)
        self._log.close()


@pytest.fixture
def start_server(tmp_path):
    """Start real servers with given environment variables; each is stopped (by its pid) afterwards."""
    servers = []

    def start(**env: str) -> Server:
        server = Server(env, tmp_path / f"server-{len(servers)}.log")
        servers.append(server)
        server.wait_listening()
        return server

    yield start
    for server in servers:
        server.stop()


BUCKET = "models"


@pytest.fixture
def gcs(tmp_path, monkeypatch):
    """A fresh fake-gcs-server on a free loopback port with an empty bucket; STORAGE_EMULATOR_HOST points at it."""
    from google.cloud import storage

    from fake_gcs import FakeGcs

    server = FakeGcs(free_port(), tmp_path / "fake-gcs.log", backend_dir=tmp_path / "gcs-data")
    server.start()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", server.url)
    server.client = storage.Client()
    server.client.create_bucket(BUCKET)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def module_server(tmp_path_factory):
    """One real server with the default settings, shared by a module's read-only checks."""
    server = Server({}, tmp_path_factory.mktemp("server") / "server.log")
    try:
        server.wait_listening()
        yield server
    finally:
        server.stop()


def penguin_rows() -> list[dict]:
    """Every penguin of the training data as a request body (sex None when unknown)."""
    from training.data import load_training_data

    return [
        {
            "bill_length_mm": r.bill_length_mm,
            "bill_depth_mm": r.bill_depth_mm,
            "flipper_length_mm": r.flipper_length_mm,
            "body_mass_g": r.body_mass_g,
            "island": r.island,
            "sex": r.sex if isinstance(r.sex, str) else None,
        }
        for r in load_training_data().frame.itertuples(index=False)
    ]


@pytest.fixture
def recording_path(tmp_path) -> tuple[Path, Path]:
    """A PATH whose gcloud, curl and bq only record that they were called."""
    bin_dir, log = tmp_path / "bin", tmp_path / "called.log"
    bin_dir.mkdir()
    for tool in ("gcloud", "curl", "bq"):
        (bin_dir / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> "{log}"\nexit 1\n')
        (bin_dir / tool).chmod(0o755)
    return bin_dir, log
