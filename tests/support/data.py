"""Penguins as test data: every training row as a request body, random rows within a model's splits."""

from __future__ import annotations

import numpy as np

from penguins.tree_tables import (
    TablePredictor,
)
from training.data import load_training_data


def generated_rows(predictor: TablePredictor, n: int, seed: int) -> np.ndarray:
    """Rows across and beyond the hard limits, a tenth of the values exactly on split thresholds, 5% missing."""
    rng = np.random.default_rng(seed)
    x = np.column_stack(
        [
            rng.uniform(25, 65, n),
            rng.uniform(8, 27, n),
            rng.uniform(165, 245, n),
            rng.uniform(2000, 7500, n),
            rng.choice([0.0, 1.0, np.nan], n),
            *np.eye(3)[rng.integers(0, 3, n)].T,
        ]
    ).astype(np.float32)
    for feature, cuts in enumerate(predictor._cuts):
        if cuts:
            at = rng.integers(0, n, n // 10)
            x[at, feature] = rng.choice(np.asarray(cuts, dtype=np.float32), len(at))
    x[rng.random(x.shape) < 0.05] = np.nan
    return x


def penguin_rows() -> list[dict]:
    """Every penguin of the training data as a request body (sex None when unknown)."""

    return [
        {
            "bill_length_mm": r.bill_length_mm,
            "bill_depth_mm": r.bill_depth_mm,
            "flipper_length_mm": r.flipper_length_mm,
            "body_mass_g": r.body_mass_g,
            "island": r.island,
            "sex": r.sex if isinstance(r.sex, str) else None,
        }
        for r in load_training_data().frame.itertuples(index=False)
    ]
