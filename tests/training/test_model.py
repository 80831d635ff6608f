"""The bundled model's behaviour: a typical penguin of each species gets its species; probabilities are sane."""

from __future__ import annotations

import math

import pytest
from palmerpenguins import load_penguins

from penguins.domain import SPECIES
from penguins.features import measurements_of
from penguins.model_cache import load_served_model
from penguins.service import predict
from penguins.validation import PENGUIN
from tests.support.data import penguin_rows
from tests.support.paths import BUNDLED_MODEL
from tools.examples import SEED_EXAMPLES


@pytest.fixture(scope="module")
def model():
    return load_served_model(str(BUNDLED_MODEL))


def typical_penguin(species: str) -> dict:
    """The median measurements, most common island and sex of one species in the real data."""
    rows = load_penguins().dropna()
    rows = rows[rows.species == species]
    medians = rows[["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]].median()
    return PENGUIN.validate_python(
        {**{k: float(v) for k, v in medians.items()}, "island": rows.island.mode()[0], "sex": rows.sex.mode()[0]}
    )


@pytest.mark.parametrize("species", SPECIES)
def test_typical_penguin_gets_its_species(model, species):
    [answer] = predict(model, [typical_penguin(species)])
    assert answer["prediction"] == species
    assert answer["probabilities"][species] > 0.9
    assert answer["warnings"] == []


@pytest.mark.parametrize("species", SPECIES)
def test_seed_examples_give_the_seed_answers(model, species):
    [answer] = predict(model, [PENGUIN.validate_python(SEED_EXAMPLES[species])])
    assert answer["prediction"] == species


def test_probabilities_cover_exactly_the_three_species_and_sum_to_one(model):
    unknown_sex = PENGUIN.validate_python({**SEED_EXAMPLES["Adelie"], "sex": None})
    penguins = [typical_penguin(s) for s in SPECIES] + [unknown_sex]
    for answer in predict(model, penguins):
        assert set(answer["probabilities"]) == set(SPECIES)
        assert math.isclose(sum(answer["probabilities"].values()), 1.0, abs_tol=1e-5)
        assert all(0.0 <= p <= 1.0 for p in answer["probabilities"].values())


def test_unknown_sex_still_predicts_the_species(model):
    for species in SPECIES:
        penguin = {**typical_penguin(species), "sex": None}
        assert predict(model, [penguin])[0]["prediction"] == species


def test_value_outside_training_range_warns_with_the_range(model):
    low = model.artifact.training_ranges["flipper_length_mm"]["max"]
    penguin = PENGUIN.validate_python({**SEED_EXAMPLES["Gentoo"], "flipper_length_mm": 239})
    [answer] = predict(model, [penguin])
    [warning] = [w for w in answer["warnings"] if w.startswith("flipper_length_mm")]
    assert warning.startswith("flipper_length_mm = 239 is outside the training data's range")
    assert f"to {low:g})" in warning


ODD_BIRDS = [
    # each measurement inside the API's limits, the combination unlike any species
    {"bill_length_mm": 59.0, "bill_depth_mm": 20.5, "flipper_length_mm": 175, "body_mass_g": 6500, "island": "Dream"},
    {"bill_length_mm": 32.0, "bill_depth_mm": 21.0, "flipper_length_mm": 230, "body_mass_g": 3000, "island": "Biscoe"},
    {"bill_length_mm": 55.0, "bill_depth_mm": 14.0, "flipper_length_mm": 180, "body_mass_g": 3000, "island": "Biscoe"},
    {"bill_length_mm": 40.0, "bill_depth_mm": 13.5, "flipper_length_mm": 228, "body_mass_g": 2900, "island": "Dream"},
]
UNLIKE = "unlike any species in the training data"


@pytest.mark.parametrize("bird", ODD_BIRDS)
def test_an_odd_bird_gets_a_plain_warning(model, bird):
    [answer] = predict(model, [PENGUIN.validate_python(bird)])
    assert any(UNLIKE in warning for warning in answer["warnings"])


@pytest.mark.parametrize("bird", ODD_BIRDS)
def test_the_odd_bird_warning_names_the_predicted_species_and_why_the_nearest_differs(model, bird):
    [answer] = predict(model, [PENGUIN.validate_python(bird)])
    [warning] = [w for w in answer["warnings"] if UNLIKE in w]
    typicality = model.typicality
    distances = {name: typicality.squared_distance(name, measurements_of(bird)) for name in model.classes}
    nearest = min(distances, key=distances.__getitem__)
    if nearest == answer["prediction"]:
        assert f"closest to {nearest})" in warning
    else:  # the sentence must explain the disagreement, not leave "nearest Adelie" beside a Chinstrap answer
        assert f"closest to {nearest}, yet the model answers {answer['prediction']} because" in warning


def test_real_penguins_are_rarely_called_odd(model):
    rows = load_penguins().dropna(subset=["bill_length_mm"])
    penguins = [
        PENGUIN.validate_python(
            {
                "bill_length_mm": r.bill_length_mm,
                "bill_depth_mm": r.bill_depth_mm,
                "flipper_length_mm": r.flipper_length_mm,
                "body_mass_g": r.body_mass_g,
                "island": r.island,
            }
        )
        for r in rows.itertuples(index=False)
    ]
    flagged = sum(any(UNLIKE in w for w in a["warnings"]) for a in predict(model, penguins))
    typicality = model.artifact.manifest["typicality"]
    # In-sample the rate must not exceed what the held-out threshold allows (1 - quantile), with slack for 342 rows.
    assert flagged / len(penguins) <= (1 - typicality["quantile"]) + 0.01
    assert typicality["held_out_flag_rate"] <= (1 - typicality["quantile"]) + 0.01


def test_one_penguin_answers_xgboosts_probabilities_to_six_decimals(model):
    """The per-request path (tables per sex and island, rounding written out) against XGBoost itself."""
    import numpy as np
    import xgboost as xgb

    from penguins.features import encode
    from penguins.service import predict_response

    booster = xgb.Booster()
    booster.load_model(bytearray(model.artifact.model_bytes))
    penguins = [PENGUIN.validate_python(body) for body in penguin_rows()]
    expected = booster.inplace_predict(np.array([encode(p) for p in penguins]))
    for penguin, probabilities in zip(penguins, expected):
        answer, logged = predict_response(model, [penguin], is_batch=False)
        got = [answer["probabilities"][species] for species in SPECIES]
        assert np.abs(np.array(got) - probabilities).max() <= 5e-7 + 1e-6  # rounding, plus the evaluator's bound
        assert all(abs(p * 1e6 - round(p * 1e6)) < 1e-6 for p in got)  # six decimals
        assert answer["prediction"] == logged["predicted_class"] == SPECIES[int(probabilities.argmax())]
        assert logged["confidence"] == max(got) and logged["input"] == penguin
