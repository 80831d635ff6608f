"""Every field of a V2 inference request checked for its JSON type at every depth: a 400 naming it, never a 500.

And each leniency docs/v2.md names ("What the V2 surface refuses and what it accepts leniently") holds.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from penguins.codecs import v2, v2_types
from penguins.errors import InvalidTensors
from tests.support.strategies import examples, json_values
from tools.examples import ADELIE

INFER = f"/v2/models/{v2.MODEL_NAME}/infer"
FIELDS = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "island", "sex")


def _tensor(name: str) -> dict:
    datatype = "BYTES" if name in ("island", "sex") else "FP64"
    return {"name": name, "shape": [1], "datatype": datatype, "data": [ADELIE[name]]}


def request(**changes: object) -> dict:
    return {"inputs": [_tensor(name) for name in FIELDS], **changes}


def island(**changes: object) -> dict:
    """The request with the island input (inputs[4]) changed."""
    body = request()
    body["inputs"][4] = {**body["inputs"][4], **changes}
    return body


# (id, body, the loc of the refused field, what the sentence says it must be, what it says came)
WRONG_TYPES = [
    ("request-array", [request()], [], "a JSON object", "an array"),
    ("id-number", request(id=7), ["id"], "a string", "a number (7)"),
    ("id-object", request(id={}), ["id"], "a string", "an object"),
    ("parameters-array", request(parameters=[]), ["parameters"], "an object", "an array"),
    ("parameters-string", request(parameters=""), ["parameters"], "an object", "a string ('')"),
    (
        "binary-data-output-number",
        request(parameters={"binary_data_output": 1}),
        ["parameters", "binary_data_output"],
        "true or false",
        "a number (1)",
    ),
    ("inputs-object", {"inputs": {}}, ["inputs"], "a list of tensors", "an object"),
    ("inputs-string", {"inputs": "bill_length_mm"}, ["inputs"], "a list of tensors", "a string"),
    ("input-array", request(inputs=[[]]), ["inputs", 0], "an object with name", "an array"),
    ("input-name-array", island(name=[]), ["inputs", 4, "name"], "a string", "an array"),
    ("input-name-object", island(name={}), ["inputs", 4, "name"], "a string", "an object"),
    ("input-name-null", island(name=None), ["inputs", 4, "name"], "a string", "null"),
    ("input-datatype-array", island(datatype=["BYTES"]), ["inputs", 4, "datatype"], "a string", "an array"),
    ("input-shape-object", island(shape={"0": 1}), ["inputs", 4, "shape"], "an array", "an object"),
    ("input-shape-nested", island(shape=[[1]]), ["inputs", 4, "shape", 0], "a whole number", "an array"),
    ("input-shape-second-dim", island(shape=[1, "1"]), ["inputs", 4, "shape", 1], "a whole number", "a string"),
    ("input-shape-float", island(shape=[1.0]), ["inputs", 4, "shape", 0], "a whole number", "a number (1.0)"),
    ("input-shape-boolean", island(shape=[True]), ["inputs", 4, "shape", 0], "a whole number", "a boolean"),
    ("input-parameters-array", island(parameters=[]), ["inputs", 4, "parameters"], "an object", "an array"),
    (
        "input-binary-size-string",
        island(parameters={"binary_data_size": "9"}),
        ["inputs", 4, "parameters", "binary_data_size"],
        "a whole number",
        "a string",
    ),
    ("input-data-object", island(data={"0": "Dream"}), ["inputs", 4, "data"], "an array of values", "an object"),
    ("input-data-null", island(data=None), ["inputs", 4, "data"], "an array of values", "null"),
    ("input-data-object-value", island(data=[{}]), ["inputs", 4, "data", 0], "a value", "an object"),
    ("input-data-nested-in-flat", island(data=[["Dream"]]), ["inputs", 4, "data", 0], "flat array", "an array"),
    (
        "input-data-nested-twice",
        island(shape=[1, 1], data=[[["Dream"]]]),
        ["inputs", 4, "data", 0, 0],
        "nests one level at most",
        "an array",
    ),
    ("input-data-object-in-a-row", island(shape=[1, 1], data=[[{}]]), ["inputs", 4, "data", 0, 0], "a value", "object"),
    ("outputs-object", request(outputs={}), ["outputs"], "an array", "an object"),
    ("outputs-empty-string", request(outputs=""), ["outputs"], "an array", "a string ('')"),
    ("outputs-zero", request(outputs=0), ["outputs"], "an array", "a number (0)"),
    ("outputs-false", request(outputs=False), ["outputs"], "an array", "a boolean (false)"),
    ("output-array", request(outputs=[[]]), ["outputs", 0], "an object with a name", "an array"),
    ("output-name-array", request(outputs=[{"name": ["species"]}]), ["outputs", 0, "name"], "a string", "an array"),
    ("output-name-object", request(outputs=[{"name": {}}]), ["outputs", 0, "name"], "a string", "an object"),
    ("output-name-missing", request(outputs=[{}]), ["outputs", 0, "name"], "a string", "missing"),
    (
        "output-parameters-array",
        request(outputs=[{"name": "species", "parameters": []}]),
        ["outputs", 0, "parameters"],
        "an object",
        "an array",
    ),
    (
        "output-binary-data-string",
        request(outputs=[{"name": "species", "parameters": {"binary_data": "true"}}]),
        ["outputs", 0, "parameters", "binary_data"],
        "true or false",
        "a string ('true')",
    ),
]


@pytest.mark.parametrize(("body", "loc", "must", "got"), [c[1:] for c in WRONG_TYPES], ids=[c[0] for c in WRONG_TYPES])
def test_a_field_of_the_wrong_type_is_a_400_naming_it_its_type_and_what_came(client, body, loc, must, got):
    response = client.post(INFER, json=body)
    assert response.status_code == 400, response.data[:300]
    error = response.get_json()
    assert set(error) == {"error", "detail"}
    assert error["detail"][0]["loc"] == loc
    sentence = error["error"]
    assert must in sentence and got in sentence, sentence
    where = ".".join(str(part) for part in loc[:1])
    assert sentence.startswith(where) or not loc or "The inference request" in sentence, sentence


def _species(response) -> list:
    assert response.status_code == 200, response.data[:300]
    outputs = {output["name"]: output for output in response.get_json()["outputs"]}
    return outputs["species"]["data"] if "species" in outputs else []


@pytest.mark.parametrize(
    "body",
    [
        request(id=None, parameters=None, outputs=None),  # pydantic-serialised clients (MLServer's) send nulls
        request(outputs=[]),  # no output asked for: all of them, as Triton answers
        request(parameters={"content_type": "np", "headers": {"x": 1}, "binary_data_output": None}),
        request(extension_field={"anything": [1]}),  # unknown fields: ignored
        island(parameters={"content_type": "str", "binary_data_size": None}, note="unknown input field"),
        request(outputs=[{"name": "species", "parameters": {"binary_data": None, "custom": [1, 2]}, "extra": 1}]),
        island(shape=[1, 1], data=[["Torgersen"]]),  # shape [N, 1], rows nested
    ],
    ids=[
        "nulls-as-absent",
        "outputs-empty",
        "unknown-parameters",
        "unknown-field",
        "unknown-input-field-and-param",
        "unknown-output-parameter",
        "rows-nested",
    ],  # fmt: skip
)
def test_each_documented_leniency_is_answered(client, body):
    assert _species(client.post(INFER, json=body)) == ["Adelie"]


def test_a_wrong_type_is_never_read_as_no_preference(client):
    """outputs {} once meant 'every output': a wrong type must not fall back to the default."""
    for outputs in ({}, "", 0, False, {"name": "species"}):
        assert client.post(INFER, json=request(outputs=outputs)).status_code == 400, outputs
    for parameters in ([], "", 0, False):
        assert client.post(INFER, json=request(parameters=parameters)).status_code == 400, parameters


def test_a_wrong_scalar_in_data_is_the_penguin_rules_422_as_in_post_predict(client):
    """A value's own type (a string for a number) is the one validation's: the native sentence, located by row."""
    body = request()
    body["inputs"][0] = {**body["inputs"][0], "data": ["39.1"]}
    response = client.post(INFER, json=body)
    assert response.status_code == 422
    assert response.get_json()["error"] == (
        "bill_length_mm[0] must be a JSON number in millimetres, not a string ('39.1') (send it without quotes)"
    )


# --- the quick check a valid request takes, held to the check that words the errors ---

_PATHS = [  # where a mutation lands: a key at the top, in an input, in its parameters, in an output
    (),
    ("inputs", 4),
    ("inputs", 4, "parameters"),
    ("inputs", 0, "shape"),
    ("parameters",),
    ("outputs", 0),
    ("outputs", 0, "parameters"),
]
_KEYS = ["id", "inputs", "outputs", "parameters", "name", "datatype", "shape", "data", "binary_data_size",
         "binary_data_output", "binary_data", 0, 1]  # fmt: skip


def _mutated(path: tuple, key: object, value: object) -> object:
    body = request(outputs=[{"name": "species", "parameters": {"binary_data": False}}], parameters={})
    body["inputs"][4]["parameters"] = {}
    target = body
    for step in path:
        target = target[step]
    if isinstance(target, list):
        if isinstance(key, int):
            target[key : key + 1] = [value]  # in place, or appended past the end
    elif not isinstance(key, int):
        target[key] = value
    return body


@pytest.mark.parametrize(("body", "loc", "must", "got"), [c[1:] for c in WRONG_TYPES], ids=[c[0] for c in WRONG_TYPES])
def test_the_quick_check_passes_no_wrong_type(body, loc, must, got):
    assert not v2_types._well_typed(body)
    with pytest.raises(InvalidTensors):
        v2_types.check_request(body)


def test_the_quick_check_passes_a_valid_request_and_the_documented_leniencies_alike():
    assert v2_types._well_typed(request())
    assert v2_types._well_typed(request(id=None, parameters=None, outputs=None))
    assert v2_types._well_typed(_mutated(("outputs", 0, "parameters"), "binary_data", True))


def test_what_the_quick_check_passes_the_wording_check_passes_too(long_run):
    """The quick check may send a valid request on to the wording check, never let a wrong type through."""
    verdicts = []

    @settings(max_examples=examples(long_run), deadline=None, suppress_health_check=list(HealthCheck))
    @given(path=st.sampled_from(_PATHS), key=st.sampled_from(_KEYS), value=json_values)
    def check(path, key, value):
        body = _mutated(path, key, value)
        passed = v2_types._well_typed(body)
        verdicts.append(passed)
        if passed:
            v2_types._explain(body)  # raises if the quick check let a wrong type through

    check()
    # Both verdicts came up, so the test held the quick check on both sides.
    assert any(verdicts) and not all(verdicts), (sum(verdicts), len(verdicts))
