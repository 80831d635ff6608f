"""The process-wide model: loaded lazily on first use, once, however many threads ask at the same time."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from . import log
from .artifact import Artifact
from .errors import ModelUnavailable, PenguinError
from .predictor import Predictor, load_predictor
from .schema import MEASUREMENTS, Penguin
from .settings import Settings
from .store import fetch_artifact

RETRY_AFTER_SECONDS = 5.0


@dataclass(frozen=True)
class ServedModel:
    """A verified artifact ready to predict, with where and when it was loaded."""

    artifact: Artifact
    predictor: Predictor
    source: str
    loaded_at: str
    classes: tuple[str, ...] = field(init=False)
    _ranges: tuple[tuple[str, float, float], ...] = field(init=False)

    def __post_init__(self) -> None:
        ranges = self.artifact.training_ranges
        object.__setattr__(self, "classes", tuple(self.artifact.manifest["classes"]))
        object.__setattr__(
            self, "_ranges", tuple((name, ranges[name]["min"], ranges[name]["max"]) for name in MEASUREMENTS)
        )

    @property
    def version(self) -> str:
        """The content version every response reports."""
        return self.artifact.version

    def range_warnings(self, penguin: Penguin) -> list[str]:
        """A sentence for each measurement outside what the model was trained on."""
        warnings = []
        for name, low, high in self._ranges:
            value = getattr(penguin, name)
            if value < low or value > high:
                warnings.append(
                    f"{name} = {value:g} is outside the training data's range ({low:g} to {high:g}); "
                    "the model has not seen such a penguin, so treat this prediction with caution"
                )
        return warnings

    def info(self) -> dict:
        """What /health and / say about this model."""
        manifest = self.artifact.manifest
        return {
            "version": self.version,
            "source": self.source,
            "loaded_at": self.loaded_at,
            "classes": list(self.classes),
            "features": manifest["features"],
            "training_ranges": self.artifact.training_ranges,
            "metrics": manifest.get("metrics", {}),
            "xgboost_version": manifest.get("xgboost_version", "unknown"),
            "created_at": manifest.get("created_at", "unknown"),
        }


def load_served_model(uri: str) -> ServedModel:
    """Fetch, verify and load the model at uri."""
    artifact = fetch_artifact(uri)
    return ServedModel(artifact, load_predictor(artifact), uri, _now())


class ModelCache:
    """Holds the served model; the first caller loads it under a lock while the others wait."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._model: ServedModel | None = None
        self._lock = threading.Lock()
        self._last_error: str | None = None
        self._retry_at = 0.0

    def get(self) -> ServedModel:
        """The model, loading it on first use; ModelUnavailable when it cannot be loaded."""
        model = self._model
        if model is not None:
            return model
        with self._lock:
            if self._model is not None:
                return self._model
            if self._last_error is not None and time.monotonic() < self._retry_at:
                raise self._unavailable()
            try:
                self._model = load_served_model(self._settings.model_uri)
            except PenguinError as exc:
                self._last_error = str(exc)
                self._retry_at = time.monotonic() + RETRY_AFTER_SECONDS
                log.emit("ERROR", f"model could not be loaded from {self._settings.model_uri}: {exc}")
                raise self._unavailable() from None
            self._last_error = None
            log.emit("INFO", f"model {self._model.version} loaded from {self._model.source}")
            return self._model

    def _unavailable(self) -> ModelUnavailable:
        return ModelUnavailable(
            "No model can be served right now; try again shortly (the operator's logs say why).",
            [{"loc": [], "msg": self._last_error or "model unavailable", "type": "model_unavailable"}],
            headers={"Retry-After": str(int(RETRY_AFTER_SECONDS))},
        )


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
