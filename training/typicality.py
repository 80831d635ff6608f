"""How typical a penguin's measurements are of each species: per-species Gaussians, a threshold from held-out data."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import StratifiedKFold

from penguins.domain import MEASUREMENTS, SPECIES

QUANTILE = 0.99
RIDGE = 1e-6  # keeps a covariance invertible whatever the data


def fit_species_gaussians(measurements: np.ndarray, y: np.ndarray) -> dict:
    """Per species: the mean of the four measurements and a whitening matrix W, d^2 = |W (x - mean)|^2."""
    species = {}
    for index, name in enumerate(SPECIES):
        rows = measurements[y == index].astype(np.float64)
        covariance = np.cov(rows, rowvar=False) + RIDGE * np.eye(rows.shape[1])
        # inv(C) = W^T W with W lower triangular: the Cholesky factor of inv(C), transposed.
        whitening = np.linalg.cholesky(np.linalg.inv(covariance)).T
        species[name] = {"mean": rows.mean(axis=0).tolist(), "whitening": whitening.tolist()}
    return species


def squared_distances(species: dict, measurements: np.ndarray) -> np.ndarray:
    """Squared Mahalanobis distance of each row to each species, shape (rows, species)."""
    out = []
    for name in SPECIES:
        centred = measurements - np.asarray(species[name]["mean"])
        out.append(((centred @ np.asarray(species[name]["whitening"]).T) ** 2).sum(axis=1))
    return np.column_stack(out)


def fit_typicality(measurements: np.ndarray, y: np.ndarray, seed: int, quantile: float = QUANTILE) -> dict:
    """The manifest's `typicality`: Gaussians on all data, threshold = a quantile of held-out nearest distances."""
    held_out = np.empty(len(y))
    for train, test in StratifiedKFold(n_splits=5, shuffle=True, random_state=seed).split(measurements, y):
        gaussians = fit_species_gaussians(measurements[train], y[train])
        held_out[test] = squared_distances(gaussians, measurements[test]).min(axis=1)
    threshold = float(np.quantile(held_out, quantile))
    return {
        "fields": list(MEASUREMENTS),
        "species": fit_species_gaussians(measurements, y),
        "threshold": threshold,
        "quantile": quantile,
        "held_out_flag_rate": float((held_out > threshold).mean()),
    }
