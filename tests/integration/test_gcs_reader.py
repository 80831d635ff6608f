"""The storage reader against fake-gcs-server, an authenticating proxy and a fake metadata server.

The reader's own contract first (tokens, retries, checks, pinned generations), then each failure as the
function shows it: a degraded /health with the reason, the bundled model answering, no wait past
MODEL_LOAD_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from penguins.model import gcs_reader
from penguins.model.gcs_reader import (
    AdcTokens,
    CredentialsError,
    GcsError,
    GcsReader,
    MetadataTokens,
    NoTokens,
    ObjectMissing,
    crc32c,
    token_source,
)
from penguins.model.store import GcsLocation
from tests.support.fake_metadata import FakeMetadata
from tests.support.fault_proxy import FaultProxy
from tests.support.gcs import URI, wait_for
from tests.support.id_tokens import service_account_key_file
from tests.support.paths import BUCKET, BUNDLED_MODEL, ROOT
from tools.examples import ADELIE
from tools.procs import free_port
from training.publish import publish

LOCATION = GcsLocation.parse(URI)
LOAD_TIMEOUT_SECONDS = 2


@pytest.fixture
def metadata():
    with FakeMetadata() as server:
        yield server


@pytest.fixture
def proxy(gcs, metadata):
    """fake-gcs-server behind a proxy that, like Cloud Storage, refuses a request without a valid token."""
    with FaultProxy(gcs.port) as server:
        server.require_token = metadata.valid
        yield server


def reader(proxy, metadata) -> GcsReader:
    return GcsReader(BUCKET, proxy.url, MetadataTokens(metadata.host))


def soon(seconds: float = 4.0) -> float:
    return time.monotonic() + seconds


def media_requests(proxy) -> list[str]:
    return [path for path, _ in proxy.seen if "alt=media" in path]


# Tokens


def test_the_token_is_fetched_once_and_sent_on_every_call(gcs, proxy, metadata):
    publish(str(BUNDLED_MODEL), URI, gcs.client)
    source = reader(proxy, metadata)
    for _ in range(3):
        data, generation = source.read(LOCATION.pointer, soon())
        assert json.loads(data)["version"] and generation > 0
    assert metadata.token_requests == 1
    assert {auth for _, auth in proxy.seen} == {f"Bearer {next(iter(metadata.issued))}"}


def test_the_token_is_replaced_shortly_before_it_expires(gcs, proxy, metadata):
    publish(str(BUNDLED_MODEL), URI, gcs.client)
    metadata.expires_in = 4.0  # replaced at half its life when that is under TOKEN_EARLY_SECONDS
    source = reader(proxy, metadata)
    source.stat(LOCATION.pointer, soon())
    source.stat(LOCATION.pointer, soon())
    assert metadata.token_requests == 1
    time.sleep(2.2)
    source.stat(LOCATION.pointer, soon())  # the old token is still valid for 1.8 s, and not used any more
    assert metadata.token_requests == 2
    assert len({auth for _, auth in proxy.seen}) == 2


def test_a_token_storage_refuses_is_replaced_once(gcs, proxy, metadata):
    publish(str(BUNDLED_MODEL), URI, gcs.client)
    source = reader(proxy, metadata)
    source.stat(LOCATION.pointer, soon())
    metadata.issued.clear()  # revoked: storage answers 401 to it
    assert source.stat(LOCATION.pointer, soon()).generation > 0
    assert metadata.token_requests == 2


def test_storage_refusing_every_token_is_a_credentials_error_not_a_loop(gcs, proxy, metadata):
    publish(str(BUNDLED_MODEL), URI, gcs.client)
    proxy.require_token = lambda authorization: False
    with pytest.raises(CredentialsError, match=r"refused to read .*current.json \(HTTP 401\).*objectViewer"):
        reader(proxy, metadata).stat(LOCATION.pointer, soon())
    assert metadata.token_requests == 2


@pytest.mark.parametrize("status", [403, 404])
def test_the_metadata_server_refusing_a_token_says_what_to_fix(gcs, proxy, metadata, status):
    metadata.refuse_status = status
    with pytest.raises(CredentialsError, match=rf"refused an access token \(HTTP {status}\).*service account"):
        reader(proxy, metadata).stat(LOCATION.pointer, soon())
    assert proxy.seen == []  # nothing went to storage without a token


def test_a_hanging_metadata_server_costs_the_deadline_and_no_more(gcs, proxy, metadata):
    metadata.hanging.set()
    started = time.monotonic()
    with pytest.raises(GcsError, match="the metadata server did not answer"):
        reader(proxy, metadata).stat(LOCATION.pointer, soon(1.5))
    assert time.monotonic() - started < 1.5 + 0.5


@pytest.mark.parametrize(
    "garbage",
    [
        b"<html>captive portal</html>",
        b'{"expires_in": 3599}',
        b'{"access_token": "ya29.x", "expires_in": NaN}',  # json.loads takes NaN: a token that never expires
        b'{"access_token": "ya29.x", "expires_in": 0}',
        b'{"access_token": "", "expires_in": 3599}',
    ],
    ids=["html", "no-token", "nan-expiry", "zero-expiry", "empty-token"],
)
def test_a_token_answer_that_is_not_a_usable_token_is_refused(gcs, proxy, metadata, garbage):
    metadata.garbage = garbage
    with pytest.raises(CredentialsError, match="not JSON with access_token"):
        reader(proxy, metadata).stat(LOCATION.pointer, soon())


# Retries, garbage, generations


def test_429_and_503_are_retried_then_the_read_succeeds(gcs, proxy, metadata):
    publish(str(BUNDLED_MODEL), URI, gcs.client)
    proxy.scripted = [(429, b'{"error": "slow down"}'), (503, b'{"error": "try again"}')]
    data, _ = reader(proxy, metadata).read(LOCATION.pointer, soon())
    assert json.loads(data)["version"] and proxy.requests_failed == 2


def test_retries_stop_at_the_deadline(gcs, proxy, metadata):
    proxy.failing.set()
    started = time.monotonic()
    with pytest.raises(GcsError, match=r"the model store did not answer or failed; gave up after \d+ tr") as caught:
        reader(proxy, metadata).stat(LOCATION.pointer, soon(1.0))
    assert time.monotonic() - started < 1.0 + 0.5
    assert "127.0.0.1" not in str(caught.value) and "127.0.0.1" in caught.value.detail  # the host: logs only


def on_media(change):
    """A proxy rewrite that changes the bytes of media answers."""
    return lambda path, body: change(body) if "alt=media" in path else body


def on_metadata(change):
    """A proxy rewrite that changes metadata (JSON) answers."""
    return lambda path, body: body if "alt=media" in path else change(body)


@pytest.mark.parametrize(
    ("rewrite", "message"),
    [
        (None, None),  # the control: read as published
        (on_metadata(lambda body: b"<html>oops</html>"), "not JSON with a generation and a size"),
        (on_metadata(lambda body: body.replace(b'"generation"', b'"generatio"')), "not JSON with a generation"),
        (on_metadata(lambda body: json.dumps({**json.loads(body), "size": "12"}).encode()), "more bytes than"),
        (on_metadata(lambda body: json.dumps({**json.loads(body), "size": "99999"}).encode()), "arrived with"),
        (on_media(lambda body: body[:-3]), "arrived with"),
        (on_media(lambda body: bytes([body[0] ^ 1]) + body[1:]), "md5"),
    ],
    ids=[
        "control",
        "metadata-not-json",
        "no-generation",
        "size-too-small",
        "size-too-large",
        "media-short",
        "media-same",
    ],
)
def test_storage_answering_garbage_is_refused(gcs, proxy, metadata, rewrite, message):
    version = publish(str(BUNDLED_MODEL), URI, gcs.client)
    name = LOCATION.artifact_file(version, "manifest.json")
    proxy.rewrite = rewrite
    if message is None:
        assert reader(proxy, metadata).read(name, soon())[0] == (BUNDLED_MODEL / "manifest.json").read_bytes()
    else:
        with pytest.raises(GcsError, match=message):
            reader(proxy, metadata).read(name, soon())


def test_without_an_md5_the_crc32c_is_checked(gcs, proxy, metadata):
    """Composite objects have no md5Hash: the bytes are checked against the crc32c."""
    version = publish(str(BUNDLED_MODEL), URI, gcs.client)
    name = LOCATION.artifact_file(version, "model.json")

    def drop_md5(path, body):
        return body if "alt=media" in path else json.dumps({**json.loads(body), "md5Hash": None}).encode()

    proxy.rewrite = drop_md5
    assert reader(proxy, metadata).read(name, soon())[0] == (BUNDLED_MODEL / "model.json").read_bytes()
    proxy.rewrite = lambda path, body: (
        body.replace(b"base_score", b"base_scorE") if "alt=media" in path else drop_md5(path, body)
    )
    with pytest.raises(GcsError, match="crc32c"):
        reader(proxy, metadata).read(name, soon())


def test_crc32c_matches_the_castagnoli_check_value_and_google_crc32c():
    import google_crc32c  # in the development set only, through google-cloud-storage

    assert crc32c(b"123456789") == 0xE3069283  # the standard check value of CRC-32C
    data = (BUNDLED_MODEL / "model.json").read_bytes()
    assert crc32c(data) == int.from_bytes(google_crc32c.Checksum(data).digest(), "big")


def test_an_object_overwritten_between_metadata_and_media_is_read_whole_at_its_new_generation(gcs, proxy, metadata):
    bucket = gcs.client.bucket(BUCKET)
    bucket.blob(LOCATION.pointer).upload_from_string(b'{"version": "aaaaaaaaaaaa"}')
    overwrites = []

    def overwrite_once(path):
        if "alt=media" not in path and not overwrites:
            overwrites.append(path)
            bucket.blob(LOCATION.pointer).upload_from_string(b'{"version": "bbbbbbbbbbbb", "note": "longer"}')

    proxy.after = overwrite_once
    data, generation = reader(proxy, metadata).read(LOCATION.pointer, soon())
    assert json.loads(data)["version"] == "bbbbbbbbbbbb"
    assert generation == bucket.get_blob(LOCATION.pointer).generation
    assert len(media_requests(proxy)) == 2  # the first, at the old generation, found it gone


def test_an_object_that_keeps_changing_is_an_error_not_mixed_bytes(gcs, proxy, metadata):
    bucket = gcs.client.bucket(BUCKET)
    bucket.blob(LOCATION.pointer).upload_from_string(b'{"version": "aaaaaaaaaaaa"}')
    proxy.after = lambda path: "alt=media" not in path and bucket.blob(LOCATION.pointer).upload_from_string(b"{}")
    with pytest.raises(GcsError, match="changed twice while it was being read"):
        reader(proxy, metadata).read(LOCATION.pointer, soon())


def test_a_missing_object_is_object_missing(gcs, proxy, metadata):
    with pytest.raises(ObjectMissing):
        reader(proxy, metadata).read(LOCATION.pointer, soon())


# Who signs the requests


def test_which_credentials_each_place_gets(metadata):
    closed = f"127.0.0.1:{free_port()}"
    assert isinstance(token_source({"STORAGE_EMULATOR_HOST": "http://127.0.0.1:1"}), NoTokens)
    on_cloud_run = token_source({"K_SERVICE": "penguin-species"})
    assert isinstance(on_cloud_run, MetadataTokens) and on_cloud_run.endpoint.host == "metadata.google.internal"
    assert token_source({"GCE_METADATA_HOST": metadata.host}).endpoint.port == metadata.server.server_address[1]
    probed = token_source({"GCE_METADATA_IP": metadata.host})  # a VM: the probe answers
    assert isinstance(probed, MetadataTokens)
    started = time.monotonic()
    assert isinstance(token_source({"GCE_METADATA_IP": closed}), AdcTokens)  # a laptop: nothing answers
    assert time.monotonic() - started < gcs_reader.PROBE_TIMEOUT_SECONDS + 0.2


def test_the_fallback_reads_with_application_default_credentials(gcs, proxy, metadata, tmp_path, monkeypatch):
    """google-auth (installed here) signs as a laptop's ADC does; the token comes from the fake's token endpoint."""
    publish(str(BUNDLED_MODEL), URI, gcs.client)
    monkeypatch.setenv(
        "GOOGLE_APPLICATION_CREDENTIALS", str(service_account_key_file(tmp_path, f"{metadata.url}/token"))
    )
    source = GcsReader(BUCKET, proxy.url, AdcTokens())
    assert json.loads(source.read(LOCATION.pointer, soon())[0])["version"]
    source.stat(LOCATION.pointer, soon())
    assert metadata.token_requests == 1
    assert proxy.seen and all(metadata.valid(auth) for _, auth in proxy.seen)


def test_without_application_default_credentials_the_fallback_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))  # no gcloud ADC file, whatever this machine's user has
    started = time.monotonic()
    with pytest.raises(CredentialsError, match="gcloud auth application-default login"):
        AdcTokens().token(soon())
    assert time.monotonic() - started < 0.5  # google-auth's own metadata probe would take seconds


# As the function shows it


def start_function(make_client, proxy, metadata, **env):
    """The real app reading gs:// through the proxy with the metadata server's token, as on the platform."""
    return make_client(
        MODEL_URI=URI,
        STORAGE_EMULATOR_HOST=proxy.url,
        GCE_METADATA_HOST=metadata.host,
        MODEL_LOAD_TIMEOUT_SECONDS=str(LOAD_TIMEOUT_SECONDS),
        **env,
    )


