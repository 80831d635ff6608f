"""The batch path (penguins/batch.py, numpy) answers exactly as the per-row path does, warnings included."""

from __future__ import annotations

import random

import pytest

from penguins import batch, service
from penguins.features import encode
from penguins.model_cache import load_served_model
from penguins.tree_tables import VECTORIZE_FROM_ROWS
from tests.support.paths import BUNDLED_MODEL
from tools.examples import field_penguins, random_penguins


@pytest.fixture(scope="module")
def model():
    return load_served_model(str(BUNDLED_MODEL))


def per_row_answers(model, penguins: list[dict]) -> list[dict]:
    """service._answer for each row, on the same probabilities: the definition the batch path must keep."""
    rows = [encode(penguin) for penguin in penguins]
    return [service._answer(model, row, p) for row, p in zip(rows, model.predictor.predict_proba(rows))]


def edge_penguins(count: int, seed: int = 5) -> list[dict]:
    """Values out of the training ranges (within the hard limits), at them, and without a sex."""
    rng = random.Random(seed)
    out = []
    for penguin in random_penguins(count, seed=seed):
        penguin = dict(penguin)
        choice = rng.randrange(4)
        if choice == 0:
            penguin["body_mass_g"] = rng.choice([2500.0, 6900.0, 7000.0])  # beyond 2700-6300, within the limits
        elif choice == 1:
            penguin["bill_depth_mm"] = rng.choice([10.0, 24.5])
        elif choice == 2:
            penguin.pop("sex")  # absent, not null
        out.append(penguin)
    return out


@pytest.mark.parametrize("make", [field_penguins, random_penguins, edge_penguins], ids=["field", "random", "edges"])
def test_the_batch_path_gives_the_per_row_answers_exactly(model, make):
    penguins = make(2000)
    got = batch.answers(model, penguins, service.PROBABILITY_SCALE)
    expected = per_row_answers(model, penguins)
    assert got == expected
    warnings = [warning for answer in expected for warning in answer["warnings"]]
    assert warnings  # every workload exercises the warnings, or the comparison would prove little
    if make is edge_penguins:  # the ranges' sentences too, worded with each row's value
        assert any(warning.startswith(("body_mass_g = ", "bill_depth_mm = ")) for warning in warnings)


def test_service_predict_takes_the_batch_path_from_the_vectorized_size(model, monkeypatch):
    calls = []
    monkeypatch.setattr(batch, "answers", lambda *args: calls.append(len(args[1])) or [])
    service.predict(model, field_penguins(VECTORIZE_FROM_ROWS - 1))
    service.predict(model, field_penguins(VECTORIZE_FROM_ROWS))
    assert calls == [VECTORIZE_FROM_ROWS]
