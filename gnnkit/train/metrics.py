"""Metrics per task and averaged over tasks, computed with torchmetrics.

==============  =============================================================================
kind            metrics
==============  =============================================================================
regression      ``rmse``, ``mae``, ``r2`` (on un-scaled predictions)
binary          ``roc_auc``, ``prc_auc`` (trapezoidal area under the precision-recall curve, as
                chemprop), ``accuracy`` and ``f1`` at probability 0.5
multiclass      ``accuracy`` (micro), ``macro_f1``
==============  =============================================================================

Beside them every report holds the uncertainty metrics of :mod:`gnnkit.train.uncertainty_metrics`
(:data:`UNCERTAINTY_METRICS`): ``nll``, ``miscalibration_area``, ``ence`` and ``spearman`` for a
regression prediction with a standard deviation, ``coverage`` for one with an interval (each
``None`` without), and ``ece`` and ``brier`` for classification.

Each task is scored on its labelled (non-NaN) graphs only. A metric that is undefined on a task
is ``None`` (``null`` in JSON), never a placeholder number: every metric of a task with no
labels, ``r2`` with fewer than two labels or constant labels, and ``roc_auc``/``prc_auc`` when
the task's labels hold a single class. The average over tasks skips undefined values and is
itself ``None`` when no task defines the metric.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import torch
import torchmetrics
import torchmetrics.functional as tmf
from torch import Tensor
from torchmetrics.utilities import dim_zero_cat
from torchmetrics.utilities.compute import auc

from gnnkit.train import uncertainty_metrics as um
from gnnkit.train.tasks import Task, TaskKind

#: ``(predictions of one task, its labels, classes) -> value``; predictions are values ``[n]``,
#: probabilities ``[n]`` (binary) or class probabilities ``[n, C]`` (multiclass).
MetricFn = Callable[[Tensor, Tensor, int], float | None]


def _two_classes(y: Tensor) -> bool:
    return bool((y == 0).any() and (y == 1).any())


def _r2(p: Tensor, y: Tensor, _: int) -> float | None:
    if y.numel() < 2 or bool((y == y[0]).all()):
        return None
    return tmf.r2_score(p, y).item()


def _prc_auc(p: Tensor, y: Tensor, _: int) -> float | None:
    if not _two_classes(y):
        return None
    precision, recall, _thresholds = tmf.classification.binary_precision_recall_curve(p, y.long())
    return auc(recall, precision).item()


def _roc_auc(p: Tensor, y: Tensor, _: int) -> float | None:
    return tmf.classification.binary_auroc(p, y.long()).item() if _two_classes(y) else None


METRICS: dict[str, dict[str, MetricFn]] = {
    "regression": {
        "rmse": lambda p, y, _: tmf.mean_squared_error(p, y).sqrt().item(),
        "mae": lambda p, y, _: tmf.mean_absolute_error(p, y).item(),
        "r2": _r2,
    },
    "binary": {
        "roc_auc": _roc_auc,
        "prc_auc": _prc_auc,
        "accuracy": lambda p, y, _: tmf.classification.binary_accuracy(p, y.long()).item(),
        "f1": lambda p, y, _: tmf.classification.binary_f1_score(p, y.long()).item(),
    },
    "multiclass": {
        "accuracy": lambda p, y, c: tmf.classification.multiclass_accuracy(
            p, y.long(), num_classes=c, average="micro"
        ).item(),
        "macro_f1": lambda p, y, c: tmf.classification.multiclass_f1_score(
            p, y.long(), num_classes=c, average="macro"
        ).item(),
    },
}
#: Metrics of the predicted uncertainty, reported beside :data:`METRICS` (not monitored).
UNCERTAINTY_METRICS: dict[str, tuple[str, ...]] = {
    "regression": ("nll", "miscalibration_area", "ence", "spearman", "coverage"),
    "binary": ("ece", "brier"),
    "multiclass": ("ece", "brier"),
}
#: Metrics that improve downwards; every other metric improves upwards.
LOWER_IS_BETTER = frozenset({"loss", "rmse", "mae"})


def metric_names(kind: TaskKind) -> tuple[str, ...]:
    """Metric names of a task kind, in report order."""
    return tuple(METRICS[kind])


def metric_mode(name: str) -> Literal["min", "max"]:
    """``"min"`` for losses and errors, ``"max"`` for scores."""
    return "min" if name in LOWER_IS_BETTER else "max"


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _uncertainty_scores(
    task: Task,
    p: Tensor,
    y: Tensor,
    std: Tensor | None,
    interval: tuple[Tensor, Tensor] | None,
) -> dict[str, float | None]:
    """:data:`UNCERTAINTY_METRICS` of one task's labelled predictions ``p``."""
    if task.kind != "regression":
        return {
            "ece": um.expected_calibration_error(p, y, task.n_classes),
            "brier": um.brier_score(p, y, task.n_classes),
        }
    scores: dict[str, float | None] = dict.fromkeys(UNCERTAINTY_METRICS["regression"])
    if std is not None:
        scores["nll"] = um.gaussian_nll(p, std, y)
        scores["miscalibration_area"] = um.miscalibration_area(p, std, y)
        scores["ence"] = um.expected_normalized_calibration_error(p, std, y)
        scores["spearman"] = um.error_spearman(p, std, y)
    if interval is not None:
        scores["coverage"] = um.coverage(y, *interval)
    return scores


