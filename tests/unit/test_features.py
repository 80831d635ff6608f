"""The one encoding: order, one-hot island, a missing sex as NaN, and what the manifest records."""

from __future__ import annotations

import math

import pytest

from penguins.features import CATEGORIES, FEATURE_NAMES, encode, encode_values, encoding_description
from penguins.validation import PENGUIN
from tools.examples import ADELIE


def test_row_follows_feature_names():
    row = encode(PENGUIN.validate_python(ADELIE))
    assert dict(zip(FEATURE_NAMES, row)) == {
        "bill_length_mm": 39.1,
        "bill_depth_mm": 18.7,
        "flipper_length_mm": 181.0,
        "body_mass_g": 3750.0,
        "sex_male": 1.0,
        "island_Biscoe": 0.0,
        "island_Dream": 0.0,
        "island_Torgersen": 1.0,
    }


@pytest.mark.parametrize("island", CATEGORIES["island"])
def test_island_is_one_hot(island):
    row = dict(zip(FEATURE_NAMES, encode_values(40, 18, 190, 4000, "female", island)))
    assert [row[f"island_{name}"] for name in CATEGORIES["island"]].count(1.0) == 1
    assert row[f"island_{island}"] == 1.0
    assert row["sex_male"] == 0.0


def test_missing_sex_is_nan():
    assert math.isnan(encode(PENGUIN.validate_python({**ADELIE, "sex": None}))[FEATURE_NAMES.index("sex_male")])


def test_year_is_not_a_feature():
    with_year, without = ({**ADELIE, "year": year} for year in (2007, None))
    assert encode(PENGUIN.validate_python(with_year)) == encode(PENGUIN.validate_python(without))
    assert "year" not in FEATURE_NAMES


def test_description_is_what_a_manifest_must_match():
    description = encoding_description()
    assert description["features"] == list(FEATURE_NAMES)
    assert description["categories"] == {"sex": ["female", "male"], "island": ["Biscoe", "Dream", "Torgersen"]}
