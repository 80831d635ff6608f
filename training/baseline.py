"""A baseline for perspective: a logistic regression on the same features and the same splits."""

from __future__ import annotations

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from penguins.domain import SPECIES

DESCRIPTION = "logistic regression (standardised features, unknown sex imputed with the training mean)"


def logistic_regression_baseline(
    X: np.ndarray, y: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]], n_repeats: int
) -> tuple[dict, np.ndarray]:
    """The baseline's fold-mean metrics and its out-of-fold probabilities (repeat, bird, class)."""
    labels = list(range(len(SPECIES)))
    probabilities_by_repeat = np.zeros((n_repeats, len(y), len(labels)))
    accuracy, macro_f1, loss = [], [], []
    n_splits = len(folds) // n_repeats
    for fold, (train_index, test_index) in enumerate(folds):
        model = make_pipeline(SimpleImputer(strategy="mean"), StandardScaler(), LogisticRegression(max_iter=1000))
        model.fit(X[train_index], y[train_index])
        probabilities = model.predict_proba(X[test_index])
        probabilities_by_repeat[fold // n_splits, test_index] = probabilities
        predicted = probabilities.argmax(axis=1)
        accuracy.append(accuracy_score(y[test_index], predicted))
        macro_f1.append(f1_score(y[test_index], predicted, average="macro"))
        loss.append(log_loss(y[test_index], probabilities, labels=labels))
    wrong = int((probabilities_by_repeat.argmax(axis=2) != y).sum())
    summary = {
        "model": DESCRIPTION,
        "accuracy": round(float(np.mean(accuracy)), 4),
        "macro_f1": round(float(np.mean(macro_f1)), 4),
        "log_loss": round(float(np.mean(loss)), 4),
        "wrong": wrong,
        "predictions": int(probabilities_by_repeat.shape[0] * len(y)),
    }
    return summary, probabilities_by_repeat