def test_the_platform_path_serves_the_bucket_s_model_with_a_token(gcs, proxy, metadata, make_client, small_artifact):
    version = publish(str(small_artifact[0]), URI, gcs.client)
    client = start_function(make_client, proxy, metadata)
    response = client.post("/predict", json=ADELIE)
    assert response.get_json()["model_version"] == version
    assert response.headers["X-Model-Source"] == f"{URI}/artifacts/{version}"
    assert client.get("/health").get_json()["status"] == "ok"
    assert proxy.seen and all(metadata.valid(auth) for _, auth in proxy.seen)


def test_a_real_server_as_deployed_checks_the_pointer_with_fresh_tokens(
    gcs, proxy, metadata, start_server, small_artifact
):
    """functions-framework, MODEL_EXPECTED_VERSION, a refresh a second, tokens living 4 s: none is ever refused."""
    deployed = publish(str(BUNDLED_MODEL), URI, gcs.client)
    refused = []
    proxy.require_token = lambda authorization: metadata.valid(authorization) or refused.append(authorization)
    metadata.expires_in = 4.0
    server = start_server(
        MODEL_URI=URI,
        MODEL_EXPECTED_VERSION=deployed,
        MODEL_REFRESH_SECONDS="1",
        STORAGE_EMULATOR_HOST=proxy.url,
        GCE_METADATA_HOST=metadata.host,
    )
    assert server.post_json("/predict", ADELIE)[2]["model_version"] == deployed
    newer = publish(str(small_artifact[0]), URI, gcs.client, force=True)
    wait_for(lambda: server.post_json("/predict", ADELIE)[2]["model_version"] == newer, timeout=15, interval=0.2)
    deadline = time.monotonic() + 3  # past the first token's replacement (at 2 s), requests driving the checks
    while time.monotonic() < deadline:
        server.post_json("/predict", ADELIE)
        time.sleep(0.2)
    assert server.request("GET", "/health")[2]["status"] == "ok"
    assert metadata.token_requests >= 2 and refused == []
    assert proxy.seen and all(auth.removeprefix("Bearer ") in metadata.issued for _, auth in proxy.seen)


