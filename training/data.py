"""The Palmer Penguins data as the model sees it, encoded with serving's own encoding."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from palmerpenguins import load_penguins

from penguins.domain import MEASUREMENTS, SPECIES
from penguins.features import encode_values


@dataclass(frozen=True)
class TrainingData:
    """Encoded rows, labels, and what they came from."""

    frame: pd.DataFrame
    X: np.ndarray
    y: np.ndarray
    sha256: str
    source_rows: np.ndarray  # each row's 0-based row in palmerpenguins' penguins.csv (as golden/ names them)


def load_training_data() -> TrainingData:
    """Every penguin with its four measurements; rows with unknown sex are kept (sex becomes NaN)."""
    complete = load_penguins().dropna(subset=list(MEASUREMENTS))
    frame = complete.reset_index(drop=True)
    rows = [
        encode_values(
            r.bill_length_mm,
            r.bill_depth_mm,
            r.flipper_length_mm,
            r.body_mass_g,
            None if pd.isna(r.sex) else r.sex,
            r.island,
        )
        for r in frame.itertuples(index=False)
    ]
    X = np.asarray(rows, dtype=np.float32)
    y = frame["species"].map({name: index for index, name in enumerate(SPECIES)}).to_numpy(dtype=np.int32)
    digest = hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()
    return TrainingData(frame, X, y, digest, complete.index.to_numpy())


def training_ranges(data: TrainingData) -> dict[str, dict[str, float]]:
    """Smallest and largest value of each measurement in the training data."""
    return {name: {"min": float(data.frame[name].min()), "max": float(data.frame[name].max())} for name in MEASUREMENTS}
