"""The lookup-table predictor reproduces XGBoost's own probabilities, row by row and in batches."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xgboost as xgb

from penguins.domain import MEASUREMENTS
from penguins.errors import ArtifactError
from penguins.features import CATEGORY_COLUMNS, FEATURE_NAMES
from penguins.predictor import MAX_SPECIALIZED_CELLS, Predictor
from penguins.tree_tables import (
    MAX_TABLE_CELLS,
    VECTORIZE_FROM_ROWS,
    Ensemble,
    TablePredictor,
    Tree,
    parse_xgboost_json,
)
from tests.support.data import generated_rows
from tests.support.paths import BUNDLED_MODEL
from training.data import load_training_data
from training.model import fit, model_bytes

TOLERANCE = 1e-6


def booster_for(model: bytes) -> xgb.Booster:
    booster = xgb.Booster()
    booster.load_model(bytearray(model))
    return booster


def assert_same_as_xgboost(predictor: TablePredictor, booster: xgb.Booster, x: np.ndarray) -> None:
    expected = booster.inplace_predict(x)
    rows = x.tolist()
    one_by_one = np.array([predictor.predict_proba([row])[0] for row in rows])
    batched = np.array(predictor.predict_proba(rows))
    for got in (one_by_one, batched):
        assert np.abs(got - expected).max() <= TOLERANCE
        assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()


@pytest.fixture(scope="module")
def bundled():
    model = (BUNDLED_MODEL / "model.json").read_bytes()
    return TablePredictor(parse_xgboost_json(model)), booster_for(model)


def test_equivalent_on_the_full_dataset(bundled):
    predictor, booster = bundled
    data = load_training_data()
    assert_same_as_xgboost(predictor, booster, data.X)
    withheld = data.X.copy()
    withheld[:, FEATURE_NAMES.index("sex_male")] = np.nan
    assert_same_as_xgboost(predictor, booster, withheld)


def test_equivalent_on_generated_rows_with_missing_values_and_exact_thresholds(bundled, long_run):
    predictor, booster = bundled
    assert_same_as_xgboost(predictor, booster, generated_rows(predictor, 1_000_000 if long_run else 100_000, seed=1))


def float64_rows_at_the_rounding_edges(predictor: TablePredictor, n: int, seed: int) -> np.ndarray:
    """Rows whose measurements are float64 values where rounding to float32 decides the split.

    The midpoints between each threshold and its float32 neighbours (which round by the even significand),
    the float64 values next to them, and the thresholds themselves.
    """
    rng = np.random.default_rng(seed)
    x = generated_rows(predictor, n, seed).astype(np.float64)
    for feature in range(len(MEASUREMENTS)):
        cuts = np.asarray(predictor.cuts[feature], dtype=np.float32)
        below = np.nextafter(cuts, np.float32(-np.inf)).astype(np.float64)
        above = np.nextafter(cuts, np.float32(np.inf)).astype(np.float64)
        edges = np.concatenate([(below + cuts) / 2, (cuts + above) / 2, cuts.astype(np.float64)])
        edges = np.concatenate([edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf)])
        at = rng.integers(0, n, n // 3)
        x[at, feature] = rng.choice(edges, len(at))
    return x


def test_float64_inputs_round_to_float32_as_xgboost_rounds_them(bundled):
    """Requests carry float64 numbers; XGBoost rounds each to float32 before comparing, and so must we."""
    predictor, booster = bundled
    x = float64_rows_at_the_rounding_edges(predictor, 60_000, seed=6)
    assert_same_as_xgboost(predictor, booster, x)  # XGBoost is given the float64 values and rounds them itself


@pytest.mark.parametrize(
    "params",
    [
        {"max_depth": 4, "eta": 0.1, "num_rounds": 40},
        {"max_depth": 6, "num_rounds": 15},
        {"max_depth": 1, "num_rounds": 60},
    ],
)
def test_equivalent_for_other_tree_shapes(params):
    import training.model as training_model

    data = load_training_data()
    rounds = params.pop("num_rounds")
    original = dict(training_model.PARAMS)
    training_model.PARAMS.update(params)
    try:
        model = model_bytes(fit(data.X, data.y, seed=3, num_rounds=rounds))
    finally:
        training_model.PARAMS.clear()
        training_model.PARAMS.update(original)
    predictor = TablePredictor(parse_xgboost_json(model))
    assert_same_as_xgboost(predictor, booster_for(model), generated_rows(predictor, 20_000, seed=2))


def test_tables_specialized_per_sex_and_island_are_equivalent_too(bundled, long_run):
    """One penguin goes through tables with its sex and island folded in: every combination, same answers."""
    tables, booster = bundled
    predictor = Predictor(tables, parse_xgboost_json((BUNDLED_MODEL / "model.json").read_bytes()))
    x = float64_rows_at_the_rounding_edges(tables, 200_000 if long_run else 36_000, seed=5)[:, : len(MEASUREMENTS)]
    combinations = list(CATEGORY_COLUMNS.items())
    for start, ((sex, island), columns) in enumerate(combinations):
        measurements = x[start :: len(combinations)]
        rows = np.column_stack([measurements, np.tile(list(columns.values()), (len(measurements), 1))])
        expected = booster.inplace_predict(rows)
        got = np.array([predictor.predict_penguin(m, sex, island) for m in measurements.tolist()])
        assert np.abs(got - expected).max() <= TOLERANCE, (sex, island)
        assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()
    specialized = predictor._by_category
    assert len(specialized) == len(combinations)
    assert all(len(t.groups) < len(tables.groups) for t in specialized.values())  # fewer lookups per penguin
    assert sum(t.total_cells for t in specialized.values()) <= MAX_SPECIALIZED_CELLS


def test_small_and_large_batches_take_both_paths_with_the_same_answers(bundled):
    predictor, _ = bundled
    rows = generated_rows(predictor, VECTORIZE_FROM_ROWS, seed=3).tolist()
    small = [predictor.predict_proba([row])[0] for row in rows]
    large = predictor.predict_proba(rows)
    np.testing.assert_allclose(small, large, atol=1e-12)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda m: m["learner"]["objective"].update(name="binary:logistic"), "multi:softprob"),
        (lambda m: m["learner"]["gradient_booster"]["model"]["trees"][0].update(split_type=[1] * 7), "categorical"),
        (
            lambda m: m["learner"]["gradient_booster"]["model"]["trees"][0].update(split_indices=[99] * 7),
            "out of range",
        ),
        (lambda m: m["learner"].pop("gradient_booster"), "not an XGBoost JSON model"),
    ],
)
def test_models_it_cannot_evaluate_exactly_are_refused(change, says):
    model = json.loads((BUNDLED_MODEL / "model.json").read_bytes())
    change(model)
    with pytest.raises(ArtifactError, match=says):
        parse_xgboost_json(json.dumps(model).encode())


def chain_tree(features: list[int], thresholds_per_feature: int, class_index: int = 0, offset: int = 0) -> Tree:
    """A degenerate tree splitting each feature many times: the worst case for table size."""
    left, right, feature, threshold, default_left = [], [], [], [], []
    splits = [(f, float(offset + t)) for f in features for t in range(thresholds_per_feature)]
    for node, (f, t) in enumerate(splits):
        leaf = len(splits) + node
        left.append(leaf)
        right.append(node + 1 if node + 1 < len(splits) else 2 * len(splits))
        feature.append(f)
        threshold.append(t)
        default_left.append(True)
    for _ in range(len(splits) + 1):  # the leaves
        left.append(-1)
        right.append(-1)
        feature.append(0)
        threshold.append(0.5)
        default_left.append(False)
    return Tree(left, right, feature, threshold, default_left, class_index, [1.0] * len(left))


def test_a_model_that_would_need_huge_tables_is_refused_not_built():
    tree = chain_tree([0, 1, 2, 3, 4, 5], thresholds_per_feature=12)  # 14**6 = 7.5 million cells
    with pytest.raises(ArtifactError, match="too finely"):
        TablePredictor(Ensemble([tree], 3, 8, [0.0, 0.0, 0.0]))
    many = [chain_tree([0, 1, 2], thresholds_per_feature=40, class_index=i % 3, offset=100 * i) for i in range(60)]
    with pytest.raises(ArtifactError, match="table cells"):
        TablePredictor(Ensemble(many, 3, 8, [0.0, 0.0, 0.0]))


def test_groups_are_split_to_keep_each_table_small():
    trees = [chain_tree([0, 1], thresholds_per_feature=300, class_index=i % 3, offset=1000 * i) for i in range(3)]
    predictor = TablePredictor(Ensemble(trees, 3, 8, [0.0, 0.0, 0.0]))
    assert len(predictor._groups) == 3
    assert all(len(table) <= 3 * MAX_TABLE_CELLS for _, table in predictor._groups)


def test_a_model_too_large_to_specialize_is_served_by_its_general_tables(bundled, monkeypatch):
    import penguins.predictor as predictor_module

    tables, booster = bundled
    ensemble = parse_xgboost_json((BUNDLED_MODEL / "model.json").read_bytes())
    monkeypatch.setattr(predictor_module, "MAX_SPECIALIZED_CELLS", tables.total_cells)  # less than 9 copies
    general = Predictor(tables, ensemble)
    measurements = float64_rows_at_the_rounding_edges(tables, 900, seed=7)[:, : len(MEASUREMENTS)]
    for (sex, island), columns in CATEGORY_COLUMNS.items():
        rows = np.column_stack([measurements, np.tile(list(columns.values()), (len(measurements), 1))])
        got = np.array([general.predict_penguin(m, sex, island) for m in measurements.tolist()])
        assert np.abs(got - booster.inplace_predict(rows)).max() <= TOLERANCE
    assert general._by_category == {}