def _refuse(status):
    def arrange(gcs, proxy, metadata):
        metadata.refuse_status = status

    return arrange


def _hang(gcs, proxy, metadata):
    metadata.hanging.set()


def _metadata_garbage(gcs, proxy, metadata):
    proxy.rewrite = lambda path, body: b"\x00garbage" if "alt=media" not in path else body


def _short_media(gcs, proxy, metadata):
    proxy.rewrite = lambda path, body: body[: len(body) // 2] if "alt=media" in path else body


def _always_changing(gcs, proxy, metadata):
    bucket = gcs.client.bucket(BUCKET)
    name = LOCATION.pointer
    proxy.after = lambda path: "alt=media" not in path and bucket.blob(name).upload_from_string(
        bucket.blob(name).download_as_bytes()
    )


def _pointer_to_nothing(gcs, proxy, metadata):
    gcs.client.bucket(BUCKET).blob(LOCATION.pointer).upload_from_string(b'{"version": "0123456789ab"}')


@pytest.mark.parametrize(
    ("arrange", "reason"),
    [
        (_refuse(403), "refused an access token (HTTP 403)"),
        (_refuse(404), "refused an access token (HTTP 404)"),
        (_hang, "did not answer"),
        (_metadata_garbage, "not JSON with a generation"),
        (_short_media, "arrived with"),
        (_always_changing, "changed twice"),
        (_pointer_to_nothing, "the pointer names version 0123456789ab, but its manifest.json is not in the bucket"),
    ],
    ids=["token-403", "token-404", "token-hangs", "metadata-garbage", "short-media", "always-changing", "no-artifact"],
)
def test_each_storage_failure_is_a_degraded_health_and_the_bundled_model_answers_in_time(
    gcs, proxy, metadata, make_client, small_artifact, arrange, reason
):
    publish(str(small_artifact[0]), URI, gcs.client)
    arrange(gcs, proxy, metadata)
    client = start_function(make_client, proxy, metadata)
    started = time.monotonic()
    response = client.post("/predict", json=ADELIE)
    elapsed = time.monotonic() - started
    health = client.get("/health").get_json()
    metadata.hanging.clear()
    assert response.status_code == 200 and response.headers["X-Model-Source"] == "bundled"
    assert elapsed < LOAD_TIMEOUT_SECONDS + 3  # the bound, plus loading the bundled model
    assert health["status"] == "degraded" and reason in health["reason"]
    assert "127.0.0.1" not in json.dumps(health)


def test_429_and_503_at_a_cold_start_are_retried_and_the_bucket_s_model_answers(
    gcs, proxy, metadata, make_client, small_artifact
):
    version = publish(str(small_artifact[0]), URI, gcs.client)
    proxy.scripted = [(429, b"{}"), (503, b"{}")]
    client = start_function(make_client, proxy, metadata)
    assert client.post("/predict", json=ADELIE).get_json()["model_version"] == version
    assert client.get("/health").get_json()["status"] == "ok" and proxy.requests_failed == 2


def test_without_google_auth_a_laptop_is_told_how_to_install_it():
    """No metadata server, no emulator, no google-auth (blocked as if not installed): the reason says what to do."""
    closed = f"127.0.0.1:{free_port()}"
    code = (
        "import sys, json\n"
        "sys.modules['google.auth'] = None  # as in the lean venv: not installed\n"
        "import functions_framework\n"
        f"app = functions_framework.create_app('predict', {str(ROOT / 'function' / 'main.py')!r})\n"
        "from starlette.testclient import TestClient\n"
        "client = TestClient(app)\n"
        f"response = client.post('/predict', json={ADELIE!r})\n"
        "print(json.dumps([response.headers['X-Model-Source'], client.get('/health').json()]))\n"
    )
    env = {"MODEL_URI": URI, "GCE_METADATA_IP": closed, "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    source, health = json.loads(result.stdout.strip().splitlines()[-1])
    assert source == "bundled" and health["status"] == "degraded"
    assert "pip install google-auth requests" in health["reason"]
    assert "gcloud auth application-default login" in health["reason"]
