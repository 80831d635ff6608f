"""The domain answers: predictions, health and the service description, as plain dicts."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from functools import partial
from operator import itemgetter
from random import random, sample

from .. import SERVICE_NAME, __version__
from ..domain import LIMITS
from ..features import EXPLAINED_FIELDS, FEATURE_NAMES, FIELD_OF_FEATURE, encode, measurements_of
from ..model.cache import ServedModel
from ..settings import Settings
from .tree_tables import VECTORIZE_FROM_ROWS

PROBABILITY_SCALE = 1e6  # probabilities are answered to 6 decimal places
# A many-row request's line summarises its answers: counts per class, the confidence on these fixed bins
# (the top probability is at least 1/3 with three classes), and at most MAX_LOGGED_INPUTS of its inputs,
# so that a line of 10,000 rows stays a few KB, far below Cloud Logging's 256 KB per entry.
CONFIDENCE_BIN_EDGES = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)
MAX_LOGGED_INPUTS = 20
_PREDICTION, _WARNINGS = itemgetter("prediction"), itemgetter("warnings")


def _answer(model: ServedModel, measurements: list[float], probabilities: list[float]) -> dict:
    """One penguin's answer; measurements: its four, or its whole encoded row (which starts with them)."""
    classes = model.classes
    species = classes[probabilities.index(max(probabilities))]
    # To the nearest millionth: int(x + 0.5) does what round(p, 6) does at a quarter of its cost. The three
    # species (an artifact must have exactly SPECIES) are written out: a comprehension is one more frame.
    (first, second, third), (p0, p1, p2), scale = classes, probabilities, PROBABILITY_SCALE
    rounded = {
        first: int(p0 * scale + 0.5) / scale,
        second: int(p1 * scale + 0.5) / scale,
        third: int(p2 * scale + 0.5) / scale,
    }
    return {"prediction": species, "probabilities": rounded, "warnings": model.warnings(measurements, species)}


def _predict_penguin(model: ServedModel, penguin: dict) -> dict:
    """One penguin through the predictor's tables for its sex and island: the per-request path."""
    measurements = measurements_of(penguin)
    probabilities = model.predictor.predict_penguin(measurements, penguin.get("sex"), penguin["island"])
    return _answer(model, measurements, probabilities)


def predict(model: ServedModel, penguins: list[dict], explain: bool = False) -> list[dict]:
    """One prediction dict (species, probabilities, warnings; contributions if asked) per penguin, in order."""
    if len(penguins) == 1:
        answers = [_predict_penguin(model, penguins[0])]
    elif len(penguins) >= VECTORIZE_FROM_ROWS:
        from .batch import answers as batch_answers  # numpy's path: only batches import it

        answers = batch_answers(model, penguins, PROBABILITY_SCALE)
    else:
        rows = [encode(penguin) for penguin in penguins]
        probabilities = model.predictor.predict_proba(rows)
        answers = [_answer(model, row, row_probabilities) for row, row_probabilities in zip(rows, probabilities)]
    if explain:
        explainer = model.explainer
        for answer, penguin in zip(answers, penguins):
            answer["contributions"] = _by_field(model.classes, explainer.bias, explainer.contributions(encode(penguin)))
    return answers


def _by_field(classes: tuple[str, ...], bias: tuple[float, ...], per_class: list[list[float]]) -> dict:
    """Contributions per species, one-hot columns summed back into the request's fields."""
    out = {}
    for name, class_bias, values in zip(classes, bias, per_class):
        fields = dict.fromkeys(EXPLAINED_FIELDS, 0.0)
        for feature, value in zip(FEATURE_NAMES, values):
            fields[FIELD_OF_FEATURE[feature]] += value
        out[name] = {"bias": class_bias, **fields}
    return out


def predict_response(
    model: ServedModel,
    penguins: list[dict],
    is_batch: bool,
    explain: bool = False,
    input_fraction: float = 1.0,
    log_format: str = "json",
) -> tuple[dict, dict]:
    """The response body and the request line's monitoring fields (see prediction_log_fields)."""
    if not (is_batch or explain):  # the common request, in the fewest calls (each one costs, see tree_tables)
        penguin = penguins[0]
        answer = _predict_penguin(model, penguin)
        answer["model_version"] = model.version
        return answer, _single_log_fields(log_format, answer, penguin, input_fraction)
    answers = predict(model, penguins, explain)
    if is_batch:
        return {"predictions": answers, "model_version": model.version}, _many_log_fields(
            log_format, answers, penguins, input_fraction, 0
        )
    answer = answers[0]
    answer["model_version"] = model.version
    return answer, _single_log_fields(log_format, answer, penguins[0], input_fraction)


