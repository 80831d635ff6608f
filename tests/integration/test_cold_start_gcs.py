"""Cold starts as deployed (MODEL_URI=gs://..., MODEL_EXPECTED_VERSION from deploy.sh) against fake-gcs-server."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from penguins.artifact import read_artifact_dir
from tests.support.gcs import URI, post, wait_for
from tests.support.paths import BUNDLED_MODEL
from tools.examples import ADELIE
from training.publish import publish

BUNDLED_VERSION = read_artifact_dir(str(BUNDLED_MODEL)).version  # computed: the bundled model gets retrained


def settled_health(client, version: str) -> dict:
    """/health once the given version answers from the bucket's artifact (the background attempt is done)."""
    return wait_for(
        lambda: (health := client.get("/health").get_json())["model"]["source"] == f"{URI}/artifacts/{version}"
        and health,
        timeout=15,
    )


@pytest.mark.parametrize(
    ("expected", "pointer", "first_source", "downloads"),
    [
        # The deploy's version is the bundled one and the pointer still names it: no wait, no download.
        ("bundled", "bundled", "bundled", 0),
        # Published since the deploy: the bundled copy answers first, the new version replaces it.
        ("bundled", "small", "bundled", 1),
        # The deploy published another artifact than the bundled one: the cold start loads it from the bucket.
        ("small", "small", "gcs", 1),
    ],
    ids=["pointer-unmoved", "published-since-deploy", "bundled-is-another-version"],
)
def test_which_model_a_cold_start_answers_with(
    gcs, make_client, small_artifact, capsys, expected, pointer, first_source, downloads
):
    versions = {"bundled": publish(str(BUNDLED_MODEL), URI, gcs.client)}
    if "small" in (expected, pointer):
        versions["small"] = publish(str(small_artifact[0]), URI, gcs.client, force=True)
    client = make_client(MODEL_URI=URI, MODEL_EXPECTED_VERSION=versions[expected])
    response = post(client)
    assert response.status_code == 200
    first = response.headers["X-Model-Source"]
    assert first == ("bundled" if first_source == "bundled" else f"{URI}/artifacts/{versions[pointer]}")
    health = settled_health(client, versions[pointer])
    assert health["status"] == "ok" and health["model"]["version"] == versions[pointer]
    assert f"current.json names {versions[pointer]}" in health["why"]
    assert ("nothing was downloaded" in health["why"]) == (downloads == 0)
    assert post(client).get_json()["model_version"] == versions[pointer]
    assert capsys.readouterr().out.count(f"downloaded {versions[pointer]}") == downloads


def test_a_cold_start_with_the_expected_version_does_not_wait_for_frozen_storage(gcs, make_client):
    version = publish(str(BUNDLED_MODEL), URI, gcs.client)
    gcs.freeze()
    try:
        client = make_client(MODEL_URI=URI, MODEL_EXPECTED_VERSION=version)
        started = time.monotonic()
        response = post(client)
        elapsed = time.monotonic() - started
        health = client.get("/health").get_json()
    finally:
        gcs.thaw()
    assert response.status_code == 200 and response.get_json()["model_version"] == version
    assert elapsed < 1  # without MODEL_EXPECTED_VERSION this waits up to MODEL_LOAD_TIMEOUT_SECONDS (10 s)
    assert health["status"] == "ok" and health["model"]["source"] == "bundled"
    assert "read in the background" in health["why"]
    assert settled_health(client, version)["status"] == "ok"  # thawed, the pointer is read: unmoved


def test_storage_down_the_deployed_version_answers_and_health_says_degraded(gcs, make_client):
    version = publish(str(BUNDLED_MODEL), URI, gcs.client)
    gcs.stop()
    client = make_client(MODEL_URI=URI, MODEL_EXPECTED_VERSION=version, MODEL_FALLBACK="none")
    assert post(client).get_json()["model_version"] == version
    degraded = wait_for(lambda: (h := client.get("/health").get_json())["status"] == "degraded" and h, timeout=15)
    assert "did not answer" in degraded["reason"] and degraded["model"]["version"] == version
    assert "127.0.0.1" not in json.dumps(degraded)


def test_a_model_published_after_the_deploy_is_served_within_the_refresh_interval_of_a_cold_start(
    gcs, start_server, small_artifact
):
    deployed = publish(str(BUNDLED_MODEL), URI, gcs.client)  # what deploy.sh publishes and passes on
    newer = publish(
        str(small_artifact[0]), URI, gcs.client, force=True
    )  # published after the deploy, before this start
    refresh_seconds = 8  # a loaded 2-CPU machine takes seconds to import google-cloud-storage
    server = start_server(MODEL_URI=URI, MODEL_EXPECTED_VERSION=deployed, MODEL_REFRESH_SECONDS=str(refresh_seconds))
    started = time.monotonic()
    seen = []

    def newer_served() -> bool:
        status, headers, body = server.post_json("/predict", ADELIE)
        seen.append((status, body.get("model_version")))
        return body.get("model_version") == newer

    wait_for(newer_served, timeout=refresh_seconds * 2, interval=0.02)
    assert time.monotonic() - started < refresh_seconds
    assert {status for status, _ in seen} == {200}
    assert {version for _, version in seen} <= {deployed, newer}
    assert server.post_json("/predict", ADELIE)[1]["X-Model-Source"] == f"{URI}/artifacts/{newer}"


@pytest.mark.parametrize("value", ["latest", "ABCDEF012345", "abcdef01234", "../../etc/x"])
def test_a_malformed_expected_version_is_refused_at_start(make_client, value):
    from penguins.errors import SettingsError

    with pytest.raises(SettingsError, match="MODEL_EXPECTED_VERSION"):
        make_client(MODEL_URI=URI, MODEL_EXPECTED_VERSION=value)


def test_the_storage_path_benchmark_times_each_part_of_a_real_download(gcs):
    from tools.bench.gcs import storage_parts

    publish(str(BUNDLED_MODEL), URI, gcs.client)
    parts = storage_parts(Path(sys.executable).parent, {"MODEL_URI": URI, "STORAGE_EMULATOR_HOST": gcs.url})
    names = [part["part"] for part in parts]
    assert names[0] == "import google.cloud.storage" and names[-1] == "sha256 and manifest verified"
    model_kb = (BUNDLED_MODEL / "model.json").stat().st_size / 1024
    assert f"model.json read ({model_kb:.0f} KB)" in names
    assert all(part["ms"] >= 0 for part in parts)
    assert parts[0]["mb"] > 1  # the library's import is most of the path's memory
