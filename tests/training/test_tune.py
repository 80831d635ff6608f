"""Nested cross-validation: the inner search picks the lowest log loss; the default changes only on evidence."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold

from tests.support.paths import ROOT
from training import tune
from training.data import load_training_data
from training.gate import ACCURACY_TOLERANCE, LOG_LOSS_TOLERANCE
from training.model import DEFAULTS_FILE, fit, predict_proba, read_defaults


def test_the_inner_search_chooses_the_lowest_mean_log_loss():
    data = load_training_data()
    grid, rounds = {"max_depth": (1, 2), "eta": (0.3,)}, (3, 6)
    chosen, loss = tune.inner_search(data.X, data.y, grid, rounds, seed=1, folds=2)
    by_hand = {}
    for params in tune.grid_points(grid):
        for count in rounds:
            losses = []
            for train, test in StratifiedKFold(n_splits=2, shuffle=True, random_state=1).split(data.X, data.y):
                booster = fit(data.X[train], data.y[train], 1, num_rounds=count, params=params)
                losses.append(log_loss(data.y[test], predict_proba(booster, data.X[test]), labels=[0, 1, 2]))
            by_hand[tuple(params.items()), count] = float(np.mean(losses))
    best = min(by_hand, key=by_hand.get)
    assert (tuple(chosen.params.items()), chosen.num_rounds) == best
    assert loss == pytest.approx(by_hand[best], abs=1e-6)


@pytest.mark.slow
def test_nested_cv_reports_a_line_per_step_and_the_nested_estimate(long_run):
    lines = []
    grid, rounds = (tune.FULL_GRID, tune.FULL_ROUNDS) if long_run else (tune.SMALL_GRID, tune.SMALL_ROUNDS)
    outer = 5 if long_run else 2
    evidence = tune.nested_cv(
        grid, rounds, seed=0, outer_folds=outer, inner_folds=3 if long_run else 2, progress=lines.append
    )
    assert len(lines) == 1 + outer + 1
    assert [line.split(":")[0] for line in lines[1:-1]] == [f"outer fold {k}/{outer}" for k in range(1, outer + 1)]
    for which in ("tuned", "default"):
        for metric in ("log_loss", "accuracy"):
            folds = [fold[which][metric] for fold in evidence["folds"]]
            assert evidence["nested_estimate"][which][metric] == round(float(np.mean(folds)), 4)
    assert evidence["tuned_is_better"] == tune.is_better(evidence["nested_estimate"])
    if long_run:  # the full grid reproduces the evidence committed in training/defaults.json
        recorded = read_defaults()["nested_cv"]
        assert evidence["nested_estimate"] == recorded["nested_estimate"] and evidence["chosen"] == recorded["chosen"]


@pytest.mark.parametrize(
    "tuned_loss, tuned_accuracy, better",
    [
        (0.040 - LOG_LOSS_TOLERANCE - 0.001, 0.99, True),
        (0.040 - LOG_LOSS_TOLERANCE + 0.001, 0.99, False),  # lower, but within what the gate calls noise
        (0.040 - LOG_LOSS_TOLERANCE - 0.001, 0.99 - ACCURACY_TOLERANCE - 0.001, False),
        (0.050, 0.999, False),
    ],
)
def test_the_default_changes_only_when_the_nested_estimate_is_better(tmp_path, tuned_loss, tuned_accuracy, better):
    path = tmp_path / "defaults.json"
    path.write_text(DEFAULTS_FILE.read_text())
    before = json.loads(path.read_text())
    estimate = {
        "tuned": {"log_loss": tuned_loss, "accuracy": tuned_accuracy},
        "default": {"log_loss": 0.040, "accuracy": 0.99},
    }
    chosen = {"params": {"max_depth": 3, "eta": 0.1}, "num_rounds": 100}
    evidence = {"nested_estimate": estimate, "chosen": chosen, "tuned_is_better": tune.is_better(estimate)}
    assert tune.adopt(evidence, path) is better
    after = json.loads(path.read_text())
    assert after["nested_cv"] == evidence
    expected = chosen if better else {"params": before["params"], "num_rounds": before["num_rounds"]}
    assert {"params": after["params"], "num_rounds": after["num_rounds"]} == expected


def test_cli_tune_prints_progress_and_the_verdict_and_leaves_the_defaults_alone():
    before = DEFAULTS_FILE.read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "training", "tune", "--small", "--outer-folds", "2", "--inner-folds", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "outer fold 2/2: chose" in result.stdout and "nested estimate over 2 outer folds" in result.stdout
    assert "verdict: " in result.stdout
    assert DEFAULTS_FILE.read_bytes() == before
