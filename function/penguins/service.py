"""The domain answers: predictions, health and the service description, as plain dicts."""

from __future__ import annotations

from collections import Counter

from . import SERVICE_NAME, __version__
from .features import encode
from .model_cache import ServedModel
from .schema import LIMITS, Penguin
from .settings import Settings

PROBABILITY_DIGITS = 6


def predict(model: ServedModel, penguins: list[Penguin]) -> list[dict]:
    """One prediction dict (species, probabilities, warnings) per penguin, in order."""
    probabilities = model.predictor.predict_proba([encode(penguin) for penguin in penguins])
    classes = model.classes
    warnings = model.range_warnings
    return [
        {
            "prediction": classes[row.index(max(row))],
            "probabilities": {name: round(p, PROBABILITY_DIGITS) for name, p in zip(classes, row)},
            "warnings": warnings(penguin),
        }
        for penguin, row in zip(penguins, probabilities)
    ]


def predict_response(model: ServedModel, penguins: list[Penguin], is_batch: bool) -> tuple[dict, object]:
    """The response body and what the request log records as the prediction."""
    answers = predict(model, penguins)
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
