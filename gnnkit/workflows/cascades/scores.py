r"""Classification scores of one evaluation round, and their summary over rounds.

For classes :math:`c = 1..C` with precision :math:`P_c` and recall :math:`R_c` on the test
set, :math:`F1_c = 2 P_c R_c / (P_c + R_c)` (0 when the class is neither predicted nor
present, or when :math:`P_c + R_c = 0`); macro-F1 is :math:`\frac1C \sum_c F1_c` over all
:math:`C` classes and accuracy the share of correct predictions. Over :math:`k` rounds each
score is reported as its mean and sample standard deviation (:math:`k - 1` in the
denominator); a single round reports plain numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

SCORES: tuple[str, ...] = ("accuracy", "macro_f1")


def classification_scores(
    y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str]
) -> dict[str, Any]:
    """``{"accuracy", "macro_f1", "per_class_f1": {class: F1}}`` of integer labels ``[B]``."""
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(
            f"need equally many labels and predictions, got {y_true.shape}, {y_pred.shape}"
        )
    f1 = {}
    for c, name in enumerate(classes):
        tp = int(((y_pred == c) & (y_true == c)).sum())
        predicted, present = int((y_pred == c).sum()), int((y_true == c).sum())
        f1[name] = 2 * tp / (predicted + present) if predicted + present else 0.0
    return {
        "accuracy": float((y_true == y_pred).mean()),
        "macro_f1": float(np.mean(list(f1.values()))),
        "per_class_f1": f1,
    }


def _spread(values: list[float]) -> dict[str, float]:
    array = np.asarray(values, dtype=np.float64)
    return {"mean": float(array.mean()), "std": float(array.std(ddof=1)) if array.size > 1 else 0.0}


def summarize(rounds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Scores of :func:`classification_scores` over rounds: ``{"mean", "std"}`` for each
    (per class too), or the single round's numbers unchanged."""
    if len(rounds) == 1:
        return dict(rounds[0])
    classes = list(rounds[0]["per_class_f1"])
    return {
        **{name: _spread([r[name] for r in rounds]) for name in SCORES},
        "per_class_f1": {c: _spread([r["per_class_f1"][c] for r in rounds]) for c in classes},
    }
