"""Turn a verified artifact into something that maps encoded rows to class probabilities."""

from __future__ import annotations

from typing import Protocol

from .artifact import Artifact
from .tree_tables import TablePredictor, parse_xgboost_json


class Predictor(Protocol):
    """Maps encoded rows (FEATURE_NAMES order) to one probability per class."""

    def predict_proba(self, rows: list[list[float]]) -> list[list[float]]: ...


def load_predictor(artifact: Artifact) -> Predictor:
    """The predictor for an artifact: XGBoost's trees, read as data into lookup tables (no xgboost import)."""
    return TablePredictor(parse_xgboost_json(artifact.model_bytes))
