"""The request line's monitoring fields (what log-based metrics and the drift report read), through the real app."""

from __future__ import annotations

import json

import pytest

from penguins import service
from penguins.domain import LIMITS
from penguins.errors import SettingsError
from penguins.settings import Settings
from tests.support.paths import BUNDLED_MODEL
from tools.examples import ADELIE, SEED_EXAMPLES, random_penguins

JSON = {"Content-Type": "application/json"}
CLOUD_LOGGING_ENTRY_LIMIT_BYTES = 256 * 1024


def request_lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"httpRequest"' in line]


def validated(penguin: dict) -> dict:
    """A penguin as validation hands it on: the measurements as floats, the rest as sent."""
    return {key: float(value) if key in LIMITS else value for key, value in penguin.items()}


def post(client, payload) -> dict:
    response = client.post("/predict", data=json.dumps(payload), headers=JSON)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@pytest.mark.parametrize(
    "penguin",
    [*SEED_EXAMPLES.values(), {**ADELIE, "sex": None}, {k: v for k, v in ADELIE.items() if k != "sex"}],
    ids=[*SEED_EXAMPLES, "sex-null", "sex-absent"],
)
def test_a_single_prediction_logs_its_class_confidence_warnings_and_inputs(client, capsys, penguin):
    capsys.readouterr()
    answer = post(client, penguin)
    [line] = request_lines(capsys)
    assert line["format"] == "json"
    assert line["predicted_class"] == answer["prediction"]
    assert line["confidence"] == max(answer["probabilities"].values())
    assert line["warnings"] == len(answer["warnings"])
    assert line["input"] == validated(penguin)
    assert line["model_version"] == answer["model_version"]


def test_warnings_are_counted(client, capsys):
    capsys.readouterr()
    answer = post(client, {**ADELIE, "body_mass_g": 6900, "bill_length_mm": 59})  # outside training: warnings
    [line] = request_lines(capsys)
    assert len(answer["warnings"]) >= 2
    assert line["warnings"] == len(answer["warnings"])


@pytest.mark.parametrize(("fraction", "low", "high"), [("0", 0, 0), ("0.5", 0.35, 0.65), ("1", 1, 1)])
def test_log_inputs_fraction_samples_the_lines_that_carry_inputs(make_client, capsys, fraction, low, high):
    client = make_client(LOG_INPUTS_FRACTION=fraction)
    capsys.readouterr()
    for _ in range(200):
        post(client, ADELIE)
    lines = request_lines(capsys)
    assert len(lines) == 200
    carrying = sum("input" in line for line in lines) / len(lines)
    assert low <= carrying <= high
    assert all(line["predicted_class"] == "Adelie" for line in lines)  # the rest is on every line


@pytest.mark.parametrize("raw", ["-0.1", "1.5", "half", "nan"])
def test_a_bad_log_inputs_fraction_is_refused_naming_the_variable(raw):
    with pytest.raises(SettingsError, match="LOG_INPUTS_FRACTION"):
        Settings.from_env({"LOG_INPUTS_FRACTION": raw})


@pytest.mark.parametrize("rows", [2, 25, 10_000])
def test_a_batch_logs_bounded_summaries_far_below_the_entry_limit(make_client, capsys, rows):
    client = make_client()
    penguins = random_penguins(rows, seed=rows)
    capsys.readouterr()
    answer = post(client, {"instances": penguins})
    out = capsys.readouterr().out
    [raw] = [line for line in out.splitlines() if '"httpRequest"' in line]
    line = json.loads(raw)
    predicted = [p["prediction"] for p in answer["predictions"]]
    confidences = [max(p["probabilities"].values()) for p in answer["predictions"]]
    assert line["format"] == "json" and line["rows"] == rows and "predicted_class" not in line
    assert line["predicted_classes"] == {name: predicted.count(name) for name in set(predicted)}
    assert line["warnings"] == sum(len(p["warnings"]) for p in answer["predictions"])
    summary = line["confidence_summary"]
    assert (summary["min"], summary["max"]) == (min(confidences), max(confidences))
    assert summary["mean"] == pytest.approx(sum(confidences) / rows, abs=1e-6)
    assert sum(summary["counts"]) == rows and len(summary["counts"]) == len(summary["bin_edges"]) + 1
    sample = line["inputs_sample"]
    assert len(sample) == min(rows, service.MAX_LOGGED_INPUTS)
    assert all(penguin in [validated(p) for p in penguins] for penguin in sample)
    assert len(raw) < 8 * 1024 < CLOUD_LOGGING_ENTRY_LIMIT_BYTES


def test_adapters_get_the_same_fields_from_the_shared_function():
    """What a CSV, BigQuery or V2 adapter calls with its answers, including rows that failed."""
    from penguins.model_cache import load_served_model
    from penguins.validation import PENGUIN

    model = load_served_model(str(BUNDLED_MODEL))
    penguins = [PENGUIN.validate_python(p) for p in random_penguins(30, seed=3)]
    answers = service.predict(model, penguins)
    one = service.prediction_log_fields("bigquery", answers[:1], penguins[:1])
    assert one == {
        "format": "bigquery",
        "predicted_class": answers[0]["prediction"],
        "confidence": max(answers[0]["probabilities"].values()),
        "warnings": len(answers[0]["warnings"]),
        "input": penguins[0],
    }
    many = service.prediction_log_fields("csv", answers, penguins, input_fraction=0, failed_rows=2)
    assert many["format"] == "csv" and many["rows"] == 32 and many["failed_rows"] == 2
    assert sum(many["predicted_classes"].values()) == 30 and "inputs_sample" not in many
    only_failures = service.prediction_log_fields("csv", [], [], failed_rows=3)
    assert only_failures == {"format": "csv", "rows": 3, "predicted_classes": {}, "warnings": 0, "failed_rows": 3}


def test_a_year_past_64_bits_is_answered_and_logged(client, capsys):
    """orjson refuses integers over 64 bits; the validated input (year included) is logged all the same."""
    response = client.post("/predict", json={**ADELIE, "year": 2**70})
    assert response.status_code == 200 and response.get_json()["prediction"] == "Adelie"
    [line] = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"httpRequest"' in x]
    assert line["input"]["year"] == 2**70 and line["httpRequest"]["status"] == 200
