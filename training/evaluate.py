"""Repeated stratified cross-validation: accuracy, macro F1, log loss, confusion matrix, sex withheld."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss
from sklearn.model_selection import RepeatedStratifiedKFold

from penguins.domain import SPECIES
from penguins.features import FEATURE_NAMES

from .model import fit, predict_margin, predict_proba

SEX_COLUMN = FEATURE_NAMES.index("sex_male")
CALIBRATION_BINS = 10


def cross_validate(
    X: np.ndarray, y: np.ndarray, seed: int, n_splits: int = 5, n_repeats: int = 5, num_rounds: int | None = None
) -> dict:
    """Out-of-fold metrics over n_repeats x n_splits fits; the confusion matrix sums all repeats."""
    labels = list(range(len(SPECIES)))
    folds = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    accuracy, macro_f1, loss, sex_withheld = [], [], [], []
    out_of_fold_confidence, out_of_fold_correct, out_of_fold_margins, out_of_fold_truth = [], [], [], []
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    extra = {} if num_rounds is None else {"num_rounds": num_rounds}
    for train_index, test_index in folds.split(X, y):
        booster = fit(X[train_index], y[train_index], seed, **extra)
        probabilities = predict_proba(booster, X[test_index])
        predicted = probabilities.argmax(axis=1)
        truth = y[test_index]
        accuracy.append(accuracy_score(truth, predicted))
        macro_f1.append(f1_score(truth, predicted, average="macro"))
        loss.append(log_loss(truth, probabilities, labels=labels))
        matrix += confusion_matrix(truth, predicted, labels=labels)
        out_of_fold_confidence.extend(probabilities.max(axis=1).tolist())
        out_of_fold_correct.extend((predicted == truth).tolist())
        out_of_fold_margins.append(predict_margin(booster, X[test_index]))
        out_of_fold_truth.append(truth)
        withheld = X[test_index].copy()
        withheld[:, SEX_COLUMN] = np.nan
        sex_withheld.append(accuracy_score(truth, predict_proba(booster, withheld).argmax(axis=1)))
    return {
        "cv": f"{n_repeats}x repeated stratified {n_splits}-fold",
        "accuracy": _summary(accuracy),
        "macro_f1": _summary(macro_f1),
        "log_loss": _summary(loss),
        "accuracy_sex_withheld": _summary(sex_withheld),
        "confusion_matrix": {"labels": list(SPECIES), "rows_are": "true species", "counts": matrix.tolist()},
        **calibration(np.asarray(out_of_fold_confidence), np.asarray(out_of_fold_correct)),
        "temperature_scaling": temperature_scaling(np.vstack(out_of_fold_margins), np.concatenate(out_of_fold_truth)),
    }


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
