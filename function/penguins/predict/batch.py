"""Many penguins at once: encoding, probabilities, rounding and warnings as numpy arrays.

The answers are exactly the per-row path's (answers._answer): the same float operations in the same
order, column by column. Only rows with a value out of range (rare) are worded one by one.
"""

from __future__ import annotations

from itertools import chain
from operator import itemgetter

from ..domain import MEASUREMENTS
from ..features import CATEGORY_COLUMNS, FEATURE_NAMES
from ..model.served import ServedModel

_CATEGORY_CODE = {category: code for code, category in enumerate(CATEGORY_COLUMNS)}
_measurements = itemgetter(*MEASUREMENTS)


def answers(model: ServedModel, penguins: list[dict], scale: float) -> list[dict]:
    """One answer dict per validated penguin, in order, as answers._answer gives it (scale: the rounding)."""
    import numpy as np  # only batches pay for numpy (tree_tables imports it for them too)

    rows = np.empty((len(penguins), len(FEATURE_NAMES)))
    measured = chain.from_iterable(map(_measurements, penguins))
    width = len(MEASUREMENTS)
    rows[:, :width] = np.fromiter(measured, float, len(penguins) * width).reshape(-1, width)
    categories = np.array([list(columns.values()) for columns in CATEGORY_COLUMNS.values()])
    codes = [_CATEGORY_CODE[penguin.get("sex"), penguin["island"]] for penguin in penguins]
    rows[:, len(MEASUREMENTS) :] = categories[codes]

    probabilities = model.predictor.predict_proba_array(rows)
    predicted = probabilities.argmax(axis=1)  # the first of equal maxima, as list.index(max(...)) picks
    rounded = np.floor(probabilities * scale + 0.5) / scale  # int(p * scale + 0.5) / scale, for p >= 0
    classes = model.classes
    first, second, third = classes
    species = [classes[index] for index in predicted.tolist()]
    out = [
        {"prediction": name, "probabilities": {first: p0, second: p1, third: p2}, "warnings": []}
        for name, (p0, p1, p2) in zip(species, rounded.tolist())
    ]
    columns = [rows[:, i] for i in range(len(MEASUREMENTS))]
    for i, warnings in model.warnings_for_rows(columns, predicted).items():
        out[i]["warnings"] = warnings
    return out
