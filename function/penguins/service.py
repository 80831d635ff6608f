"""The domain answers: predictions, health and the service description, as plain dicts."""

from __future__ import annotations

from collections import Counter

from . import SERVICE_NAME, __version__
from .features import EXPLAINED_FIELDS, FEATURE_NAMES, FIELD_OF_FEATURE, encode
from .model_cache import ServedModel
from .schema import LIMITS, Penguin
from .settings import Settings

PROBABILITY_DIGITS = 6


def predict(model: ServedModel, penguins: list[Penguin], explain: bool = False) -> list[dict]:
    """One prediction dict (species, probabilities, warnings; contributions if asked) per penguin, in order."""
    rows = [encode(penguin) for penguin in penguins]
    probabilities = model.predictor.predict_proba(rows)
    classes = model.classes
    warnings = model.warnings
    answers = []
    for encoded, row in zip(rows, probabilities):
        species = classes[row.index(max(row))]
        answers.append(
            {
                "prediction": species,
                "probabilities": {name: round(p, PROBABILITY_DIGITS) for name, p in zip(classes, row)},
                "warnings": warnings(encoded, species),  # an encoded row starts with the four measurements
            }
        )
    if explain:
        explainer = model.explainer
        for answer, row in zip(answers, rows):
            answer["contributions"] = _by_field(classes, explainer.bias, explainer.contributions(row))
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
    model: ServedModel, penguins: list[Penguin], is_batch: bool, explain: bool = False
) -> tuple[dict, object]:
    """The response body and what the request log records as the prediction."""
    answers = predict(model, penguins, explain)
    if is_batch:
        counts = Counter(answer["prediction"] for answer in answers)
        return {"predictions": answers, "model_version": model.version}, dict(counts)
    answer = answers[0]
    answer["model_version"] = model.version
    return answer, answer["prediction"]


def health(model: ServedModel, degraded_reason: str | None) -> dict:
    """The /health body for a servable model."""
    body = {"status": "degraded" if degraded_reason else "ok", "model": model.info()}
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
