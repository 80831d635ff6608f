"""Generated inputs: schemathesis against the function's own OpenAPI document, hypothesis on validation.

Every generated request must get a documented status and never a 5xx, and every answer must conform to
the schema. The number of cases run is printed (pytest -s, or the README's Reliability section).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from penguins.errors import ApiError
from penguins.features import FEATURE_NAMES, encode
from penguins.validation import parse_predict_request
from tests.support.strategies import examples, field_values, json_values, near_valid_penguin, valid_penguin
from tools.examples import ADELIE

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"

penguin_like = st.fixed_dictionaries({}, optional={name: field_values for name in ADELIE}).flatmap(
    lambda d: st.just(d)
    | st.dictionaries(st.text(max_size=12), json_values, max_size=3).map(lambda extra: {**d, **extra})
)


def test_schemathesis_against_the_live_openapi_document(start_server, tmp_path, long_run):
    server = start_server()
    report = tmp_path / "schemathesis.json"
    result = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            f"{server.url}/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            "1000" if long_run else "50",
            "--seed",
            "1",
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    summary = json.loads(report.read_text())
    cases = summary["test_cases"]
    print(f"\nschemathesis: {cases['generated']} generated cases, {cases['with_failures']} with failures")
    assert summary["operations"]["tested"] >= 4
    assert cases["generated"] > 300 and cases["with_failures"] == 0 and summary["errors"] == []
    statuses = [line["httpRequest"]["status"] for line in server.log_lines() if "httpRequest" in line]
    assert statuses and max(statuses) < 500


@pytest.mark.parametrize("batch", [False, True], ids=["single", "batch"])
def test_any_json_body_validates_or_is_a_4xx_never_an_exception(batch, long_run):
    counted = []

    @settings(max_examples=examples(long_run), deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        body=st.lists(penguin_like, max_size=4).map(lambda items: {"instances": items})
        if batch
        else penguin_like | json_values
    )
    def check(body):
        raw = json.dumps(body, allow_nan=True).encode()
        counted.append(1)
        try:
            penguins, is_batch, _ = parse_predict_request(raw, max_batch_size=10)
        except ApiError as exc:
            assert 400 <= exc.status < 500
            assert exc.error and isinstance(exc.detail, list)
            json.dumps(exc.body(), allow_nan=False)  # the error body is itself valid JSON
            return
        for penguin in penguins:
            row = encode(penguin)
            assert len(row) == len(FEATURE_NAMES)
            assert all(math.isfinite(v) for v in row[:4])

    check()
    print(f"\nhypothesis ({'batch' if batch else 'single'} bodies): {len(counted)} cases")
    assert len(counted) >= examples(long_run) // 2


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=300))
def test_any_bytes_are_answered_with_a_4xx_or_a_prediction(raw):
    try:
        parse_predict_request(raw, max_batch_size=10)
    except ApiError as exc:
        assert exc.status in (400, 422)


def _verdict(validate, raw: bytes) -> tuple:
    """What a validator makes of a body: the validated value, or its errors' (loc, type) in order."""
    from pydantic import ValidationError as ModelValidationError
    from pydantic_core import ValidationError

    try:
        value = validate(raw)
    except (ValidationError, ModelValidationError) as exc:
        types = {"dict_type": "model_type"}  # typed dicts name the models' error differently
        return "invalid", [(err["loc"], types.get(err["type"], err["type"])) for err in exc.errors()]
    return "valid", value


@pytest.mark.parametrize("batch", [False, True], ids=["single", "batch"])
def test_the_runtime_validators_decide_exactly_as_the_pydantic_models(batch, long_run):
    """Serving validates with validators exported from schema.py's models: same verdict, value and errors."""
    from penguins.schema import Penguin, PredictBatchRequest
    from penguins.validation import BATCH, PENGUIN

    model, validator = (PredictBatchRequest, BATCH) if batch else (Penguin, PENGUIN)
    counted, verdicts = [], Counter()

    @settings(max_examples=examples(long_run), deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        body=st.lists(valid_penguin | near_valid_penguin, max_size=3).map(lambda items: {"instances": items})
        | st.fixed_dictionaries({"instances": st.lists(valid_penguin, max_size=2)}, optional={"explain": json_values})
        if batch
        else valid_penguin | near_valid_penguin | penguin_like | json_values
    )
    def check(body):
        raw = json.dumps(body, allow_nan=True).encode()
        counted.append(1)
        expected = _verdict(model.model_validate_json, raw)
        got = _verdict(validator.validate_json, raw)
        verdicts[expected[0]] += 1
        if expected[0] == "valid":
            fields = expected[1].model_dump(exclude_unset=True)  # the runtime dicts hold only the keys sent
            assert got == ("valid", fields)
        else:
            assert got == expected

    check()
    print(f"\nhypothesis (runtime validators against the models, {'batch' if batch else 'single'}): {dict(verdicts)}")
    assert len(counted) >= examples(long_run) // 2
    assert min(verdicts.values()) >= len(counted) // 10, verdicts  # both verdicts well represented
