"""The model: XGBoost's multi-class booster with fixed, deterministic parameters."""

from __future__ import annotations

import numpy as np
import xgboost as xgb

from penguins.domain import SPECIES
from penguins.features import FEATURE_NAMES

NUM_ROUNDS = 50
PARAMS = {
    "objective": "multi:softprob",
    "num_class": len(SPECIES),
    "max_depth": 2,
    "eta": 0.3,
    "tree_method": "hist",
    # One thread: the model file must be byte-identical for a given seed on any machine.
    "nthread": 1,
}


def fit(X: np.ndarray, y: np.ndarray, seed: int, num_rounds: int = NUM_ROUNDS) -> xgb.Booster:
    """Train a booster on encoded rows."""
    matrix = xgb.DMatrix(X, label=y, feature_names=list(FEATURE_NAMES))
    return xgb.train({**PARAMS, "seed": seed}, matrix, num_boost_round=num_rounds)


def predict_proba(booster: xgb.Booster, X: np.ndarray) -> np.ndarray:
    """Class probabilities for encoded rows."""
    return booster.inplace_predict(np.asarray(X, dtype=np.float32))


def model_bytes(booster: xgb.Booster) -> bytes:
    """The booster in XGBoost's own JSON format."""
    return bytes(booster.save_raw(raw_format="json"))


def predict_margin(booster: xgb.Booster, X: np.ndarray) -> np.ndarray:
    """Raw margins (before softmax) for encoded rows."""
    return booster.inplace_predict(np.asarray(X, dtype=np.float32), predict_type="margin")
