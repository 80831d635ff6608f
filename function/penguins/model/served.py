"""A verified artifact ready to answer: its predictor, warnings, explainer, and where and when it was loaded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from ..domain import MEASUREMENTS
from ..predict.predictor import Predictor, load_predictor
from ..predict.typicality import Typicality
from ..settings import BUNDLED_MODEL_DIR
from .artifact import Artifact, read_artifact_dir

if TYPE_CHECKING:
    from ..predict.explain import Explainer


@dataclass(frozen=True)
class ServedModel:
    """A verified artifact ready to predict, with where and when it was loaded."""

    artifact: Artifact
    predictor: Predictor
    source: str
    loaded_at: str
    classes: tuple[str, ...] = field(init=False)
    typicality: Typicality | None = field(init=False)
    _ranges: tuple[tuple[str, float, float], ...] = field(init=False)

    def __post_init__(self) -> None:
        ranges = self.artifact.training_ranges
        object.__setattr__(self, "classes", tuple(self.artifact.manifest["classes"]))
        section = self.artifact.manifest.get("typicality")  # absent from artifacts made before it existed
        object.__setattr__(self, "typicality", Typicality(section, self.classes) if section else None)
        object.__setattr__(
            self, "_ranges", tuple((name, ranges[name]["min"], ranges[name]["max"]) for name in MEASUREMENTS)
        )

    @property
    def version(self) -> str:
        """The content version every response reports."""
        return self.artifact.version

    @property
    def public_source(self) -> str:
        """The source as response headers show it: a gs:// URI, 'bundled' or 'local' (no server paths)."""
        return self.source if self.source.startswith(("gs://", "bundled")) else "local"

    @cached_property
    def explainer(self) -> Explainer:
        """Built on the first request for explanations (~30 ms), not at load: most callers never ask."""
        from ..predict.explain import Explainer  # imported here too: cold starts skip it

        return Explainer(self.predictor.tables)

    @cached_property
    def headers(self) -> list[tuple[bytes, bytes]]:
        """The headers every answer from this model carries (as ASGI sends them): its version is in the body."""
        # One header: the server checks each one it sends, so each costs on every answer.
        return [(b"x-model-source", self.public_source.encode("latin-1"))]

    def warnings_for_rows(self, columns, predicted) -> dict[int, list[str]]:  # numpy arrays, for batches
        """Many rows at once: what `warnings` gives each row that gets any, by row index (exactly the same).

        columns: the four measurements' columns; predicted: each row's class index.
        """
        (_, low0, high0), (_, low1, high1), (_, low2, high2), (_, low3, high3) = self._ranges
        x0, x1, x2, x3 = columns
        outside = (x0 < low0) | (x0 > high0) | (x1 < low1) | (x1 > high1)
        outside |= (x2 < low2) | (x2 > high2) | (x3 < low3) | (x3 > high3)
        found = {}
        for i in outside.nonzero()[0].tolist():  # the rare rows with a value out of range: worded one by one
            found[i] = self.warnings([float(column[i]) for column in columns], self.classes[predicted[i]])
        if self.typicality is not None:
            for i, sentence in self.typicality.warnings_for_rows(columns, predicted).items():
                found.setdefault(i, [sentence])
        return found

    def warnings(self, measurements: Sequence[float], predicted: str) -> list[str]:
        """Plain sentences on when not to trust this answer: ranges, then the combination of measurements.

        `measurements` are the four of MEASUREMENTS, in order (an encoded row starts with them).
        """
        warnings = []
        (_, low0, high0), (_, low1, high1), (_, low2, high2), (_, low3, high3) = self._ranges
        x0, x1, x2, x3 = measurements[:4]
        if not (low0 <= x0 <= high0 and low1 <= x1 <= high1 and low2 <= x2 <= high2 and low3 <= x3 <= high3):
            for (name, low, high), value in zip(self._ranges, measurements):  # the rare case, spelled out
                if value < low or value > high:
                    warnings.append(
                        f"{name} = {value:g} is outside the training data's range ({low:g} to {high:g}); "
                        "the model has not seen such a penguin, so treat this prediction with caution"
                    )
        if self.typicality is not None:
            unusual = self.typicality.warning(measurements, predicted)
            if unusual:
                warnings.append(unusual)
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


def serve_artifact(artifact: Artifact, source: str) -> ServedModel:
    """Load a verified artifact into a predictor."""
    return ServedModel(artifact, load_predictor(artifact), source, _now())


def load_served_model(uri: str) -> ServedModel:
    """Verify and load the model in a local folder (no fallback, no refresh)."""
    return serve_artifact(read_artifact_dir(uri), "bundled" if uri == BUNDLED_MODEL_DIR else uri)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
