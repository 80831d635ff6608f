"""Request validation: tables of valid and invalid bodies, and the sentences that say what to fix."""

from __future__ import annotations

import json

import pytest

from penguins.errors import InvalidInput, MalformedJson
from penguins.validation import MAX_DETAILS, parse_predict_request
from tools.examples import ADELIE, SEED_EXAMPLES


def body(**changes) -> bytes:
    penguin = {**ADELIE, **changes}
    return json.dumps({k: v for k, v in penguin.items() if v is not ...}).encode()


@pytest.mark.parametrize(
    "raw",
    [
        *(json.dumps(example).encode() for example in SEED_EXAMPLES.values()),
        body(sex=None),
        body(sex=...),
        body(year=...),
        body(bill_length_mm=30, bill_depth_mm=25, flipper_length_mm=240, body_mass_g=7000),  # limits are inclusive
        body(body_mass_g=3750.5),
        b'  {"bill_length_mm": 39.1, "bill_depth_mm": 18.7, "flipper_length_mm": 181, "body_mass_g": 3750, '
        b'"island": "Torgersen"}\n',
    ],
)
def test_valid_single_penguins(raw):
    penguins, is_batch, _ = parse_predict_request(raw, max_batch_size=10)
    assert not is_batch
    assert len(penguins) == 1
    assert penguins[0]["island"] in ("Torgersen", "Biscoe", "Dream")


def test_valid_batch_keeps_order():
    raw = json.dumps({"instances": list(SEED_EXAMPLES.values())}).encode()
    penguins, is_batch, _ = parse_predict_request(raw, max_batch_size=3)
    assert is_batch
    assert [p["island"] for p in penguins] == ["Torgersen", "Biscoe", "Dream"]


@pytest.mark.parametrize(
    ("raw", "loc", "kind", "says"),
    [
        (body(body_mass_g=3.75), ["body_mass_g"], "greater_than_equal", "kilograms"),
        (body(bill_length_mm=3.91), ["bill_length_mm"], "greater_than_equal", "centimetres"),
        (body(flipper_length_mm=241), ["flipper_length_mm"], "less_than_equal", "between 170 and 240"),
        (body(bill_depth_mm=9.99), ["bill_depth_mm"], "greater_than_equal", "between 10 and 25"),
        (body(bill_length_mm="39.1"), ["bill_length_mm"], "float_type", "without quotes"),
        (body(bill_length_mm=True), ["bill_length_mm"], "float_type", "boolean"),
        (body(bill_length_mm=None), ["bill_length_mm"], "float_type", "null"),
        (body(bill_length_mm=[39.1]), ["bill_length_mm"], "float_type", "array"),
        (body(bill_length_mm=...), ["bill_length_mm"], "missing", "is required"),
        (body(island=...), ["island"], "missing", "'Biscoe', 'Dream', 'Torgersen'"),
        (body(island="torgersen"), ["island"], "literal_error", "did you mean 'Torgersen'"),
        (body(island="Anvers"), ["island"], "literal_error", "must be one of"),
        (body(sex="Male"), ["sex"], "literal_error", "did you mean 'male'"),
        (body(sex="unknown"), ["sex"], "literal_error", "null when unknown"),
        (body(year="2007"), ["year"], "int_type", "whole number"),
        (body(year=2007.5), ["year"], "int_type", "whole number"),
        (body(bill_lenght_mm=39.1), ["bill_lenght_mm"], "extra_forbidden", "did you mean 'bill_length_mm'"),
        (body(species="Adelie"), ["species"], "extra_forbidden", "not a known field"),
        (json.dumps(ADELIE).replace("39.1", "NaN").encode(), ["bill_length_mm"], "finite_number", "finite"),
        (json.dumps(ADELIE).replace("39.1", "Infinity").encode(), ["bill_length_mm"], "finite_number", "finite"),
        (json.dumps(ADELIE).replace("39.1", "-Infinity").encode(), ["bill_length_mm"], "finite_number", "finite"),
        (json.dumps(ADELIE).replace("39.1", "1e400").encode(), ["bill_length_mm"], "finite_number", "finite"),
        (b"[]", [], "model_type", "instances"),
        (b'"Adelie"', [], "model_type", "JSON object"),
        (b"42", [], "model_type", "JSON object"),
        (b"null", [], "model_type", "JSON object"),
        (b'{"instances": []}', ["instances"], "too_short", "at least one"),
        (b'{"instances": {"a": 1}}', ["instances"], "list_type", "JSON array"),
        (b'{"instances": [1]}', ["instances", 0], "model_type", "instances[0]"),
        (
            json.dumps({"instances": [ADELIE], "parameters": {}}).encode(),
            ["parameters"],
            "extra_forbidden",
            "not a known field",
        ),
    ],
)
def test_invalid_bodies_name_the_field_and_the_fix(raw, loc, kind, says):
    with pytest.raises(InvalidInput) as caught:
        parse_predict_request(raw, max_batch_size=10)
    error = caught.value
    assert error.status == 422
    assert [d["loc"] for d in error.detail] == [loc]
    assert error.detail[0]["type"] == kind
    assert says in error.detail[0]["msg"]
    assert error.error == error.detail[0]["msg"]


