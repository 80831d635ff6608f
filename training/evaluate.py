"""Repeated stratified cross-validation: accuracy, macro F1, log loss, confusion matrix, sex withheld."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss
from sklearn.model_selection import RepeatedStratifiedKFold

from penguins.domain import MEASUREMENTS, SPECIES
from penguins.features import FEATURE_NAMES

from .baseline import logistic_regression_baseline
from .data import TrainingData
from .intervals import bird_bootstrap
from .model import NUM_ROUNDS, fit, predict_margin, predict_proba

SEX_COLUMN = FEATURE_NAMES.index("sex_male")
CALIBRATION_BINS = 10
HARDEST_SHOWN = 10


class Evaluation(NamedTuple):
    """What the cross-validation found: the manifest's metrics, the baseline, the birds most often wrong."""

    metrics: dict
    baseline: dict
    hardest_penguins: list[dict]


def splits(y: np.ndarray, seed: int, n_splits: int = 5, n_repeats: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train, test) index pairs every model here is scored on, repeat after repeat."""
    folds = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    return list(folds.split(np.zeros(len(y)), y))


def evaluate(data: TrainingData, seed: int, n_repeats: int = 5, num_rounds: int | None = None) -> Evaluation:
    """Cross-validate the model and the baseline on the same splits; find the birds most often wrong."""
    folds = splits(data.y, seed, n_repeats=n_repeats)
    metrics, probabilities = cross_validate(data.X, data.y, seed, folds, n_repeats, num_rounds)
    baseline, baseline_probabilities = logistic_regression_baseline(data.X, data.y, folds, n_repeats)
    hardest = hardest_penguins(data, probabilities, baseline_probabilities)
    return Evaluation(metrics, baseline, hardest)


def cross_validate(
    X: np.ndarray,
    y: np.ndarray,
    seed: int,
    folds: list[tuple[np.ndarray, np.ndarray]],
    n_repeats: int,
    num_rounds: int | None = None,
) -> tuple[dict, np.ndarray]:
    """Out-of-fold metrics over the folds, and every repeat's out-of-fold probabilities (repeat, bird, class)."""
    labels = list(range(len(SPECIES)))
    accuracy, macro_f1, loss, sex_withheld = [], [], [], []
    out_of_fold_margins, out_of_fold_truth = [], []
    probabilities_by_repeat = np.zeros((n_repeats, len(y), len(labels)))
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    rounds = NUM_ROUNDS if num_rounds is None else num_rounds
    n_splits = len(folds) // n_repeats
    for fold, (train_index, test_index) in enumerate(folds):
        booster = fit(X[train_index], y[train_index], seed, num_rounds=rounds)
        probabilities = predict_proba(booster, X[test_index])
        probabilities_by_repeat[fold // n_splits, test_index] = probabilities
        predicted = probabilities.argmax(axis=1)
        truth = y[test_index]
        accuracy.append(accuracy_score(truth, predicted))
        macro_f1.append(f1_score(truth, predicted, average="macro"))
        loss.append(log_loss(truth, probabilities, labels=labels))
        matrix += confusion_matrix(truth, predicted, labels=labels)
        out_of_fold_margins.append(predict_margin(booster, X[test_index]))
        out_of_fold_truth.append(truth)
        withheld = X[test_index].copy()
        withheld[:, SEX_COLUMN] = np.nan
        sex_withheld.append(accuracy_score(truth, predict_proba(booster, withheld).argmax(axis=1)))
    interval = bird_bootstrap(probabilities_by_repeat, y, seed)
    confidence = probabilities_by_repeat.max(axis=2).ravel()
    correct = (probabilities_by_repeat.argmax(axis=2) == y).ravel()
    metrics = {
        "cv": f"{n_repeats}x repeated stratified {n_splits}-fold",
        "accuracy": {**_summary(accuracy), **interval["accuracy"]},
        "macro_f1": {**_summary(macro_f1), **interval["macro_f1"]},
        "log_loss": {**_summary(loss), **interval["log_loss"]},
        "accuracy_sex_withheld": _summary(sex_withheld),
        "interval": interval["method"],
        "wrong": int((~correct).sum()),
        "predictions": int(correct.size),
        "confusion_matrix": {"labels": list(SPECIES), "rows_are": "true species", "counts": matrix.tolist()},
        **calibration(confidence, correct),
        "temperature_scaling": temperature_scaling(np.vstack(out_of_fold_margins), np.concatenate(out_of_fold_truth)),
    }
    return metrics, probabilities_by_repeat


def hardest_penguins(data: TrainingData, probabilities: np.ndarray, baseline_probabilities: np.ndarray) -> list[dict]:
    """The birds wrong most often out of fold, with their measurements and what the baseline made of them."""
    predicted = probabilities.argmax(axis=2)
    wrong = (predicted != data.y).sum(axis=0)
    baseline_wrong = (baseline_probabilities.argmax(axis=2) != data.y).sum(axis=0)
    order = sorted(np.flatnonzero(wrong), key=lambda i: (-wrong[i], -baseline_wrong[i], i))[:HARDEST_SHOWN]
    rows = []
    for i in order:
        bird = data.frame.iloc[i]
        answers = np.bincount(predicted[:, i], minlength=len(SPECIES))
        answers[data.y[i]] = -1  # the most frequent wrong answer
        rows.append(
            {
                "row": int(data.source_rows[i]),
                "species": bird["species"],
                "predicted": SPECIES[int(answers.argmax())],
                "wrong": int(wrong[i]),
                "baseline_wrong": int(baseline_wrong[i]),
                "repeats": int(len(predicted)),
                "island": bird["island"],
                "sex": bird["sex"] if isinstance(bird["sex"], str) else None,
                **{name: float(bird[name]) for name in MEASUREMENTS},
            }
        )
    return rows


def temperature_scaling(margins: np.ndarray, truth: np.ndarray) -> dict:
    """The temperature that would minimise the out-of-fold log loss, and what it would gain."""
    labels = list(range(len(SPECIES)))

    def loss_at(temperature: float) -> float:
        scaled = margins / temperature
        scaled -= scaled.max(axis=1, keepdims=True)
        probabilities = np.exp(scaled) / np.exp(scaled).sum(axis=1, keepdims=True)
        return float(log_loss(truth, probabilities, labels=labels))

    temperatures = np.round(np.linspace(0.5, 2.0, 31), 3)
    best = min(temperatures, key=loss_at)
    return {
        "best_temperature": float(best),
        "log_loss_at_best": round(loss_at(best), 4),
        "log_loss_uncalibrated": round(loss_at(1.0), 4),
    }


def calibration(confidence: np.ndarray, correct: np.ndarray, bins: int = CALIBRATION_BINS) -> dict:
    """Expected calibration error of the top class (equal-width confidence bins), and the reliability table."""
    edges = np.linspace(1 / len(SPECIES), 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            gap = abs(confidence[inside].mean() - correct[inside].mean())
            ece += inside.mean() * gap
            table.append(
                {
                    "low": float(edges[b]),
                    "high": float(edges[b + 1]),
                    "count": int(inside.sum()),
                    "confidence": float(confidence[inside].mean()),
                    "accuracy": float(correct[inside].mean()),
                }
            )
    return {"expected_calibration_error": round(float(ece), 4), "reliability": table}


def _summary(values: list[float]) -> dict[str, float]:
    return {"mean": round(float(np.mean(values)), 4), "std": round(float(np.std(values)), 4)}
