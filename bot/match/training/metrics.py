"""ROC-AUC in plain NumPy (the evaluate command and the bootstrap call it thousands of times)."""

from __future__ import annotations

import numpy as np


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of `values`, ties given the average of their ranks."""
    values = np.asarray(values, dtype=np.float64)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return ((ends - counts + 1 + ends) / 2.0)[inverse]


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC by the Mann-Whitney rank sum (equal to sklearn's roc_auc_score, much faster).

    Needs both classes in `y`.
    """
    y = np.asarray(y)
    positives = int((y == 1).sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        raise ValueError("ROC-AUC needs both positive and negative rows")
    ranks = average_ranks(score)
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))
