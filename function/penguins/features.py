"""The one feature encoding, used by serving and training alike: a penguin -> a row of floats."""

from __future__ import annotations

import math

from .domain import ISLANDS, MEASUREMENTS, SEXES

# sex is one column (male 1, female 0, unknown NaN) so that XGBoost's learned default
# direction handles a missing sex; island is one-hot.
FEATURE_NAMES: tuple[str, ...] = (*MEASUREMENTS, "sex_male", *(f"island_{name}" for name in ISLANDS))
CATEGORIES: dict[str, tuple[str, ...]] = {"sex": SEXES, "island": ISLANDS}
ENCODING_VERSION = 1
# The request field each model column comes from: explanations add the one-hot columns back together.
FIELD_OF_FEATURE: dict[str, str] = {
    name: name if name in MEASUREMENTS else name.split("_")[0] for name in FEATURE_NAMES
}
EXPLAINED_FIELDS: tuple[str, ...] = tuple(dict.fromkeys(FIELD_OF_FEATURE.values()))

_SEX_MALE = {"male": 1.0, "female": 0.0, None: math.nan}
_ISLAND_ONE_HOT = {name: tuple(1.0 if other == name else 0.0 for other in ISLANDS) for name in ISLANDS}


# Every (sex, island) a penguin can have, with the values of the columns after the measurements: the
# predictor folds these into tables per combination, leaving the measurements (the first columns).
CATEGORY_COLUMNS: dict[tuple[str | None, str], dict[int, float]] = {
    (sex, island): dict(enumerate((_SEX_MALE[sex], *_ISLAND_ONE_HOT[island]), start=len(MEASUREMENTS)))
    for sex in (*SEXES, None)
    for island in ISLANDS
}


def measurements_of(penguin: dict) -> list[float]:
    """A validated penguin's four measurements, in MEASUREMENTS order (the first columns of its row)."""
    return [penguin["bill_length_mm"], penguin["bill_depth_mm"], penguin["flipper_length_mm"], penguin["body_mass_g"]]


def encode_values(
    bill_length_mm: float,
    bill_depth_mm: float,
    flipper_length_mm: float,
    body_mass_g: float,
    sex: str | None,
    island: str,
) -> list[float]:
    """Encode raw values into a model row in FEATURE_NAMES order."""
    return [
        float(bill_length_mm),
        float(bill_depth_mm),
        float(flipper_length_mm),
        float(body_mass_g),
        _SEX_MALE[sex],
        *_ISLAND_ONE_HOT[island],
    ]


def encode(penguin: dict) -> list[float]:
    """Encode a validated penguin (a dict from validation; sex may be absent) into a model row."""
    bill_length, bill_depth, flipper_length, body_mass = measurements_of(penguin)
    return encode_values(bill_length, bill_depth, flipper_length, body_mass, penguin.get("sex"), penguin["island"])


def encoding_description() -> dict[str, object]:
    """The encoding as the manifest records it, so serving can refuse a model trained on another one."""
    return {
        "encoding_version": ENCODING_VERSION,
        "features": list(FEATURE_NAMES),
        "categories": {name: list(values) for name, values in CATEGORIES.items()},
    }
