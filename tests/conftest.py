"""Shared fixtures: isolated environment, the real Functions Framework app and server, small real models."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.asgi_client import AsgiClient
from tests.support.paths import BUCKET, ENV_VARS, MAIN
from tests.support.servers import Server
from tools.procs import free_port


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", help="run the long versions of tests marked slow")


# The files that take longest (whole deploys with the real gcloud, load and property tests), longest
# first: pytest-xdist hands out files in this order (--dist loadfile), so they start at once on every
# worker and the short files fill in at the end, instead of one long file starting last and running alone.
LONGEST_FILES = (
    "test_rollout.py",
    "test_deploy.py",
    "test_deploy_preflight.py",
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
        return AsgiClient(functions_framework.create_app("predict", str(MAIN)))

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


@pytest.fixture
def gcs(tmp_path, monkeypatch):
    """A fresh fake-gcs-server on a free loopback port with an empty bucket; STORAGE_EMULATOR_HOST points at it."""
    from google.cloud import storage

    from tools.gcs_emulator import FakeGcs

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


@pytest.fixture
def recording_path(tmp_path) -> tuple[Path, Path]:
    """A PATH whose gcloud, curl and bq only record that they were called."""
    bin_dir, log = tmp_path / "bin", tmp_path / "called.log"
    bin_dir.mkdir()
    for tool in ("gcloud", "curl", "bq"):
        (bin_dir / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> "{log}"\nexit 1\n')
        (bin_dir / tool).chmod(0o755)
    return bin_dir, log
