"""How much 342 birds can tell: bootstrap intervals over birds, not over folds, for the out-of-fold metrics."""

from __future__ import annotations

import numpy as np

RESAMPLES = 2000
LEVEL = 0.95
# The smallest probability a log loss counts (sklearn's own clip for float64 is smaller; this keeps one
# confidently wrong bird from dominating through floating-point noise alone).
PROBABILITY_FLOOR = 1e-15


def bird_bootstrap(probabilities: np.ndarray, y: np.ndarray, seed: int, resamples: int = RESAMPLES) -> dict:
    """Pooled out-of-fold accuracy, macro F1 and log loss with 95% intervals from resampling the birds.

    probabilities has shape (repeat, bird, class). A resample draws birds with replacement and keeps each
    drawn bird's predictions from every repeat, so the interval reflects the number of birds, not the number
    of (correlated) predictions made about them.
    """
    repeats, birds, classes = probabilities.shape
    predicted = probabilities.argmax(axis=2)
    truth = np.eye(classes)[y]
    answered = np.eye(classes)[predicted].sum(axis=0)  # (bird, class): how often each class was answered
    correct_count = (predicted == y).sum(axis=0)
    loss = -np.log(np.clip(probabilities[:, np.arange(birds), y], PROBABILITY_FLOOR, 1)).mean(axis=0)
    weights = np.random.default_rng(seed).multinomial(birds, np.full(birds, 1 / birds), size=resamples)
    weights = np.vstack([np.ones(birds), weights])  # row 0: the sample itself, the point estimate

    accuracy = weights @ correct_count / (birds * repeats)
    log_loss = weights @ loss / birds
    true_positive = weights @ (answered * truth)
    f1 = 2 * true_positive / np.maximum(weights @ answered + repeats * (weights @ truth), 1)
    macro_f1 = f1.mean(axis=1)
    tail = (1 - LEVEL) / 2 * 100
    return {
        "method": f"{LEVEL:.0%} bootstrap interval over the {birds} birds ({resamples} resamples)",
        **{
            name: {
                "out_of_fold": round(float(values[0]), 4),
                "low": round(float(np.percentile(values[1:], tail)), 4),
                "high": round(float(np.percentile(values[1:], 100 - tail)), 4),
            }
            for name, values in (("accuracy", accuracy), ("macro_f1", macro_f1), ("log_loss", log_loss))
        },
    }
