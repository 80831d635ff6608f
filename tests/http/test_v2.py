"""The Open Inference Protocol (KServe V2) through a real client, tritonclient, against a real server."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections import Counter

import numpy as np
import pytest
import tritonclient.http as triton_http
from tritonclient.utils import InferenceServerException

from penguins.domain import MEASUREMENTS
from tests.support.data import penguin_rows
from tests.support.paths import FUNCTION_DIR
from tools.examples import ADELIE, SEED_EXAMPLES
from tools.v2_client import INFER, MODEL, inputs, request_body


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


@pytest.fixture(scope="module")
def triton(server):
    client = triton_http.InferenceServerClient(f"127.0.0.1:{server.port}")
    yield client
    client.close()


@pytest.fixture(scope="module")
def health(server) -> dict:
    status, _, body = server.request("GET", "/health")
    assert status == 200
    return body["model"]


@pytest.fixture(scope="module")
def data_set() -> list[dict]:
    return penguin_rows()


def species_of(result: triton_http.InferResult) -> list[str]:
    return [s.decode() if isinstance(s, bytes) else s for s in result.as_numpy("species").tolist()]


def native(server, penguins: list[dict]) -> dict:
    """POST /predict's answer, always as a batch body."""
    body = {"instances": penguins} if len(penguins) > 1 else penguins[0]
    status, _, answer = server.post_json("/predict", body)
    assert status == 200, answer
    return answer if len(penguins) > 1 else {"predictions": [answer], "model_version": answer["model_version"]}


def assert_same_answers(result: triton_http.InferResult, expected: dict, classes: list[str]) -> None:
    predictions = expected["predictions"]
    assert species_of(result) == [p["prediction"] for p in predictions]
    probabilities = result.as_numpy("probabilities")
    assert probabilities.dtype == np.float32 and probabilities.shape == (len(predictions), len(classes))
    wanted = np.array([[p["probabilities"][c] for c in classes] for p in predictions], dtype=np.float32)
    assert np.array_equal(probabilities, wanted)
    assert result.get_response()["model_version"] == expected["model_version"]


def test_health_and_metadata_through_tritonclient(triton, health):
    assert triton.is_server_live() and triton.is_server_ready()
    assert triton.is_model_ready(MODEL) and triton.is_model_ready(MODEL, health["version"])
    assert not triton.is_model_ready(MODEL, "not-" + health["version"]) and not triton.is_model_ready("other")
    assert "binary_tensor_data" in triton.get_server_metadata()["extensions"]
    metadata = triton.get_model_metadata(MODEL)
    assert metadata["name"] == MODEL and metadata["versions"] == [health["version"]]
    assert [i["name"] for i in metadata["inputs"]] == [*MEASUREMENTS, "island", "sex"]
    assert {i["datatype"] for i in metadata["inputs"][:4]} == {"FP32"}
    assert {i["datatype"] for i in metadata["inputs"][4:]} == {"BYTES"}
    species, probabilities = metadata["outputs"]
    assert (species["name"], species["datatype"], species["shape"]) == ("species", "BYTES", [-1])
    assert (probabilities["name"], probabilities["datatype"]) == ("probabilities", "FP32")
    assert probabilities["shape"] == [-1, len(health["classes"])]
    assert probabilities["parameters"]["classes"] == health["classes"]
    assert triton.get_model_metadata(MODEL, health["version"]) == metadata


@pytest.mark.parametrize(
    ("binary", "dtype"), [(True, np.float32), (False, np.float32), (False, np.float64)], ids=["binary", "json", "fp64"]
)
def test_every_penguin_in_the_data_set_in_one_request_gets_the_native_answers(
    server, triton, health, data_set, binary, dtype
):
    result = triton.infer(MODEL, inputs(data_set, binary, dtype))
    assert_same_answers(result, native(server, data_set), health["classes"])


@pytest.mark.parametrize("compression", ["gzip", "deflate"])
@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_tritonclients_compressed_requests_get_the_native_answers(
    server, triton, health, data_set, binary, compression
):
    result = triton.infer(
        MODEL,
        inputs(data_set, binary),
        request_compression_algorithm=compression,
        response_compression_algorithm=compression,  # asked for, not required: an answer as it is is read too
    )
    assert_same_answers(result, native(server, data_set), health["classes"])


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_every_penguin_in_the_data_set_alone_gets_the_native_answer(server, triton, health, data_set, binary):
    expected = native(server, data_set)
    for penguin, prediction in zip(data_set, expected["predictions"]):
        outputs = [triton_http.InferRequestedOutput(name, binary_data=binary) for name in ("species", "probabilities")]
        result = triton.infer(MODEL, inputs([penguin], binary), outputs=outputs)
        assert_same_answers(result, {**expected, "predictions": [prediction]}, health["classes"])


