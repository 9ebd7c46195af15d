"""Files a run leaves in its output folder: metrics JSON, CSV tables and PNG plots.

Plots are drawn on :class:`matplotlib.figure.Figure` objects with the Agg renderer, never
through ``pyplot``, so they work without a display and leave matplotlib's global state alone.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import Tensor
from torchmetrics.functional.classification import binary_roc

from gnnkit.train.predict import EnsemblePrediction
from gnnkit.train.tasks import Task
from gnnkit.train.uncertainty_metrics import BINS, calibration_curve


def write_json(path: Path, data: dict[str, Any]) -> Path:
    """Strict JSON (``NaN`` is refused: undefined values must already be ``None``)."""
    path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n")
    return path


def write_epoch_csv(path: Path, rows: Sequence[dict[str, float]]) -> Path:
    """One row per epoch, columns in first-seen order."""
    pd.DataFrame(list(rows)).to_csv(path, index=False)
    return path


def predictions_frame(
    task: Task,
    ids: Sequence[object],
    preds: Tensor,
    target: Tensor,
    std: Tensor | None = None,
    extra: Mapping[str, Tensor] | None = None,
) -> pd.DataFrame:
    """A table with ``id`` and, per task ``t``: ``t_target`` and ``t_pred`` (the un-scaled
    value, the probability of class 1, or the most probable class), plus ``t_prob_k`` per
    class ``k`` for multiclass tasks; with ``std`` (an ensemble's spread, or a predicted
    standard deviation) also ``t_std``, or ``t_prob_k_std`` per class; and ``t_<name>`` for
    every entry of ``extra`` (e.g. ``lower`` and ``upper`` of an interval). Classes with text
    labels (``task.class_names``) are named by them: in ``t_target``, ``t_pred`` and
    ``t_prob_<label>``.

    Args:
        preds: ``[B, T]`` or ``[B, T, C]`` from :meth:`~gnnkit.train.TrainedModel.predict`.
        target: ``[B, T]``, NaN where missing.
        std: ``None`` or the shape of ``preds``.
        extra: name → ``[B, T]`` (regression and binary tasks).
    """
    columns: dict[str, Any] = {"id": list(ids)}
    for t, name in enumerate(task.names):
        columns[f"{name}_target"] = target[:, t].tolist()
        if task.kind == "multiclass":
            predicted = preds[:, t].argmax(dim=-1).tolist()
            columns[f"{name}_pred"] = predicted
            if task.class_names is not None:
                columns[f"{name}_target"] = [
                    None if math.isnan(y) else task.class_label(int(y))
                    for y in columns[f"{name}_target"]
                ]
                columns[f"{name}_pred"] = [task.class_label(k) for k in predicted]
            for k in range(task.n_classes):
                label = task.class_label(k)
                columns[f"{name}_prob_{label}"] = preds[:, t, k].tolist()
                if std is not None:
                    columns[f"{name}_prob_{label}_std"] = std[:, t, k].tolist()
        else:
            columns[f"{name}_pred"] = preds[:, t].tolist()
            if std is not None:
                columns[f"{name}_std"] = std[:, t].tolist()
            for part, values in (extra or {}).items():
                columns[f"{name}_{part}"] = values[:, t].tolist()
    return pd.DataFrame(columns)


def save_figure(figure: Figure, path: Path) -> Path:
    """Lay out ``figure`` and write it to ``path`` (PNG, 120 dpi) with the Agg renderer."""
    FigureCanvasAgg(figure)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    return path


def plot_learning_curve(path: Path, rows: Sequence[dict[str, float]], monitor: str) -> Path:
    """Train and validation loss per epoch (left) and the monitored validation metric (right)."""
    figure = Figure(figsize=(9, 3.6))
    losses, metric = figure.subplots(1, 2)
    epochs = [row["epoch"] for row in rows]
    for key in ("train_loss", "val_loss"):
        losses.plot(epochs, [row.get(key, math.nan) for row in rows], marker=".", label=key)
    losses.set(xlabel="epoch", ylabel="loss", title="loss")
    losses.legend()
    metric.plot(
        epochs, [row.get(f"val_{monitor}", math.nan) for row in rows], marker=".", color="C2"
    )
    metric.set(xlabel="epoch", ylabel=monitor, title=f"validation {monitor}")
    return save_figure(figure, path)


def plot_parity(path: Path, task: Task, preds: Tensor, target: Tensor) -> Path:
    """Predicted against measured values of every task, with the line ``y = x``."""
    figure = Figure(figsize=(4.8, 4.6))
    axes = figure.subplots()
    for t, name in enumerate(task.names):
        labelled = ~torch.isnan(target[:, t])
        axes.scatter(target[labelled, t], preds[labelled, t], s=10, alpha=0.6, label=name)
    labelled = ~torch.isnan(target)
    values = torch.cat([target[labelled], preds[labelled]])
    low, high = (values.min().item(), values.max().item()) if values.numel() else (0.0, 1.0)
    axes.plot([low, high], [low, high], color="black", linewidth=1)
    axes.set(xlabel="measured", ylabel="predicted", title="test parity")
    if task.n_tasks > 1:
        axes.legend(fontsize="small")
    return save_figure(figure, path)


def plot_roc(path: Path, task: Task, preds: Tensor, target: Tensor) -> Path:
    """ROC curve of every task (binary) or every class of every task, one against the rest
    (multiclass); a curve whose labels hold a single class is left out."""
    figure = Figure(figsize=(4.8, 4.6))
    axes = figure.subplots()
    for t, name in enumerate(task.names):
        labelled = ~torch.isnan(target[:, t])
        y = target[labelled, t].long()
        curves = (
            [(name, preds[labelled, t], y)]
            if task.kind == "binary"
            else [
                (f"{name}: {k}", preds[labelled, t, k], (y == k).long())
                for k in range(task.n_classes)
            ]
        )
        for label, score, positive in curves:
            if positive.unique().numel() == 2:
                fpr, tpr, _ = binary_roc(score, positive)
                axes.plot(fpr, tpr, label=label)
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    axes.set(xlabel="false positive rate", ylabel="true positive rate", title="test ROC")
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize="small")
    return save_figure(figure, path)


def plot_reliability(
    path: Path, task: Task, prediction: EnsemblePrediction, target: Tensor
) -> Path | None:
    r"""Reliability diagram of the test split, against the diagonal of perfect calibration.

    Regression: per task, the share of targets inside the centred Gaussian interval
    :math:`\mu \pm z\sigma` against the share expected (the curve whose gap to the diagonal
    is the miscalibration area, :mod:`gnnkit.train.uncertainty_metrics`); ``None`` (nothing
    drawn) for a prediction without ``std``. Binary: per task, the share of positives against
    the mean probability in each of 10 equal bins; multiclass: accuracy against the top
    probability.
    """
    if task.kind == "regression" and prediction.std is None:
        return None
    figure = Figure(figsize=(4.8, 4.6))
    axes = figure.subplots()
    for t, name in enumerate(task.names):
        labelled = ~torch.isnan(target[:, t])
        if not labelled.any():
            continue
        y = target[labelled, t]
        if task.kind == "regression":
            mean, std = prediction.mean[labelled, t], prediction.std[labelled, t]
            expected, observed = calibration_curve(mean, std, y)
        else:
            probs = prediction.mean[labelled, t]
            if task.kind == "binary":
                confidence, hit = probs.double(), y.double()
            else:
                top, predicted = probs.max(dim=-1)
                confidence, hit = top.double(), (predicted == y.long()).double()
            bins = torch.clamp((confidence * BINS).long(), max=BINS - 1)
            used = bins.unique()
            expected = torch.stack([confidence[bins == b].mean() for b in used])
            observed = torch.stack([hit[bins == b].mean() for b in used])
        axes.plot(expected, observed, marker="." if task.kind != "regression" else None, label=name)
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    if task.kind == "regression":
        labels = ("expected share inside interval", "observed share", "test reliability")
    elif task.kind == "binary":
        labels = ("mean predicted probability", "share of positives", "test reliability")
    else:
        labels = ("top probability", "accuracy", "test reliability")
    axes.set(xlabel=labels[0], ylabel=labels[1], title=labels[2], xlim=(0, 1), ylim=(0, 1))
    if task.n_tasks > 1:
        axes.legend(fontsize="small")
    return save_figure(figure, path)
