"""Multimodal sentiment regression metrics as MMSA (``utils/metricsTop.py``) defines them for MOSI/MOSEI.

For predictions ``p`` and labels ``y`` in [-3, 3]:

* ``mae``  = mean |p - y|; ``corr`` = Pearson correlation of p and y.
* ``acc2_has0`` / ``f1_has0``: classes ``y >= 0`` vs ``y < 0`` (zero counts as non-negative), accuracy and
  weighted F1 (sklearn ``f1_score(average="weighted")``).
* ``acc2_non0`` / ``f1_non0``: samples with ``y == 0`` dropped, classes ``> 0`` vs ``< 0`` (a prediction of exactly
  0 counts as negative, as in MMSA's ``p > 0`` test).
* ``acc5`` / ``acc7``: p and y clipped to [-2, 2] / [-3, 3] and rounded to the nearest integer; share of equal
  classes.

Accuracies and F1 are fractions in [0, 1] (papers print them ×100).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score

from xrec_lib.errors import DataError

REGRESSION_METRIC_NAMES = ("mae", "corr", "acc2_has0", "f1_has0", "acc2_non0", "f1_non0", "acc5", "acc7")


def _checked(predictions: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(predictions, dtype=np.float64).ravel()
    y = np.asarray(labels, dtype=np.float64).ravel()
    if p.shape != y.shape or p.size < 2:
        raise DataError(f"predictions ({p.size}) and labels ({y.size}) must have the same length >= 2")
    if not (np.isfinite(p).all() and np.isfinite(y).all()):
        raise DataError("predictions or labels contain NaN/inf; check the model")
    return p, y


def class_accuracy(predictions: np.ndarray, labels: np.ndarray, bound: int) -> float:
    """Acc-(2*bound+1): share of samples whose prediction and label, clipped to [-bound, bound] and rounded, agree."""
    p, y = _checked(predictions, labels)
    return float(np.mean(np.round(np.clip(p, -bound, bound)) == np.round(np.clip(y, -bound, bound))))


def binary_scores(predictions: np.ndarray, labels: np.ndarray, exclude_zero: bool) -> tuple[float, float]:
    """(Acc-2, weighted F1): ``>= 0`` vs ``< 0`` (has-zero) or ``> 0`` vs ``<= 0`` over non-zero labels (non-zero)."""
    p, y = _checked(predictions, labels)
    if exclude_zero:
        keep = y != 0
        if not keep.any():
            raise DataError("every label is 0: the non-zero Acc-2 is undefined")
        pred_class, true_class = p[keep] > 0, y[keep] > 0
    else:
        pred_class, true_class = p >= 0, y >= 0
    accuracy = float(np.mean(pred_class == true_class))
    return accuracy, float(f1_score(true_class, pred_class, average="weighted"))


def regression_metrics(predictions: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """All MMSA regression metrics (names in :data:`REGRESSION_METRIC_NAMES`)."""
    p, y = _checked(predictions, labels)
    corr = float(np.corrcoef(p, y)[0, 1]) if p.std() > 0 and y.std() > 0 else 0.0
    acc2_has0, f1_has0 = binary_scores(p, y, exclude_zero=False)
    acc2_non0, f1_non0 = binary_scores(p, y, exclude_zero=True)
    return {"mae": float(np.mean(np.abs(p - y))), "corr": corr, "acc2_has0": acc2_has0, "f1_has0": f1_has0,
            "acc2_non0": acc2_non0, "f1_non0": f1_non0, "acc5": class_accuracy(p, y, 2),
            "acc7": class_accuracy(p, y, 3)}
