r"""Classification scores of one evaluation round, and their summary over rounds.

For classes :math:`c = 1..C` with precision :math:`P_c` and recall :math:`R_c` on the test
set, :math:`F1_c = 2 P_c R_c / (P_c + R_c)` (0 when the class is neither predicted nor
present, or when :math:`P_c + R_c = 0`); macro-F1 is :math:`\frac1C \sum_c F1_c` over all
:math:`C` classes, absent ones included (as scikit-learn's ``f1_score(labels=range(C),
average="macro", zero_division=0)``; torchmetrics' ``average="macro"`` would skip them), and
accuracy the share of correct predictions. Both come from torchmetrics. Over :math:`k` rounds
each score is reported as its mean and sample standard deviation (:math:`k - 1` in the
denominator); a single round reports plain numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torchmetrics.functional.classification import multiclass_accuracy, multiclass_f1_score

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
    target, preds = torch.from_numpy(y_true), torch.from_numpy(y_pred)
    per_class = multiclass_f1_score(
        preds, target, num_classes=len(classes), average="none", zero_division=0
    )
    accuracy = multiclass_accuracy(preds, target, num_classes=len(classes), average="micro")
    return {
        "accuracy": accuracy.item(),
        "macro_f1": per_class.mean().item(),
        "per_class_f1": dict(zip(classes, per_class.tolist())),
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
