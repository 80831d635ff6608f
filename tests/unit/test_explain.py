"""Explanations: exact TreeSHAP of the raw margin, equal to XGBoost's pred_contribs, adding up to the answer."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import xgboost as xgb

from penguins.explain import Explainer
from penguins.features import EXPLAINED_FIELDS
from penguins.tree_tables import TablePredictor, parse_xgboost_json
from tests.support.data import generated_rows, penguin_rows
from tests.support.paths import BUNDLED_MODEL
from tools.examples import ADELIE, SEED_EXAMPLES
from training.data import load_training_data
from training.model import fit, model_bytes

JSON = {"Content-Type": "application/json"}


def xgboost_contributions(model: bytes, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    booster = xgb.Booster()
    booster.load_model(bytearray(model))
    matrix = xgb.DMatrix(x, feature_names=list(booster.feature_names))
    return booster.predict(matrix, pred_contribs=True), booster.predict(matrix, output_margin=True)


@pytest.mark.parametrize("model_source", ["bundled", "deeper"])
def test_contributions_equal_xgboost_pred_contribs(model_source):
    data = load_training_data()
    if model_source == "bundled":
        model = (BUNDLED_MODEL / "model.json").read_bytes()
    else:
        import training.model as training_model

        original = dict(training_model.PARAMS)
        training_model.PARAMS.update(max_depth=4)
        try:
            model = model_bytes(fit(data.X, data.y, seed=2, num_rounds=20))
        finally:
            training_model.PARAMS.clear()
            training_model.PARAMS.update(original)
    predictor = TablePredictor(parse_xgboost_json(model))
    explainer = Explainer(predictor)
    x = np.vstack([data.X, generated_rows(predictor, 3000, seed=4)])
    expected, margins = xgboost_contributions(model, x)  # (rows, classes, features + bias)
    ours = np.array([explainer.contributions(row) for row in x.tolist()])
    np.testing.assert_allclose(ours, expected[:, :, :-1], atol=1e-5)
    np.testing.assert_allclose(np.broadcast_to(explainer.bias, margins.shape), expected[:, :, -1], atol=1e-5)
    np.testing.assert_allclose(ours.sum(axis=2) + explainer.bias, margins, atol=1e-5)


def test_for_every_penguin_the_contributions_add_up_to_the_probabilities(client):
    response = client.post("/predict?explain=true", data=json.dumps({"instances": penguin_rows()}), headers=JSON)
    assert response.status_code == 200
    for answer in response.get_json()["predictions"]:
        contributions = answer["contributions"]
        assert set(contributions) == {"Adelie", "Chinstrap", "Gentoo"}
        margins = {}
        for species, terms in contributions.items():
            assert set(terms) == {"bias", *EXPLAINED_FIELDS}
            margins[species] = sum(terms.values())
        top = max(margins.values())
        total = sum(math.exp(m - top) for m in margins.values())
        for species, margin in margins.items():
            assert math.isclose(math.exp(margin - top) / total, answer["probabilities"][species], abs_tol=2e-6)
        assert max(margins, key=margins.get) == answer["prediction"]


def test_explain_by_query_for_one_penguin_and_by_body_for_a_batch(client):
    single = client.post("/predict?explain=true", data=json.dumps(ADELIE), headers=JSON).get_json()
    assert set(single["contributions"]["Adelie"]) == {"bias", *EXPLAINED_FIELDS}
    batch = client.post("/predict", data=json.dumps({"instances": [ADELIE], "explain": True}), headers=JSON)
    assert batch.get_json()["predictions"][0]["contributions"] == single["contributions"]
    plain = client.post("/predict", data=json.dumps(ADELIE), headers=JSON).get_json()
    assert "contributions" not in plain
    off = client.post("/predict?explain=false", data=json.dumps({"instances": [ADELIE]}), headers=JSON).get_json()
    assert "contributions" not in off["predictions"][0]


def test_the_strongest_reason_for_a_gentoo_is_its_body_shape(client):
    answer = client.post("/predict?explain=true", data=json.dumps(SEED_EXAMPLES["Gentoo"]), headers=JSON).get_json()
    gentoo = {k: v for k, v in answer["contributions"]["Gentoo"].items() if k != "bias"}
    assert max(gentoo, key=gentoo.get) in ("bill_depth_mm", "flipper_length_mm", "body_mass_g")


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ("explain=maybe", ADELIE),
        ("explain=", ADELIE),
        ("explain=1", ADELIE),
        ("", {"instances": [ADELIE], "explain": "yes"}),
    ],
)
def test_a_bad_explain_flag_is_a_422(client, query, body):
    response = client.post(f"/predict?{query}", data=json.dumps(body), headers=JSON)
    assert response.status_code == 422
    assert "explain" in response.get_json()["error"]
