"""The model: XGBoost's multi-class booster with fixed, deterministic parameters."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xgboost as xgb

from penguins.domain import SPECIES
from penguins.features import FEATURE_NAMES

# The tuned part of the configuration: written by `python -m training tune --adopt`, only when the nested
# cross-validation says the tuned configuration is better (the file records that evidence too).
DEFAULTS_FILE = Path(__file__).resolve().with_name("defaults.json")
FIXED_PARAMS = {
    "objective": "multi:softprob",
    "num_class": len(SPECIES),
    "tree_method": "hist",
    # One thread: the model file must be byte-identical for a given seed on any machine.
    "nthread": 1,
}


def read_defaults(path: Path = DEFAULTS_FILE) -> dict:
    """The adopted configuration: {"params": ..., "num_rounds": ..., "nested_cv": evidence or None}."""
    return json.loads(path.read_text())


_DEFAULTS = read_defaults()
PARAMS: dict = {**FIXED_PARAMS, **_DEFAULTS["params"]}
NUM_ROUNDS: int = _DEFAULTS["num_rounds"]


def fit(
    X: np.ndarray, y: np.ndarray, seed: int, num_rounds: int = NUM_ROUNDS, params: dict | None = None
) -> xgb.Booster:
    """Train a booster on encoded rows (params: the tunable part, PARAMS' by default)."""
    matrix = xgb.DMatrix(X, label=y, feature_names=list(FEATURE_NAMES))
    tuned = PARAMS if params is None else {**FIXED_PARAMS, **params}
    return xgb.train({**tuned, "seed": seed}, matrix, num_boost_round=num_rounds)


def predict_proba(booster: xgb.Booster, X: np.ndarray, num_rounds: int | None = None) -> np.ndarray:
    """Class probabilities for encoded rows (from the first num_rounds rounds only, when given)."""
    rounds = (0, num_rounds) if num_rounds else (0, 0)
    return booster.inplace_predict(np.asarray(X, dtype=np.float32), iteration_range=rounds)


def model_bytes(booster: xgb.Booster) -> bytes:
    """The booster in XGBoost's own JSON format."""
    return bytes(booster.save_raw(raw_format="json"))


def predict_margin(booster: xgb.Booster, X: np.ndarray) -> np.ndarray:
    """Raw margins (before softmax) for encoded rows."""
    return booster.inplace_predict(np.asarray(X, dtype=np.float32), predict_type="margin")
