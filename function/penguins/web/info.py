"""The answers that describe the service: /health and the JSON description at /."""

from __future__ import annotations

from .. import SERVICE_NAME, __version__
from ..domain import LIMITS
from ..model.served import ServedModel
from ..settings import Settings


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
