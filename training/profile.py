"""The training data's reference profile, stored in the manifest: what the drift report compares traffic with."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from penguins.domain import ISLANDS, MEASUREMENTS, SEXES, SPECIES
from penguins.web.log_fields import CONFIDENCE_BIN_EDGES

# Deciles of the training data: ten bins that each hold a tenth of it, fixed once here, so that current
# data is always counted on the same bins (bins that moved with the current data would hide a shift).
QUANTILES = tuple(q / 10 for q in range(1, 10))
UNKNOWN_SEX = "unknown"  # sex null or absent: a category of its own (the model handles it)
CATEGORY_VALUES: dict[str, tuple[str, ...]] = {"island": ISLANDS, "sex": (*SEXES, UNKNOWN_SEX)}


def bin_counts(values: Iterable[float], inner_edges: Sequence[float]) -> list[int]:
    """How many values fall in each bin: below e0, [e0, e1), ..., from e_last up (as the request line counts)."""
    indexes = np.searchsorted(np.asarray(inner_edges, dtype=float), np.fromiter(values, dtype=float), side="right")
    return np.bincount(indexes, minlength=len(inner_edges) + 1).tolist()


def shares(counts: Sequence[int]) -> list[float]:
    """Counts as fractions of their total (all zero when there are none)."""
    total = sum(counts)
    return [round(count / total, 6) if total else 0.0 for count in counts]


def category_shares(values: Sequence[str], categories: Sequence[str]) -> dict[str, float]:
    """The share of each category among values."""
    return dict(zip(categories, shares([list(values).count(name) for name in categories])))


def reference_profile(frame, probabilities: np.ndarray) -> dict:
    """Fixed bins and shares per measurement, category shares, and the model's class mix and confidence on frame.

    frame: the training rows (palmerpenguins' columns); probabilities: the final model's answers on them.
    """
    measurements = {}
    for name in MEASUREMENTS:
        values = frame[name].to_numpy(dtype=float)
        edges = sorted({round(float(edge), 4) for edge in np.quantile(values, QUANTILES)})
        measurements[name] = {
            "bin_edges": edges,
            "shares": shares(bin_counts(values, edges)),
            "min": float(values.min()),
            "max": float(values.max()),
        }
    sexes = [UNKNOWN_SEX if not isinstance(sex, str) else sex for sex in frame["sex"]]
    predicted = [SPECIES[index] for index in probabilities.argmax(axis=1)]
    confidence = probabilities.max(axis=1)
    return {
        "rows": int(len(frame)),
        "measurements": measurements,
        "categories": {
            "island": category_shares(list(frame["island"]), ISLANDS),
            "sex": category_shares(sexes, CATEGORY_VALUES["sex"]),
        },
        # The final model on its own training rows: the mix matches the labels closely, and the confidence
        # is somewhat higher than on new penguins (the report says so where it shows it).
        "predicted_classes": category_shares(predicted, SPECIES),
        "confidence": {
            "bin_edges": list(CONFIDENCE_BIN_EDGES),
            "shares": shares(bin_counts(confidence, CONFIDENCE_BIN_EDGES)),
            "mean": round(float(confidence.mean()), 6),
        },
    }
