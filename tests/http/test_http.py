"""The HTTP contract through the real Functions Framework app (create_app(...).test_client())."""

from __future__ import annotations

import io
import json

import pytest

from penguins.responses import BatchPredictionResponse, ErrorResponse, HealthResponse, PredictionResponse, ServiceInfo
from tools.examples import ADELIE, SEED_EXAMPLES

JSON = {"Content-Type": "application/json"}


def post(client, payload, path="/predict", headers=JSON):
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(path, data=data, headers=headers)


def assert_error(response, status: int, says: str) -> dict:
    """An error answer: the status, a JSON body matching ErrorResponse, a sentence saying what to fix."""
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    ErrorResponse.model_validate(body)
    assert says in body["error"]
    assert "Traceback" not in response.get_data(as_text=True)
    assert "<html" not in response.get_data(as_text=True).lower()
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    return body


@pytest.mark.parametrize("species", list(SEED_EXAMPLES))
@pytest.mark.parametrize("path", ["/predict", "/"])
def test_single_prediction(client, path, species):
    response = post(client, SEED_EXAMPLES[species], path)
    assert response.status_code == 200
    body = PredictionResponse.model_validate(response.get_json())
    assert body.prediction == species
    assert body.warnings == []
    assert response.headers["X-Model-Source"] == "bundled"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # The version is in the body: no header repeats it (each header costs on every request).
    assert sorted(name for name in response.headers.keys() if name.startswith("X-")) == [
        "X-Content-Type-Options",
        "X-Model-Source",
    ]


def test_batch_prediction_keeps_order(client):
    order = ["Gentoo", "Adelie", "Chinstrap", "Adelie"]
    response = post(client, {"instances": [SEED_EXAMPLES[s] for s in order]})
    assert response.status_code == 200
    body = BatchPredictionResponse.model_validate(response.get_json())
    assert [p.prediction for p in body.predictions] == order


def test_batch_answers_equal_single_answers(client):
    singles = [post(client, example).get_json() for example in SEED_EXAMPLES.values()]
    batch = post(client, {"instances": list(SEED_EXAMPLES.values())}).get_json()
    for single, item in zip(singles, batch["predictions"]):
        assert single["probabilities"] == item["probabilities"]


def test_warning_for_value_outside_training_data(client):
    response = post(client, {**SEED_EXAMPLES["Gentoo"], "body_mass_g": 6900})
    assert response.status_code == 200
    [warning] = [w for w in response.get_json()["warnings"] if w.startswith("body_mass_g")]
    assert "body_mass_g = 6900" in warning and "6300" in warning


def test_sex_may_be_null_or_absent(client):
    absent = {k: v for k, v in ADELIE.items() if k != "sex"}
    assert post(client, absent).get_json()["prediction"] == "Adelie"
    assert post(client, {**ADELIE, "sex": None}).get_json()["prediction"] == "Adelie"