@pytest.mark.parametrize(
    ("description", "sent", "as_native"),
    [
        ("upper case", {"island": "TORGERSEN", "sex": "MALE"}, {"island": "Torgersen", "sex": "male"}),
        ("mixed case, spaces", {"island": " dream", "sex": "Female "}, {"island": "Dream", "sex": "female"}),
        ("empty sex", {"sex": ""}, {"sex": None}),
        ("NA sex", {"sex": "NA"}, {"sex": None}),
        ("dot sex", {"sex": "."}, {"sex": None}),
    ],
)
@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_case_and_unknown_sex_follow_the_csv_rules(server, triton, health, description, sent, as_native, binary):
    penguins = [{**SEED_EXAMPLES["Chinstrap"], **sent}, {**SEED_EXAMPLES["Gentoo"], **sent}]
    expected = native(server, [{**penguin, **as_native} for penguin in penguins])
    assert_same_answers(triton.infer(MODEL, inputs(penguins, binary)), expected, health["classes"])


@pytest.mark.parametrize(
    ("description", "options"),
    [
        ("shape [N, 1]", {"column": True}),
        ("FP64", {"dtype": np.float64}),
        ("INT32", {"dtype": np.int32}),
        ("UINT16", {"dtype": np.uint16}),
        ("no sex input", {"sex": False}),
    ],
)
@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_shapes_datatypes_and_a_missing_sex(server, triton, health, description, options, binary):
    penguins = [
        {**p, "bill_length_mm": round(p["bill_length_mm"]), "bill_depth_mm": round(p["bill_depth_mm"])}
        for p in SEED_EXAMPLES.values()
    ]
    as_native = penguins if options.get("sex", True) else [{**p, "sex": None} for p in penguins]
    result = triton.infer(MODEL, inputs(penguins, binary, **options))
    assert_same_answers(result, native(server, as_native), health["classes"])


@pytest.mark.parametrize(
    "requested",
    [[("species", True)], [("probabilities", False)], [("probabilities", True), ("species", False)]],
    ids=["species-binary", "probabilities-json", "both-mixed"],
)
def test_requested_outputs_alone_in_their_order_and_encoding(triton, requested):
    outputs = [triton_http.InferRequestedOutput(name, binary_data=binary) for name, binary in requested]
    result = triton.infer(MODEL, inputs([ADELIE], binary=True), outputs=outputs, request_id="field-7")
    response = result.get_response()
    assert response["id"] == "field-7"
    assert [o["name"] for o in response["outputs"]] == [name for name, _ in requested]
    for output, (_, binary) in zip(response["outputs"], requested):
        assert ("data" in output) is not binary and ("binary_data_size" in output.get("parameters", {})) is binary
    if "species" in dict(requested):
        assert species_of(result) == ["Adelie"]
    if "probabilities" in dict(requested):
        assert abs(float(result.as_numpy("probabilities").sum()) - 1) < 1e-5


def test_the_version_in_the_path(triton, health):
    result = triton.infer(MODEL, inputs([ADELIE], binary=True), model_version=health["version"])
    assert species_of(result) == ["Adelie"]
    with pytest.raises(InferenceServerException) as raised:
        triton.infer(MODEL, inputs([ADELIE], binary=True), model_version="0" + health["version"])
    assert raised.value.status() == "404" and health["version"] in raised.value.message()


ERRORS = [
    ("other-model", ADELIE, "404", "There is no model 'other-model'"),
    (MODEL, {**ADELIE, "body_mass_g": 3.75}, "422", "body_mass_g[0] must be between 2500 and 7000"),
    (MODEL, {**ADELIE, "island": "Mars"}, "422", "island[0] must be one of 'Biscoe', 'Dream', 'Torgersen'"),
    (MODEL, {**ADELIE, "sex": "unknown"}, "422", "sex[0] must be one of 'female', 'male'"),
]
# JSON has no NaN (tritonclient's JSON encoder refuses it before sending): binary only.
NAN = (MODEL, {**ADELIE, "bill_length_mm": float("nan")}, "422", "bill_length_mm[0] must be a finite number")


