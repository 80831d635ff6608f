"""Repeated stratified cross-validation: accuracy, macro F1, log loss, confusion matrix, sex withheld."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss
from sklearn.model_selection import RepeatedStratifiedKFold

from penguins.features import FEATURE_NAMES
from penguins.schema import SPECIES

from .model import fit, predict_proba

SEX_COLUMN = FEATURE_NAMES.index("sex_male")


def cross_validate(
    X: np.ndarray, y: np.ndarray, seed: int, n_splits: int = 5, n_repeats: int = 5, num_rounds: int | None = None
) -> dict:
    """Out-of-fold metrics over n_repeats x n_splits fits; the confusion matrix sums all repeats."""
    labels = list(range(len(SPECIES)))
    folds = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    accuracy, macro_f1, loss, sex_withheld = [], [], [], []
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
    }


def _summary(values: list[float]) -> dict[str, float]:
    return {"mean": round(float(np.mean(values)), 4), "std": round(float(np.std(values)), 4)}
