"""The domain answers: predictions, health and the service description, as plain dicts."""

from __future__ import annotations

from collections import Counter

from . import SERVICE_NAME, __version__
from .domain import LIMITS
from .features import EXPLAINED_FIELDS, FEATURE_NAMES, FIELD_OF_FEATURE, encode, measurements_of
from .model_cache import ServedModel
from .settings import Settings

PROBABILITY_SCALE = 1e6  # probabilities are answered to 6 decimal places


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
    model: ServedModel, penguins: list[dict], is_batch: bool, explain: bool = False
) -> tuple[dict, object]:
    """The response body and what the request log records as the prediction."""
    if not (is_batch or explain):  # the common request, in the fewest calls (each one costs, see tree_tables)
        answer = _predict_penguin(model, penguins[0])
        answer["model_version"] = model.version
        return answer, answer["prediction"]
    answers = predict(model, penguins, explain)
    if is_batch:
        counts = Counter(answer["prediction"] for answer in answers)
        return {"predictions": answers, "model_version": model.version}, dict(counts)
    answer = answers[0]
    answer["model_version"] = model.version
    return answer, answer["prediction"]


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
