"""Storage faults against a real GCS-compatible server: each behaves as DESIGN.md says."""

from __future__ import annotations

import json
import time

import pytest

from penguins.artifact import MANIFEST_FILE, MODEL_FILE, artifact_version, sha256_hex
from penguins.store import GcsLocation
from tests.support.fault_proxy import FaultProxy
from tests.support.gcs import URI, wait_for
from tests.support.paths import BUCKET, BUNDLED_MODEL
from tools.examples import ADELIE
from training.publish import publish

LOCATION = GcsLocation.parse(URI)


def health(server) -> dict:
    return server.request("GET", "/health")[2]


def upload_raw_version(gcs, manifest: dict, model: bytes) -> str:
    """Put an artifact in the bucket by hand (as a careless or hostile writer could) and point at it."""
    manifest_bytes = json.dumps(manifest).encode()
    version = artifact_version(manifest_bytes)
    bucket = gcs.client.bucket(BUCKET)
    bucket.blob(LOCATION.artifact_file(version, MODEL_FILE)).upload_from_string(model)
    bucket.blob(LOCATION.artifact_file(version, MANIFEST_FILE)).upload_from_string(manifest_bytes)
    bucket.blob(LOCATION.pointer).upload_from_string(json.dumps({"version": version}))
    return version


def test_storage_down_during_a_refresh_keeps_serving_the_current_model(gcs, start_server, small_artifact):
    version = publish(str(small_artifact[0]), URI, gcs.client)
    server = start_server(MODEL_URI=URI, MODEL_REFRESH_SECONDS="1")
    assert server.post_json("/predict", ADELIE)[2]["model_version"] == version
    gcs.stop()
    time.sleep(1.2)
    for _ in range(20):  # requests drive the background check; none of them fails or waits for it
        started = time.monotonic()
        status, headers, body = server.post_json("/predict", ADELIE)
        assert status == 200 and body["model_version"] == version
        assert time.monotonic() - started < 1
        time.sleep(0.05)
    degraded = wait_for(lambda: health(server)["status"] == "degraded" and health(server), timeout=15)
    assert degraded["model"]["version"] == version and "did not answer" in degraded["reason"]
    gcs.start()
    wait_for(lambda: server.post_json("/predict", ADELIE) and health(server)["status"] == "ok", timeout=15)


def test_storage_hanging_during_a_refresh_delays_no_request(gcs, start_server, small_artifact):
    version = publish(str(small_artifact[0]), URI, gcs.client)
    server = start_server(MODEL_URI=URI, MODEL_REFRESH_SECONDS="1")
    server.post_json("/predict", ADELIE)
    gcs.freeze()
    try:
        time.sleep(1.2)
        slowest = 0.0
        for _ in range(30):
            started = time.monotonic()
            status, _, body = server.post_json("/predict", ADELIE)
            slowest = max(slowest, time.monotonic() - started)
            assert status == 200 and body["model_version"] == version
            time.sleep(0.05)
        assert slowest < 1
    finally:
        gcs.thaw()


def test_storage_answering_500s_falls_back_then_recovers(gcs, start_server, small_artifact):
    version = publish(str(small_artifact[0]), URI, gcs.client)
    with FaultProxy(gcs.port) as proxy:
        proxy.failing.set()
        server = start_server(MODEL_URI=URI, STORAGE_EMULATOR_HOST=proxy.url, MODEL_REFRESH_SECONDS="1")
        status, headers, _ = server.post_json("/predict", ADELIE)
        assert status == 200 and headers["X-Model-Source"] == "bundled"
        assert health(server)["status"] == "degraded" and proxy.requests_failed > 0
        proxy.failing.clear()

        def recovered():
            server.post_json("/predict", ADELIE)
            return health(server)["status"] == "ok" and health(server)["model"]["version"] == version

        wait_for(recovered, timeout=15, interval=0.3)


@pytest.mark.parametrize(
    ("name", "make_artifact", "reason"),
    [
        ("truncated-model", lambda manifest, model: (manifest, model[: len(model) // 2]), "sha256"),
        (
            "other-features",
            lambda manifest, model: ({**manifest, "features": [*manifest["features"][:-1], "island_Anvers"]}, model),
            "features",
        ),
        ("other-classes", lambda manifest, model: ({**manifest, "classes": ["Adelie", "Gentoo"]}, model), "classes"),
        (
            "not-an-xgboost-model",
            lambda manifest, model: ({**manifest, "model_sha256": sha256_hex(b'{"learner": 1}')}, b'{"learner": 1}'),
            "XGBoost",
        ),
    ],
)
def test_a_bad_artifact_in_the_bucket_is_never_served(gcs, make_client, name, make_artifact, reason):
    manifest = json.loads((BUNDLED_MODEL / MANIFEST_FILE).read_bytes())
    manifest, model = make_artifact(manifest, (BUNDLED_MODEL / MODEL_FILE).read_bytes())
    bad_version = upload_raw_version(gcs, manifest, model)
    client = make_client(MODEL_URI=URI)
    response = client.post("/predict", json=ADELIE)
    assert response.status_code == 200
    assert response.get_json()["model_version"] != bad_version
    assert response.headers["X-Model-Source"] == "bundled"
    status = client.get("/health").get_json()
    assert status["status"] == "degraded" and reason in status["reason"]
