"""Uncertainty metrics against values computed by hand on small arrays."""

from __future__ import annotations

import math

import pytest
import torch

from gnnkit.train import Task, compute_metrics
from gnnkit.train import uncertainty_metrics as um


def t(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def test_gaussian_nll_by_hand():
    value = um.gaussian_nll(t(0, 0), t(1, 2), t(1, 0))
    expected = (0.5 * math.log(2 * math.pi) + 0.5 + 0.5 * math.log(2 * math.pi * 4)) / 2
    assert value == pytest.approx(expected)


def test_miscalibration_area_by_hand():
    """Two steps: p = 0, 0.5, 1 with z = 0, 0.674, inf. Errors 0.1, 0.2, 0.3, 2 (σ = 1): the
    observed shares are 0, 0.75, 1, gaps 0, 0.25, 0, and the trapezoids (0 + 0.25)/4 twice."""
    area = um.miscalibration_area(t(0, 0, 0, 0), t(1, 1, 1, 1), t(0.1, 0.2, 0.3, 2.0), steps=2)
    assert area == pytest.approx(0.125)
    # a large sample of exact Gaussians is calibrated
    generator = torch.Generator().manual_seed(0)
    std = torch.rand(20_000, generator=generator, dtype=torch.float64) + 0.5
    target = std * torch.randn(20_000, generator=generator, dtype=torch.float64)
    assert um.miscalibration_area(torch.zeros_like(std), std, target) < 0.01
    # the same errors with half the std are over-confident
    assert um.miscalibration_area(torch.zeros_like(std), std / 2, target) > 0.15


def test_ence_by_hand():
    """Two bins by σ: (σ 1, errors 1) gives |1 − 1|/1 = 0; (σ 2, errors 0) gives |2 − 0|/2."""
    value = um.expected_normalized_calibration_error(
        t(0, 0, 0, 0), t(2, 1, 2, 1), t(0, 1, 0, -1), bins=2
    )
    assert value == pytest.approx(0.5)


def test_spearman_of_errors_and_std_by_hand():
    """Ranks of σ 1, 2, 3 and of errors 1, 3, 2: ρ = 1 − 6·2/(3·8) = 0.5."""
    assert um.error_spearman(t(0, 0, 0), t(1, 2, 3), t(0.1, 0.3, -0.2)) == pytest.approx(
        0.5, rel=1e-5
    )
    assert um.error_spearman(t(0, 0), t(1, 1), t(1, 2)) is None  # constant std


def test_coverage_counts_the_bounds_as_inside():
    assert um.coverage(t(0, 1, 2, 3), t(0, 0, 0, 0), t(1, 1, 1, 1)) == 0.5


def test_classification_calibration_by_hand():
    probs, labels = t(0.1, 0.3, 0.7, 0.9), t(0, 1, 1, 1)
    # bins [0, 0.5) and [0.5, 1]: |0.2 − 0.5|·2/4 + |0.8 − 1|·2/4
    assert um.expected_calibration_error(probs, labels, 2, bins=2) == pytest.approx(0.25)
    assert um.brier_score(probs, labels, 2) == pytest.approx((0.01 + 0.49 + 0.09 + 0.01) / 4)
    three = torch.tensor([[0.7, 0.2, 0.1], [0.2, 0.45, 0.35]], dtype=torch.float64)
    # top probabilities 0.7 (right) and 0.45 (wrong): |0.7 − 1|/2 + |0.45 − 0|/2
    assert um.expected_calibration_error(three, t(0, 2), 3, bins=2) == pytest.approx(0.375)
    # (0.09 + 0.04 + 0.01) and (0.04 + 0.2025 + 0.4225), averaged
    assert um.brier_score(three, t(0, 2), 3) == pytest.approx((0.14 + 0.665) / 2)


def test_compute_metrics_reports_them_per_task():
    task = Task.create("regression", 2, ["a", "b"])
    preds = torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    target = torch.tensor([[1.0, math.nan], [0.0, 1.5]])
    std = torch.tensor([[1.0, 1.0], [2.0, 1.0]])
    report = compute_metrics(task, preds, target, std=std, lower=preds - 1, upper=preds + 1)
    assert report["per_task"]["a"]["nll"] == pytest.approx(
        um.gaussian_nll(t(0, 0), t(1, 2), t(1, 0))
    )
    assert report["per_task"]["a"]["coverage"] == 1.0
    assert report["per_task"]["b"]["spearman"] is None  # a single label
    assert report["coverage"] == 1.0
    binary = compute_metrics(
        Task.create("binary", 1), torch.tensor([[0.2], [0.6]]), t(0, 1)[:, None]
    )
    assert binary["brier"] == pytest.approx((0.04 + 0.16) / 2)