def test_health_reports_the_model(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = HealthResponse.model_validate(response.get_json())
    assert body.status == "ok"
    assert body.model.source == "bundled"
    assert response.headers["X-Model-Source"] == "bundled"
    assert body.model.version == post(client, ADELIE).get_json()["model_version"]


def test_index_describes_the_service(client):
    response = client.get("/")
    assert response.status_code == 200
    body = ServiceInfo.model_validate(response.get_json())
    assert body.model.classes == ["Adelie", "Chinstrap", "Gentoo"]
    assert body.model.metrics["accuracy"]["mean"] >= 0.98
    assert set(body.model.training_ranges) == {"bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"}
    assert body.links["openapi"] == "/openapi.json"


def test_openapi_is_generated_from_the_validating_models(client):
    from penguins.schema import Penguin

    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    schema = document["components"]["schemas"]["Penguin"]
    expected = Penguin.model_json_schema(ref_template="#/components/schemas/{model}")
    assert schema["properties"] == expected["properties"]
    assert schema["properties"]["body_mass_g"]["minimum"] == 2500
    assert document["components"]["schemas"]["PredictBatchRequest"]["properties"]["instances"]["maxItems"] == 10000
    assert set(document["paths"]["/predict"]["post"]["responses"]) == {"200", "400", "413", "415", "422", "503"}


# Every error status of the contract: the bad input, and the JSON error body it gets.


def test_400_malformed_json(client):
    body = assert_error(post(client, b'{"bill_length_mm": 39.1,'), 400, "not valid JSON")
    assert body["detail"][0]["type"] == "json_invalid"


def test_413_body_over_the_limit(make_client):
    client = make_client(MAX_BODY_BYTES="100")
    assert_error(post(client, {"instances": [ADELIE] * 3}), 413, "at most 100 bytes")


def test_413_chunked_body_over_the_limit(make_client):
    client = make_client(MAX_BODY_BYTES="100")
    stream = io.BytesIO(json.dumps({"instances": [ADELIE] * 3}).encode())
    # gunicorn marks a de-chunked body as terminated; werkzeug's test client needs telling.
    response = client.post(
        "/predict",
        input_stream=stream,
        headers={**JSON, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_error(response, 413, "at most 100 bytes")


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_415_not_json(client, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/predict", data=json.dumps(ADELIE), headers=headers)
    assert_error(response, 415, "Content-Type: application/json")


def test_json_with_charset_is_accepted(client):
    response = post(client, ADELIE, headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 200


def test_422_schema_violation(client):
    body = assert_error(post(client, {**ADELIE, "body_mass_g": 3.75}), 422, "kilograms")
    assert body["detail"] == [{"loc": ["body_mass_g"], "msg": body["error"], "type": "greater_than_equal"}]


def test_422_batch_over_max_batch_size(make_client):
    client = make_client(MAX_BATCH_SIZE="2")
    assert_error(post(client, {"instances": [ADELIE] * 3}), 422, "the limit is 2")


@pytest.mark.parametrize("path", ["/nope", "/predict/extra", "/favicon.ico", "/robots.txt"])
def test_404_unknown_path(client, path):
    assert_error(client.get(path), 404, "Not Found" if path in ("/favicon.ico", "/robots.txt") else "There is no")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/predict", "POST"),
        ("DELETE", "/", "POST, GET"),
        ("PUT", "/health", "GET"),
        ("POST", "/openapi.json", "GET"),
    ],
)
def test_405_wrong_method(client, method, path, allowed):
    response = client.open(path, method=method)
    assert_error(response, 405, f"accepts {allowed}")
    assert response.headers["Allow"] == allowed


def test_503_when_the_model_cannot_be_loaded(make_client, tmp_path):
    client = make_client(MODEL_URI=str(tmp_path / "no-such-model"), MODEL_FALLBACK="none")
    for response in (post(client, ADELIE), client.get("/health"), client.get("/")):
        body = assert_error(response, 503, "No model can be served")
        assert "manifest.json" in body["detail"][0]["msg"]
        assert str(tmp_path) not in response.get_data(as_text=True)
        assert response.headers["Retry-After"]


def test_503_when_the_model_file_was_tampered_with(make_client, small_artifact, tmp_path, capsys):
    import shutil

    folder = tmp_path / "tampered"
    shutil.copytree(small_artifact[0], folder)
    model = folder / "model.json"
    model.write_bytes(model.read_bytes().replace(b"base_score", b"base_scorE"))
    client = make_client(MODEL_URI=str(folder), MODEL_FALLBACK="none")
    body = assert_error(post(client, ADELIE), 503, "No model can be served")
    assert "sha256" in body["detail"][0]["msg"]
    assert "sha256" in capsys.readouterr().out  # and the log says why


def test_unloadable_model_falls_back_to_the_bundled_one_and_says_degraded(make_client, tmp_path):
    client = make_client(MODEL_URI=str(tmp_path / "no-such-model"))
    response = post(client, ADELIE)
    assert response.status_code == 200
    assert response.get_json()["prediction"] == "Adelie"
    assert response.headers["X-Model-Source"] == "bundled"
    health = HealthResponse.model_validate(client.get("/health").get_json())
    assert health.status == "degraded"
    assert "manifest.json" in health.reason
    assert health.model.source == "bundled"


def test_one_json_log_line_per_request_with_trace(make_client, capsys):
    client = make_client(GOOGLE_CLOUD_PROJECT="my-project")
    capsys.readouterr()
    trace = "0123456789abcdef0123456789abcdef"
    post(client, ADELIE, headers={**JSON, "X-Cloud-Trace-Context": f"{trace}/1;o=1"})
    post(
        client,
        {"instances": [ADELIE, SEED_EXAMPLES["Gentoo"]]},
        headers={**JSON, "traceparent": f"00-{trace}-00f067aa0ba902b7-01"},
    )
    post(client, {**ADELIE, "island": "Mars"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"httpRequest"' in line]
    assert len(lines) == 3
    single, batch, invalid = lines
    assert single["severity"] == "INFO"
    assert single["httpRequest"]["requestMethod"] == "POST"
    assert single["httpRequest"]["requestUrl"] == "/predict"
    assert single["httpRequest"]["status"] == 200
    assert single["httpRequest"]["latency"].endswith("s")
    assert single["logging.googleapis.com/trace"] == f"projects/my-project/traces/{trace}"
    assert len(single["model_version"]) == 12
    assert batch["predicted_classes"] == {"Adelie": 1, "Gentoo": 1}
    assert batch["logging.googleapis.com/trace"] == f"projects/my-project/traces/{trace}"
    assert invalid["severity"] == "WARNING"
    assert invalid["httpRequest"]["status"] == 422
    assert "logging.googleapis.com/trace" not in invalid


def test_bad_settings_fail_at_start_naming_the_variable(make_client):
    from penguins.errors import SettingsError

    with pytest.raises(SettingsError, match="MAX_BATCH_SIZE"):
        make_client(MAX_BATCH_SIZE="lots")
