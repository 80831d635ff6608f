"""Turn a verified artifact into something that maps encoded rows to class probabilities."""

from __future__ import annotations

from typing import Protocol

from .artifact import Artifact


class Predictor(Protocol):
    """Maps encoded rows (FEATURE_NAMES order) to one probability per class."""

    def predict_proba(self, rows: list[list[float]]) -> list[list[float]]: ...


class XGBoostPredictor:
    """XGBoost's own Booster; inplace_predict is thread-safe, so one instance serves every thread."""

    def __init__(self, artifact: Artifact):
        import xgboost  # imported here: it costs ~0.25 s, paid on the model's first load only

        self._numpy = __import__("numpy")
        self._booster = xgboost.Booster()
        self._booster.load_model(bytearray(artifact.model_bytes))

    def predict_proba(self, rows: list[list[float]]) -> list[list[float]]:
        """Probabilities from XGBoost itself."""
        matrix = self._numpy.asarray(rows, dtype=self._numpy.float32)
        return self._booster.inplace_predict(matrix).tolist()


def load_predictor(artifact: Artifact) -> Predictor:
    """The predictor for an artifact."""
    return XGBoostPredictor(artifact)
