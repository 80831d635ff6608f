"""Nested cross-validation: tune on inner folds, score the tuning on outer folds it never saw.

The inner search picks, by log loss, one configuration of a small grid for each outer training set; the
outer folds score that choice, so the nested estimate is what "tune, then train" would achieve on new
birds. The current default is scored on the very same outer folds. The configuration chosen on all the
data becomes the default (training/defaults.json) only when the nested estimate is better by more than
the promotion gate's tolerances: a difference the gate would call noise is not worth a bigger model.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import StratifiedKFold

from penguins.domain import SPECIES

from .data import load_training_data
from .gate import ACCURACY_TOLERANCE, LOG_LOSS_TOLERANCE
from .model import DEFAULTS_FILE, FIXED_PARAMS, NUM_ROUNDS, PARAMS, fit, predict_proba

# Rounds are not a grid axis of their own: one fit with the most rounds is scored after each count.
FULL_GRID = {
    "max_depth": (2, 3, 4),
    "eta": (0.1, 0.3),
    "min_child_weight": (1, 3),
    "subsample": (0.8, 1.0),
    "colsample_bytree": (0.8, 1.0),
}
FULL_ROUNDS = (50, 100, 200)
SMALL_GRID = {
    "max_depth": (2,),
    "eta": (0.3,),
    "min_child_weight": (1,),
    "subsample": (0.8, 1.0),
    "colsample_bytree": (1.0,),
}
SMALL_ROUNDS = (5, 10)
LABELS = list(range(len(SPECIES)))


class Config(NamedTuple):
    """One point of the grid: the tunable parameters and the number of rounds."""

    params: dict
    num_rounds: int

    def describe(self) -> str:
        """A short human-readable form."""
        return ", ".join(f"{k} {v:g}" for k, v in self.params.items()) + f", {self.num_rounds} rounds"


def grid_points(grid: dict) -> list[dict]:
    """Every combination of the grid's values, in a fixed order."""
    return [dict(zip(grid, values)) for values in itertools.product(*grid.values())]


def inner_search(X: np.ndarray, y: np.ndarray, grid: dict, rounds: tuple[int, ...], seed: int, folds: int) -> tuple:
    """(best Config, its mean inner log loss) over the grid; ties go to the earlier point (fewer rounds)."""
    inner = list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(X, y))
    scored: list[tuple] = []
    for params in grid_points(grid):
        losses = np.zeros(len(rounds))
        for train_index, test_index in inner:
            booster = fit(X[train_index], y[train_index], seed, num_rounds=max(rounds), params=params)
            for k, count in enumerate(rounds):
                probabilities = predict_proba(booster, X[test_index], num_rounds=count)
                losses[k] += log_loss(y[test_index], probabilities, labels=LABELS) / len(inner)
        scored.extend((float(loss), Config(params, count)) for loss, count in zip(losses, rounds))
    loss, best = min(scored, key=lambda pair: pair[0])
    return best, loss


def score(X: np.ndarray, y: np.ndarray, train_index, test_index, config: Config, seed: int) -> dict[str, float]:
    """Log loss and accuracy on the test rows of a model fitted on the training rows."""
    booster = fit(X[train_index], y[train_index], seed, num_rounds=config.num_rounds, params=config.params)
    probabilities = predict_proba(booster, X[test_index])
    return {
        "log_loss": float(log_loss(y[test_index], probabilities, labels=LABELS)),
        "accuracy": float(accuracy_score(y[test_index], probabilities.argmax(axis=1))),
    }


def current_config() -> Config:
    """The configuration train.py uses now."""
    return Config({k: v for k, v in PARAMS.items() if k not in FIXED_PARAMS}, NUM_ROUNDS)


