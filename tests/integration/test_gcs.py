"""Cloud Storage against a real GCS-compatible server: publishing, cold starts, refresh, faults."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from penguins.artifact import read_artifact_dir
from penguins.store import GcsLocation
from tests.support.gcs import URI, post, wait_for
from tests.support.paths import BUCKET, BUNDLED_MODEL, ROOT
from tools.examples import ADELIE
from training.publish import PublishError, promote, publish, read_pointer, swap_pointer, upload_artifact, versions

LOCATION = GcsLocation.parse(URI)


def pointer(gcs) -> tuple[int, str | None]:
    return read_pointer(gcs.client.bucket(BUCKET), LOCATION)


# Publishing


def test_publish_uploads_the_artifact_and_points_at_it(gcs):
    version = publish(str(BUNDLED_MODEL), URI, gcs.client)
    assert version == read_artifact_dir(str(BUNDLED_MODEL)).version
    names = {blob.name for blob in gcs.client.list_blobs(BUCKET)}
    assert {f"penguins/artifacts/{version}/{f}" for f in ("manifest.json", "model.json", "MODEL_CARD.md")} <= names
    assert pointer(gcs)[1] == version


def test_publishing_the_same_artifact_again_changes_nothing(gcs):
    publish(str(BUNDLED_MODEL), URI, gcs.client)
    generations = {b.name: b.generation for b in gcs.client.list_blobs(BUCKET)}
    publish(str(BUNDLED_MODEL), URI, gcs.client)
    assert {b.name: b.generation for b in gcs.client.list_blobs(BUCKET)} == generations


def test_promote_rolls_back_and_forward_and_versions_lists_them(gcs, small_artifact):
    first = publish(str(BUNDLED_MODEL), URI, gcs.client)
    second = publish(str(small_artifact[0]), URI, gcs.client, force=True)  # the gate's own tests: test_gate.py
    assert pointer(gcs)[1] == second
    promote(URI, first, gcs.client)
    assert pointer(gcs)[1] == first
    rows = {row["version"]: row for row in versions(URI, gcs.client)}
    assert set(rows) == {first, second}
    assert rows[first]["current"] and not rows[second]["current"]
    assert rows[first]["accuracy"] == read_artifact_dir(str(BUNDLED_MODEL)).manifest["metrics"]["accuracy"]["mean"]
    promote(URI, second, gcs.client, force=True)
    assert pointer(gcs)[1] == second


@pytest.mark.parametrize("version", ["0123456789ab", "../../etc", "nothex"])
def test_promote_refuses_a_version_that_is_not_there(gcs, version):
    publish(str(BUNDLED_MODEL), URI, gcs.client)
    with pytest.raises(Exception, match="no version|not a model version"):
        promote(URI, version, gcs.client)


def test_racing_publishers_one_wins_the_other_fails_clearly(gcs, small_artifact):
    bucket = gcs.client.bucket(BUCKET)
    mine = read_artifact_dir(str(BUNDLED_MODEL)).version
    upload_artifact(bucket, LOCATION, str(BUNDLED_MODEL), mine)
    generation, _ = read_pointer(bucket, LOCATION)  # I read the pointer...
    theirs = publish(str(small_artifact[0]), URI, gcs.client)  # ...another publisher swaps it first...
    with pytest.raises(PublishError, match="another publisher won the race"):
        swap_pointer(bucket, LOCATION, mine, generation)  # ...so my swap is refused, not silently lost
    assert pointer(gcs)[1] == theirs


def test_an_altered_artifact_in_the_bucket_is_not_republished_over(gcs):
    version = publish(str(BUNDLED_MODEL), URI, gcs.client)
    gcs.client.bucket(BUCKET).blob(LOCATION.artifact_file(version, "model.json")).upload_from_string(b"{}")
    with pytest.raises(PublishError, match="altered"):
        publish(str(BUNDLED_MODEL), URI, gcs.client)


def test_cli_publish_versions_promote(gcs, small_artifact, tmp_path):
    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "training", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
        )

    first = cli("publish", str(BUNDLED_MODEL), URI)
    assert first.returncode == 0, first.stderr
    second = cli("publish", str(small_artifact[0]), URI, "--force")
    listing = cli("versions", URI)
    assert listing.returncode == 0
    current_line = [line for line in listing.stdout.splitlines() if line.startswith("*")]
    assert current_line and second.stdout.strip() in current_line[0]
    back = cli("promote", URI, first.stdout.strip())
    assert back.returncode == 0 and first.stdout.strip() in back.stdout
    missing = cli("promote", URI, "0123456789ab")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: there is no version 0123456789ab")


# Serving from the bucket


def test_cold_start_pulls_the_model_from_gcs(gcs, make_client, small_artifact):
    version = publish(str(small_artifact[0]), URI, gcs.client)
    client = make_client(MODEL_URI=URI)
    response = post(client)
    assert response.status_code == 200
    assert response.get_json()["model_version"] == version
    assert response.headers["X-Model-Source"] == f"{URI}/artifacts/{version}"
    health = client.get("/health").get_json()
    assert health["status"] == "ok"
    assert health["model"]["source"] == f"{URI}/artifacts/{version}"


def test_downloaded_artifacts_are_cached_and_reverified(gcs, make_client, small_artifact, tmp_path, capsys):
    version = publish(str(small_artifact[0]), URI, gcs.client)
    assert post(make_client(MODEL_URI=URI)).status_code == 200
    assert capsys.readouterr().out.count(f"downloaded {version}") == 1
    assert post(make_client(MODEL_URI=URI)).status_code == 200  # a new process state: served from the cache
    assert f"downloaded {version}" not in capsys.readouterr().out
    cached = tmp_path / "model-cache" / version / "model.json"
    cached.write_bytes(cached.read_bytes().replace(b"base_score", b"base_scorE"))
    assert post(make_client(MODEL_URI=URI)).get_json()["model_version"] == version  # tampered copy re-downloaded
    assert capsys.readouterr().out.count(f"downloaded {version}") == 1


@pytest.mark.parametrize(
    ("break_it", "reason"),
    [
        (lambda gcs, version: None, "no current.json"),  # nothing published
        (
            lambda gcs, version: gcs.client.bucket(BUCKET).blob(LOCATION.artifact_file(version, "model.json")).delete(),
            "is not in the bucket",
        ),
        (
            lambda gcs, version: gcs.client.bucket(BUCKET)
            .blob(LOCATION.artifact_file(version, "model.json"))
            .upload_from_string(b'{"learner": "tampered"}'),
            "sha256",
        ),
        (
            lambda gcs, version: gcs.client.bucket(BUCKET).blob(LOCATION.pointer).upload_from_string(b'{"version": 1}'),
            "not a model version",
        ),
    ],
    ids=["no-pointer", "artifact-missing", "artifact-bytes-changed", "pointer-garbage"],
)
def test_broken_bucket_falls_back_to_the_bundled_model(gcs, make_client, small_artifact, break_it, reason):
    version = None
    if reason != "no current.json":
        version = publish(str(small_artifact[0]), URI, gcs.client)
    break_it(gcs, version)
    client = make_client(MODEL_URI=URI)
    response = post(client)
    assert response.status_code == 200
    assert response.headers["X-Model-Source"] == "bundled"
    health = client.get("/health").get_json()
    assert health["status"] == "degraded"
    assert reason in health["reason"]


def test_without_fallback_a_broken_bucket_is_a_clear_503(gcs, make_client):
    client = make_client(MODEL_URI=URI, MODEL_FALLBACK="none")
    response = post(client)
    assert response.status_code == 503
    assert response.get_json()["error"].startswith("No model can be served")
    assert "no current.json" in response.get_json()["detail"][0]["msg"]
    assert client.get("/health").status_code == 503


def test_storage_down_at_cold_start_answers_from_the_bundled_model(gcs, make_client, small_artifact):
    publish(str(small_artifact[0]), URI, gcs.client)
    gcs.stop()
    client = make_client(MODEL_URI=URI)
    started = time.monotonic()
    response = post(client)
    assert time.monotonic() - started < 15
    assert response.status_code == 200
    assert response.headers["X-Model-Source"] == "bundled"
    health = client.get("/health").get_json()
    assert health["status"] == "degraded"
    assert "did not answer" in health["reason"]
    assert "127.0.0.1" not in json.dumps(health)  # the storage client's error text stays in the logs


def test_fifty_concurrent_cold_requests_download_once(gcs, start_server, small_artifact):
    version = publish(str(small_artifact[0]), URI, gcs.client)
    server = start_server(MODEL_URI=URI)
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda _: server.post_json("/predict", ADELIE), range(50)))
    assert [status for status, _, _ in results] == [200] * 50
    assert {body["model_version"] for _, _, body in results} == {version}
    messages = [line["message"] for line in server.log_lines()]
    assert sum(m == f"downloaded {version} from {URI}" for m in messages) == 1
    assert sum(m.startswith(f"model {version} loaded") for m in messages) == 1


def test_new_publish_is_served_within_the_refresh_interval_with_no_failed_request(gcs, start_server, small_artifact):
    first = publish(str(BUNDLED_MODEL), URI, gcs.client)
    server = start_server(MODEL_URI=URI, MODEL_REFRESH_SECONDS="1")
    assert server.post_json("/predict", ADELIE)[2]["model_version"] == first
    statuses, versions_seen, stop = [], [], threading.Event()

    def load_loop():
        while not stop.is_set():
            status, headers, body = server.post_json("/predict", ADELIE)
            statuses.append(status)
            versions_seen.append(body.get("model_version"))

    threads = [threading.Thread(target=load_loop) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        second = publish(str(small_artifact[0]), URI, gcs.client, force=True)
        published_at = time.monotonic()
        wait_for(lambda: versions_seen and versions_seen[-1] == second, timeout=10, interval=0.05)
        picked_up_after = time.monotonic() - published_at
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert set(statuses) == {200}
    assert len(statuses) > 50
    assert picked_up_after < 1 + 2  # the interval, plus one download and load
    assert versions_seen[-1] == second and first in versions_seen


def test_storage_killed_then_restarted_degrades_then_recovers(gcs, start_server, small_artifact):
    version = publish(str(small_artifact[0]), URI, gcs.client)
    gcs.stop()
    server = start_server(MODEL_URI=URI, MODEL_REFRESH_SECONDS="1")
    status, headers, body = server.post_json("/predict", ADELIE)
    assert status == 200 and headers["X-Model-Source"] == "bundled"
    assert server.request("GET", "/health")[2]["status"] == "degraded"
    gcs.start()  # same data folder: the bucket's model is back
    server.post_json("/predict", ADELIE)  # requests drive the retries; none of them waits for one

    def recovered():
        server.post_json("/predict", ADELIE)
        health = server.request("GET", "/health")[2]
        return health["status"] == "ok" and health["model"]["version"] == version

    wait_for(recovered, timeout=15, interval=0.3)
    assert server.post_json("/predict", ADELIE)[1]["X-Model-Source"] == f"{URI}/artifacts/{version}"


def test_frozen_storage_the_first_request_answers_within_the_bound(gcs, start_server, small_artifact):
    publish(str(small_artifact[0]), URI, gcs.client)
    gcs.freeze()
    try:
        server = start_server(MODEL_URI=URI, MODEL_LOAD_TIMEOUT_SECONDS="2")
        started = time.monotonic()
        status, headers, _ = server.post_json("/predict", ADELIE, timeout=30)
        elapsed = time.monotonic() - started
    finally:
        gcs.thaw()
    assert status == 200
    assert headers["X-Model-Source"] == "bundled"
    assert elapsed < 2 + 3  # the bound, plus loading the bundled model
    health = server.request("GET", "/health")[2]
    assert health["status"] in ("degraded", "ok")  # thawed: the background load may already have finished


def test_storage_calls_give_up_in_seconds_not_minutes(gcs, tmp_path):
    from penguins.errors import StorageError
    from penguins.store import GcsSource

    source = GcsSource(URI, str(tmp_path / "cache"))
    gcs.stop()
    started = time.monotonic()
    with pytest.raises(StorageError, match="did not answer"):
        source.fetch()
    assert time.monotonic() - started < 15  # the client library's default retry would take ~120 s


def test_the_storage_client_is_made_once(gcs, small_artifact, tmp_path):
    from penguins.store import GcsSource

    publish(str(small_artifact[0]), URI, gcs.client)
    source = GcsSource(URI, str(tmp_path / "cache"))
    source.fetch()
    client = source._client
    source.pointer_generation()
    source.fetch()
    assert source._client is client is not None


def test_google_cloud_storage_is_imported_only_for_gs_uris():
    code = (
        "import sys, json, functions_framework\n"
        f"app = functions_framework.create_app('predict', {str(ROOT / 'function' / 'main.py')!r})\n"
        "client = app.test_client()\n"
        f"assert client.post('/predict', json={ADELIE!r}).status_code == 200\n"
        "print('google.cloud.storage' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
