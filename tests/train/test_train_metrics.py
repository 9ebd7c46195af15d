"""Metrics per task and averaged, with undefined values reported as None."""

from __future__ import annotations

import json
import math

import pytest
import torch
import torchmetrics

from gnnkit.train import Task, compute_metrics, metric_names
from gnnkit.train.metrics import UNCERTAINTY_METRICS, TaskMetrics, WeightedMean, metric_mode

NAN = math.nan


def test_metric_names_and_modes() -> None:
    assert metric_names("regression") == ("rmse", "mae", "r2")
    assert metric_names("binary") == ("roc_auc", "prc_auc", "accuracy", "f1")
    assert metric_names("multiclass") == ("accuracy", "macro_f1")
    assert [metric_mode(m) for m in ("loss", "rmse", "mae", "r2", "roc_auc")] == ["min"] * 3 + [
        "max"
    ] * 2


def test_regression_metrics_by_hand() -> None:
    preds = torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 7.0]])
    target = torch.tensor([[1.0, NAN], [2.0, NAN], [3.0, NAN], [5.0, 7.0]])
    report = compute_metrics(Task.create("regression", 2, ["a", "b"]), preds, target)
    a = report["per_task"]["a"]
    assert a["rmse"] == pytest.approx(0.5) and a["mae"] == pytest.approx(0.25)
    assert a["r2"] == pytest.approx(1 - 1 / 8.75)
    # task b has one label: errors are defined, r2 is not
    # (without a std or an interval, the uncertainty metrics are undefined)
    assert report["per_task"]["b"] == {
        "rmse": 0.0,
        "mae": 0.0,
        "r2": None,
        **dict.fromkeys(UNCERTAINTY_METRICS["regression"]),
    }
    assert report["rmse"] == pytest.approx(0.25) and report["r2"] == pytest.approx(a["r2"])


def test_binary_metrics_by_hand() -> None:
    preds = torch.tensor([[0.1], [0.4], [0.35], [0.8]])
    target = torch.tensor([[0.0], [0.0], [1.0], [1.0]])
    scores = compute_metrics(Task.create("binary", 1), preds, target)["per_task"]["task0"]
    assert scores["roc_auc"] == pytest.approx(0.75)
    # trapezoid under (recall, precision): (0, 1) (0.5, 1) (0.5, 0.5) (1, 2/3) (1, 0.5)
    assert scores["prc_auc"] == pytest.approx(0.5 + 0.5 * (0.5 + 2 / 3) / 2)
    assert scores["accuracy"] == pytest.approx(0.75)
    assert scores["f1"] == pytest.approx(2 / 3)


def test_single_class_and_unlabelled_tasks_are_undefined_not_half() -> None:
    preds = torch.tensor([[0.9, 0.2, 0.5], [0.8, 0.7, 0.5], [0.3, 0.6, 0.5]])
    target = torch.tensor([[1.0, 1.0, NAN], [1.0, 0.0, NAN], [1.0, 1.0, NAN]])
    report = compute_metrics(
        Task.create("binary", 3, ["one_class", "mixed", "none"]), preds, target
    )
    one_class = report["per_task"]["one_class"]
    assert one_class["roc_auc"] is None and one_class["prc_auc"] is None
    assert one_class["accuracy"] == pytest.approx(2 / 3)
    assert report["per_task"]["none"] == dict.fromkeys(
        (*metric_names("binary"), *UNCERTAINTY_METRICS["binary"])
    )
    assert report["roc_auc"] == pytest.approx(report["per_task"]["mixed"]["roc_auc"])
    json.dumps(report, allow_nan=False)  # undefined values serialise as null


def test_average_is_none_when_no_task_defines_it() -> None:
    report = compute_metrics(
        Task.create("binary", 1), torch.tensor([[0.2], [0.9]]), torch.tensor([[1.0], [1.0]])
    )
    assert report["roc_auc"] is None and report["accuracy"] == pytest.approx(0.5)


def test_multiclass_metrics() -> None:
    probs = torch.tensor([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1]])
    target = torch.tensor([[0.0], [1.0], [2.0], [1.0]])
    scores = compute_metrics(Task.create("multiclass", 1, n_classes=3), probs[:, None], target)
    assert scores["accuracy"] == pytest.approx(0.75)
    # per-class F1: class 0: 2/3, class 1: 2/3, class 2: 1
    assert scores["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)


def test_task_metrics_accumulates_batches() -> None:
    task = Task.create("regression", 1)
    preds, target = (
        torch.arange(6.0)[:, None],
        torch.tensor([[0.0], [1.0], [NAN], [3.0], [5.0], [5.0]]),
    )
    metric = TaskMetrics(task)
    metric.update(preds[:4], target[:4])
    metric.update(preds[4:], target[4:])
    assert metric.compute() == compute_metrics(task, preds, target)


def test_weighted_mean_equals_torchmetrics_mean():
    values, weights = torch.rand(6, generator=torch.Generator().manual_seed(0)), torch.arange(6.0)
    ours, theirs = WeightedMean(), torchmetrics.MeanMetric()
    for value, weight in zip(values, weights):
        ours.update(value, weight)
        theirs.update(value, weight)
    assert torch.equal(ours.compute(), theirs.compute())