def rows_log_fields(
    log_format: str, rows: Sequence[dict | str], answers: Sequence[dict], input_fraction: float
) -> dict:
    """prediction_log_fields for a format whose rows may fail one by one (rows as validate_rows gives them)."""
    predicted = [answer for answer in answers if "prediction" in answer]
    penguins = [row for row in rows if isinstance(row, dict)]
    return _many_log_fields(log_format, predicted, penguins, input_fraction, len(answers) - len(predicted))


def prediction_log_fields(
    log_format: str,
    answers: Sequence[dict],
    penguins: Sequence[dict],
    input_fraction: float = 1.0,
    failed_rows: int = 0,
) -> dict:
    """The request line's monitoring fields, for any way in (log_format: "json", "csv", "bigquery", "v2").

    answers are the predictions made (each with "prediction", "probabilities", "warnings"), penguins the
    validated inputs they answer, in the same order; failed_rows counts the rows that got an error instead.
    One answer logs `predicted_class`, `confidence` (its top probability), `warnings` (a count) and, on a
    share input_fraction of lines, `input`; more log bounded summaries (see _many_log_fields).
    """
    if len(answers) == 1 and not failed_rows:
        return _single_log_fields(log_format, answers[0], penguins[0], input_fraction)
    return _many_log_fields(log_format, answers, penguins, input_fraction, failed_rows)


def _single_log_fields(log_format: str, answer: dict, penguin: dict, input_fraction: float) -> dict:
    species = answer["prediction"]
    fields = {
        "format": log_format,
        "predicted_class": species,
        "confidence": answer["probabilities"][species],
        "warnings": len(answer["warnings"]),
    }
    if input_fraction >= 1.0 or random() < input_fraction:  # no random number for the default of every line
        fields["input"] = penguin
    return fields


def _many_log_fields(
    log_format: str, answers: Sequence[dict], penguins: Sequence[dict], input_fraction: float, failed_rows: int
) -> dict:
    """Counts per class, a confidence summary on fixed bins, the warning count and a bounded input sample."""
    # map and itemgetter rather than generator expressions: a line of 10,000 rows is summed in a third of the time.
    confidences = [answer["probabilities"][answer["prediction"]] for answer in answers]
    per_bin = Counter(map(partial(bisect_right, CONFIDENCE_BIN_EDGES), confidences))
    bins = [per_bin.get(index, 0) for index in range(len(CONFIDENCE_BIN_EDGES) + 1)]
    fields: dict = {
        "format": log_format,
        "rows": len(answers) + failed_rows,
        "predicted_classes": dict(Counter(map(_PREDICTION, answers))),
        "warnings": sum(map(len, map(_WARNINGS, answers))),
    }
    if failed_rows:
        fields["failed_rows"] = failed_rows
    if confidences:
        fields["confidence_summary"] = {
            "min": min(confidences),
            "mean": round(sum(confidences) / len(confidences), 6),
            "max": max(confidences),
            "bin_edges": CONFIDENCE_BIN_EDGES,
            "counts": bins,
        }
    if penguins and (input_fraction >= 1.0 or random() < input_fraction):
        chosen = sorted(sample(range(len(penguins)), min(MAX_LOGGED_INPUTS, len(penguins))))
        fields["inputs_sample"] = [penguins[i] for i in chosen]
    return fields


def predict_rows(model: ServedModel, rows: list[dict | str]) -> list[dict]:
    """One answer per row of another format, in order: a prediction per penguin, {"error": sentence} per bad row.

    rows are what validation.validate_rows returns; the penguins go through the batch path together.
    """
    penguins = [row for row in rows if not isinstance(row, str)]
    predictions = iter(predict(model, penguins) if penguins else ())
    return [{"error": row} if isinstance(row, str) else next(predictions) for row in rows]


def health(model: ServedModel, degraded_reason: str | None, why: str = "") -> dict:
    """The /health body for a servable model: which model answers (its source) and why."""
    body = {"status": "degraded" if degraded_reason else "ok", "model": model.info(), "why": why}
    if degraded_reason:
        body["reason"] = degraded_reason
    return body


def service_info(model: ServedModel, settings: Settings) -> dict:
    """The / body: what this is, which model answers, and where to go next."""
    return {
        "service": SERVICE_NAME,
        "version": __version__,
        "model": model.info(),
        "limits": {name: {"min": limit.low, "max": limit.high} for name, limit in LIMITS.items()},
        "max_batch_size": settings.max_batch_size,
        "links": {"predict": "/predict", "health": "/health", "openapi": "/openapi.json"},
    }