@pytest.mark.parametrize(
    ("binary", "model", "penguin", "status", "says"),
    [(True, *case) for case in [*ERRORS, NAN]] + [(False, *case) for case in ERRORS],
)
def test_errors_reach_the_client_as_sentences(triton, binary, model, penguin, status, says):
    with pytest.raises(InferenceServerException) as raised:
        triton.infer(model, inputs([penguin], binary))
    assert raised.value.status() == status and says in raised.value.message(), raised.value.message()


def test_a_batch_error_names_every_bad_row(server):
    penguins = [ADELIE, {**ADELIE, "body_mass_g": 3.75}, ADELIE, {**ADELIE, "flipper_length_mm": 400}]
    status, headers, answer = server.post_json(INFER, json_request(penguins))
    assert status == 422 and headers["Content-Type"] == "application/json"
    assert [d["loc"] for d in answer["detail"]] == [["body_mass_g", 1], ["flipper_length_mm", 3]]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", INFER, 405),
        ("POST", f"/v2/models/{MODEL}", 405),
        ("GET", "/v2/models", 404),
        ("GET", f"/v2/models/{MODEL}/config", 404),
        ("GET", f"/v2/models/{MODEL}/versions", 404),
        ("GET", "/v2/repository/index", 404),
        ("GET", "/v2x", 404),
    ],
)
def test_paths_and_methods_that_are_not_here(server, method, path, status):
    got, headers, answer = server.request(method, path, b"{}" if method == "POST" else None)
    assert got == status and headers["Content-Type"] == "application/json"
    assert answer["error"]


def test_each_infer_logs_one_line_with_the_format_and_a_prediction_summary(server, triton, health):
    penguins = [ADELIE, SEED_EXAMPLES["Gentoo"], SEED_EXAMPLES["Gentoo"]]
    triton.infer(MODEL, inputs(penguins, binary=True))
    triton.infer(MODEL, inputs([ADELIE], binary=False), request_id="single")
    lines = [line for line in server.log_lines() if line.get("httpRequest", {}).get("requestUrl") == INFER]
    batch, single = lines[-2:]
    assert batch["format"] == single["format"] == "v2"
    assert batch["model_version"] == single["model_version"] == health["version"]
    # The fields the service builds for the native API: counts per species for many, the species for one.
    expected = dict(Counter(p["prediction"] for p in native(server, penguins)["predictions"]))
    assert batch["predicted_classes"] == expected and batch["rows"] == 3
    assert single["predicted_class"] == native(server, [ADELIE])["predictions"][0]["prediction"]
    assert single["input"]["island"] == "Torgersen" and 0 < single["confidence"] <= 1


def test_tritonclients_default_bytes_get_a_binary_answer_sized_as_it_says(server):
    body, headers = request_body([ADELIE])
    request = urllib.request.Request(server.url + INFER, data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        status, answer_headers, payload = response.status, response.headers, response.read()
    assert status == 200 and answer_headers["Content-Type"] == "application/octet-stream"
    length = int(answer_headers["Inference-Header-Content-Length"])
    header = json.loads(payload[:length])
    sizes = [o["parameters"]["binary_data_size"] for o in header["outputs"]]
    assert length + sum(sizes) == len(payload)
    assert payload[length : length + sizes[0]] == len(b"Adelie").to_bytes(4, "little") + b"Adelie"


def json_request(penguins: list[dict]) -> dict:
    """A V2 request body with JSON tensors, as tritonclient writes them."""
    return {"inputs": [t._get_tensor() for t in inputs(penguins, binary=False)]}


def test_the_protocol_is_imported_by_the_first_v2_request_only():
    """Neither the protocol's modules nor numpy load for the native API, nor numpy for one penguin in V2."""
    code = f"""
import json, sys
import functions_framework
from werkzeug.test import Client
client = Client(functions_framework.create_app("predict", "main.py"))
v2_modules = lambda: sorted(name for name in sys.modules if "v2" in name.split(".")[-1])
assert client.post("/predict", json={ADELIE!r}).status_code == 200
before = v2_modules()
assert client.post("{INFER}", json={json_request([ADELIE])!r}).status_code == 200
print(json.dumps([before, v2_modules(), "numpy" in sys.modules]))
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=FUNCTION_DIR, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    before, after, numpy_loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert before == [] and {"penguins.v2_api", "penguins.codecs.v2", "penguins.codecs.v2_binary"} <= set(after)
    assert not numpy_loaded