def nested_cv(
    grid: dict,
    rounds: tuple[int, ...],
    seed: int = 0,
    outer_folds: int = 5,
    inner_folds: int = 3,
    progress: Callable[[str], None] = print,
) -> dict:
    """Run the nested cross-validation and the final search on all data; return the evidence."""
    data = load_training_data()
    X, y = data.X, data.y
    default = current_config()
    size = len(grid_points(grid)) * len(rounds)
    progress(
        f"nested CV: {outer_folds} outer folds, {inner_folds} inner folds, {size} configurations "
        f"({len(grid_points(grid))} fits per inner fold); default: {default.describe()}"
    )
    started = time.monotonic()
    outer = StratifiedKFold(n_splits=outer_folds, shuffle=True, random_state=seed).split(X, y)
    folds = []
    for number, (train_index, test_index) in enumerate(outer, start=1):
        chosen, inner_loss = inner_search(X[train_index], y[train_index], grid, rounds, seed, inner_folds)
        tuned = score(X, y, train_index, test_index, chosen, seed)
        baseline = score(X, y, train_index, test_index, default, seed)
        folds.append(
            {"chosen": chosen._asdict(), "inner_log_loss": round(inner_loss, 4), "tuned": tuned, "default": baseline}
        )
        progress(
            f"outer fold {number}/{outer_folds}: chose {chosen.describe()} (inner log loss {inner_loss:.4f}); "
            f"held out: log loss {tuned['log_loss']:.4f} (default {baseline['log_loss']:.4f}), accuracy "
            f"{tuned['accuracy']:.4f} (default {baseline['accuracy']:.4f}) [{time.monotonic() - started:.0f} s]"
        )
    chosen, inner_loss = inner_search(X, y, grid, rounds, seed, inner_folds)
    progress(
        f"on all data: chose {chosen.describe()} (inner log loss {inner_loss:.4f}) [{time.monotonic() - started:.0f} s]"
    )
    estimate = {
        which: {
            metric: round(float(np.mean([f[which][metric] for f in folds])), 4) for metric in ("log_loss", "accuracy")
        }
        for which in ("tuned", "default")
    }
    better = is_better(estimate)
    return {
        "grid": {k: list(v) for k, v in grid.items()},
        "rounds": list(rounds),
        "outer_folds": outer_folds,
        "inner_folds": inner_folds,
        "seed": seed,
        "default": default._asdict(),
        "nested_estimate": estimate,
        "folds": folds,
        "chosen": chosen._asdict(),
        "tuned_is_better": bool(better),
        "seconds": round(time.monotonic() - started),
    }


def is_better(estimate: dict) -> bool:
    """Tuned beats the default beyond the gate's tolerance on log loss, and is not worse beyond it on accuracy."""
    tuned, default = estimate["tuned"], estimate["default"]
    return (
        tuned["log_loss"] < default["log_loss"] - LOG_LOSS_TOLERANCE
        and tuned["accuracy"] >= default["accuracy"] - ACCURACY_TOLERANCE
    )


def summary(evidence: dict) -> str:
    """The readable verdict."""
    estimate = evidence["nested_estimate"]
    tuned, default = estimate["tuned"], estimate["default"]
    chosen = Config(**evidence["chosen"])
    lines = [
        f"nested estimate over {evidence['outer_folds']} outer folds (mean of held-out folds):",
        f"  tuned   log loss {tuned['log_loss']:.4f}  accuracy {tuned['accuracy']:.4f}",
        f"  default log loss {default['log_loss']:.4f}  accuracy {default['accuracy']:.4f}",
        f"default: {Config(**evidence['default']).describe()}",
        f"chosen on all data: {chosen.describe()}",
    ]
    if evidence["tuned_is_better"]:
        lines.append(
            "verdict: tuning is better beyond the gate's tolerances: the chosen configuration may become the default"
        )
    else:
        lines.append(
            f"verdict: tuning is not better by more than the gate's tolerances (log loss {LOG_LOSS_TOLERANCE:g}, "
            f"accuracy {ACCURACY_TOLERANCE:g}): the default stays"
        )
    return "\n".join(lines)


def adopt(evidence: dict, path=DEFAULTS_FILE) -> bool:
    """Record the evidence in defaults.json; the chosen configuration replaces the default only if it is better."""
    current = json.loads(path.read_text())
    better = evidence["tuned_is_better"]
    chosen = evidence["chosen"] if better else {"params": current["params"], "num_rounds": current["num_rounds"]}
    document = {"params": chosen["params"], "num_rounds": chosen["num_rounds"], "nested_cv": evidence}
    path.write_text(json.dumps(document, indent=2) + "\n")
    return better