def test_every_violation_is_listed_with_batch_indexes():
    bad = {**ADELIE, "body_mass_g": 1, "island": "Mars"}
    raw = json.dumps({"instances": [ADELIE, bad, ADELIE, {**ADELIE, "sex": "x"}]}).encode()
    with pytest.raises(InvalidInput) as caught:
        parse_predict_request(raw, max_batch_size=10)
    locs = [d["loc"] for d in caught.value.detail]
    assert locs == [["instances", 1, "body_mass_g"], ["instances", 1, "island"], ["instances", 3, "sex"]]
    assert caught.value.error.startswith("3 problems with the request: instances[1].body_mass_g")


def test_detail_is_capped_and_says_so():
    raw = json.dumps({"instances": [{}] * 50}).encode()
    with pytest.raises(InvalidInput) as caught:
        parse_predict_request(raw, max_batch_size=100)
    assert len(caught.value.detail) == MAX_DETAILS
    assert f"first {MAX_DETAILS} of 250" in caught.value.error


def test_batch_over_the_limit_is_refused_before_validation():
    raw = json.dumps({"instances": [{}] * 11}).encode()
    with pytest.raises(InvalidInput) as caught:
        parse_predict_request(raw, max_batch_size=10)
    assert "11 penguins; the limit is 10" in caught.value.error
    assert caught.value.detail[0]["type"] == "too_long"


@pytest.mark.parametrize("raw", [b"", b"   ", b"{", b'{"bill_length_mm": }', b"{'a': 1}", b"\xff\xfe", b"[" * 5000])
def test_malformed_json_is_a_400(raw):
    with pytest.raises(MalformedJson) as caught:
        parse_predict_request(raw, max_batch_size=10)
    assert caught.value.status == 400
    assert caught.value.detail[0]["type"] == "json_invalid"
    assert "not valid JSON" in caught.value.error


@pytest.mark.parametrize(
    "raw",
    [
        b'{"bill_length_mm" : 39.1, "bill_depth_mm" :18.7, "flipper_length_mm": 181, "body_mass_g": 3750, '
        b'"island" : "Torgersen"}',
        b'{"instances" : [{"bill_length_mm" : 39.1, "bill_depth_mm": 18.7, "flipper_length_mm": 181, '
        b'"body_mass_g": 3750, "island": "Torgersen"}], "explain" : true}',
        b'{"bill_length_mm": 39.1, "bill_depth_mm": 18.7, "flipper_length_mm": 181, "body_mass_g": 3750, '
        b'"island": "Torgersen", "sex": "m\\u0061le"}',
    ],
    ids=["space-before-colon", "batch-space-before-colon", "escaped-value"],
)
def test_unusual_but_valid_spellings_take_the_careful_path_and_pass(raw):
    penguins, _, _ = parse_predict_request(raw, max_batch_size=10)
    assert penguins[0]["island"] == "Torgersen"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"island": "Dream", "bill_length_mm": 39.1, "bill_depth_mm": 18.7, "flipper_length_mm": 181, '
        b'"body_mass_g": 3750, "island": "Torgersen"}',
        b'{"island" : "Dream", "bill_length_mm": 39.1, "bill_depth_mm": 18.7, "flipper_length_mm": 181, '
        b'"body_mass_g": 3750, "island" : "Torgersen"}',
        b'{"instances": [{"island": "Dream", "island": "Biscoe", "bill_length_mm": 39.1, "bill_depth_mm": 18.7, '
        b'"flipper_length_mm": 181, "body_mass_g": 3750}]}',
        b'{"instances": [], "instances": [{"island": "Dream", "bill_length_mm": 39.1, "bill_depth_mm": 18.7, '
        b'"flipper_length_mm": 181, "body_mass_g": 3750}]}',
    ],
    ids=["single", "single-spaced", "in-a-batch-item", "instances-twice"],
)
def test_a_key_named_twice_is_refused(raw):
    with pytest.raises(MalformedJson, match="appears twice"):
        parse_predict_request(raw, max_batch_size=10)


def test_the_exported_validators_are_the_models_of_today():
    """request_schemas.json is generated from schema.py; regenerate it with `python -m penguins.schema`."""
    from penguins.schema import RUNTIME_SCHEMAS_FILE, runtime_schemas

    with open(RUNTIME_SCHEMAS_FILE, encoding="utf-8") as f:
        exported = json.load(f)
    assert exported == runtime_schemas(), "schema.py changed: run `make schemas` and commit request_schemas.json"