def compute_metrics(
    task: Task,
    preds: Tensor,
    target: Tensor,
    *,
    std: Tensor | None = None,
    lower: Tensor | None = None,
    upper: Tensor | None = None,
) -> dict[str, Any]:
    """Per-task and averaged metrics.

    Args:
        task: the task.
        preds: predictions from :meth:`Task.activate` (regression un-scaled): ``[B, T]`` or
            ``[B, T, C]``.
        target: labels ``[B, T]``, NaN where missing.
        std: a regression prediction's standard deviation ``[B, T]``, or ``None``.
        lower, upper: a regression prediction's interval ``[B, T]``, or ``None``.

    Returns:
        ``{metric: average, …, "per_task": {task_name: {metric: value, …}, …}}`` with ``None``
        for undefined values; the metrics of :data:`METRICS`, then of
        :data:`UNCERTAINTY_METRICS`.
    """
    functions = METRICS[task.kind]
    per_task: dict[str, dict[str, float | None]] = {}
    for t, name in enumerate(task.names):
        labelled = ~torch.isnan(target[:, t])
        p, y = preds[labelled, t].double(), target[labelled, t].double()
        scores = {
            metric: fn(p, y, task.n_classes) if y.numel() else None
            for metric, fn in functions.items()
        }
        interval = (lower[labelled, t], upper[labelled, t]) if lower is not None else None
        spread = std[labelled, t].double() if std is not None else None
        scores |= _uncertainty_scores(task, p, y, spread, interval)
        per_task[name] = {metric: _finite_or_none(value) for metric, value in scores.items()}
    averaged: dict[str, Any] = {}
    for metric in (*functions, *UNCERTAINTY_METRICS[task.kind]):
        values = [scores[metric] for scores in per_task.values() if scores[metric] is not None]
        averaged[metric] = sum(values) / len(values) if values else None
    return {**averaged, "per_task": per_task}


class TaskMetrics(torchmetrics.Metric):
    """Collects predictions and labels over an epoch and scores them with
    :func:`compute_metrics`; under DDP the collected tensors are gathered from every process
    before scoring, so each process computes the metrics of the whole split."""

    full_state_update = False

    def __init__(self, task: Task) -> None:
        super().__init__()
        self.task = task
        self.add_state("preds", default=[], dist_reduce_fx="cat")
        self.add_state("target", default=[], dist_reduce_fx="cat")

    def update(self, preds: Tensor, target: Tensor) -> None:
        self.preds.append(preds.detach())
        self.target.append(target.detach())

    def compute(self) -> dict[str, Any]:
        # scored on the CPU: small tensors, and no CUDA kernels without deterministic versions
        preds, target = dim_zero_cat(self.preds).cpu(), dim_zero_cat(self.target).cpu()
        return compute_metrics(self.task, preds, target)


class WeightedMean(torchmetrics.Metric):
    r"""The weighted mean :math:`\sum_k w_k x_k / \sum_k w_k` of every update, summed over
    processes: ``MeanMetric`` without its per-update NaN check, which reads a value back from
    the device (a host sync every training step on CUDA). A NaN value makes the mean NaN.

    Shapes:
        ``update(value, weight)``: two tensors of the same shape (``[]`` for a batch loss).
    """

    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        self.add_state("total", torch.tensor(0.0), dist_reduce_fx="sum")
        self.add_state("weight", torch.tensor(0.0), dist_reduce_fx="sum")

    def update(self, value: Tensor, weight: Tensor) -> None:
        self.total += (value * weight).sum()
        self.weight += weight.sum()

    def compute(self) -> Tensor:
        return self.total / self.weight
