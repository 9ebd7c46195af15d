"""Calibration: conformal coverage and z-scaling on synthetic Gaussians with a known answer,
Platt and isotonic probabilities, and the stored file."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from gnnkit.train import EnsemblePrediction, Task, fit_calibration, read_calibration
from gnnkit.train.calibration import (
    conformal_quantile,
    gaussian_quantile,
    write_calibration,
)
from gnnkit.train.uncertainty_metrics import coverage, gaussian_nll

REGRESSION = Task.create("regression", 1)
BINARY = Task.create("binary", 1)


def gaussian_data(
    n: int, seed: int, std_factor: float = 1.0
) -> tuple[EnsemblePrediction, torch.Tensor]:
    """Targets y ~ N(μ, σ²) with σ in [0.2, 2.2]; the prediction reports σ · std_factor."""
    generator = torch.Generator().manual_seed(seed)
    mean = torch.randn(n, 1, generator=generator)
    std = 0.2 + 2 * torch.rand(n, 1, generator=generator)
    target = mean + std * torch.randn(n, 1, generator=generator)
    return EnsemblePrediction(mean, std * std_factor), target


def test_conformal_quantile_by_hand():
    # n = 9, alpha = 0.2: k = ceil(10 · 0.8) = 8, the 8th smallest score
    assert conformal_quantile(torch.arange(9.0, 0.0, -1.0), 0.2) == 8.0
    with pytest.raises(ValueError, match=r"alpha=0.1 need at least 9 labelled validation"):
        conformal_quantile(torch.ones(5), 0.1)  # k = ceil(6 · 0.9) = 6 > 5


@pytest.mark.parametrize("alpha", [0.1, 0.2])
@pytest.mark.parametrize("with_std", [True, False])
def test_conformal_intervals_cover_one_minus_alpha(alpha, with_std):
    validation, val_target = gaussian_data(2_000, seed=0)
    test, test_target = gaussian_data(20_000, seed=1)
    if not with_std:  # a squared-error model: absolute residuals
        validation, test = (
            EnsemblePrediction(validation.mean, None),
            EnsemblePrediction(test.mean, None),
        )
    calibration = fit_calibration("conformal", REGRESSION, validation, val_target, alpha)
    assert calibration.score == ("normalised" if with_std else "absolute")
    calibrated = calibration.apply(test)
    share = coverage(test_target[:, 0], calibrated.lower[:, 0], calibrated.upper[:, 0])
    assert share == pytest.approx(1 - alpha, abs=0.015)
    width = calibrated.upper - calibrated.lower
    assert (width.std() > 0.1) == with_std  # normalised scores adapt the width


def test_zscaling_recovers_a_known_scale():
    """The prediction reports a third of the true σ: the factor fitted is 3."""
    validation, val_target = gaussian_data(5_000, seed=0, std_factor=1 / 3)
    calibration = fit_calibration("zscaling", REGRESSION, validation, val_target, alpha=0.1)
    assert calibration.parameters[0]["scale"] == pytest.approx(3.0, rel=0.03)
    test, test_target = gaussian_data(20_000, seed=1, std_factor=1 / 3)
    calibrated = calibration.apply(test)
    before = gaussian_nll(test.mean[:, 0], test.std[:, 0], test_target[:, 0])
    after = gaussian_nll(calibrated.mean[:, 0], calibrated.std[:, 0], test_target[:, 0])
    assert after < before
    share = coverage(test_target[:, 0], calibrated.lower[:, 0], calibrated.upper[:, 0])
    assert share == pytest.approx(0.9, abs=0.015)
    assert calibrated.upper[0, 0] - calibrated.mean[0, 0] == pytest.approx(
        gaussian_quantile(0.1) * calibrated.std[0, 0].item()
    )
    with pytest.raises(ValueError, match="zscaling scales a predicted standard deviation"):
        fit_calibration(
            "zscaling", REGRESSION, EnsemblePrediction(validation.mean, None), val_target
        )


def binary_data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Labels drawn with probability sigmoid(z); the model reports sigmoid(2z + 1)."""
    generator = torch.Generator().manual_seed(seed)
    z = 1.5 * torch.randn(n, generator=generator)
    labels = torch.bernoulli(torch.sigmoid(z), generator=generator)
    return torch.sigmoid(2 * z + 1)[:, None], labels[:, None], torch.sigmoid(z)[:, None]


def test_platt_inverts_a_known_distortion():
    probs, labels, _ = binary_data(20_000, seed=0)
    calibration = fit_calibration("platt", BINARY, EnsemblePrediction(probs, None), labels)
    a, b = calibration.parameters[0]["a"], calibration.parameters[0]["b"]
    assert a == pytest.approx(0.5, abs=0.03) and b == pytest.approx(-0.5, abs=0.05)
    test, _, truth = binary_data(1_000, seed=1)
    calibrated = calibration.apply(EnsemblePrediction(test, None)).mean
    assert (calibrated - truth).abs().max() < 0.03
    assert calibration.alpha is None


def test_isotonic_is_sklearns_fit_and_monotone():
    from sklearn.isotonic import IsotonicRegression

    probs, labels, _ = binary_data(5_000, seed=0)
    calibration = fit_calibration("isotonic", BINARY, EnsemblePrediction(probs, None), labels)
    grid = torch.linspace(0, 1, 101)[:, None]
    ours = calibration.apply(EnsemblePrediction(grid, None)).mean[:, 0]
    reference = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(
        probs[:, 0].double().numpy(), labels[:, 0].double().numpy()
    )
    assert np.allclose(ours.numpy(), reference.predict(grid[:, 0].double().numpy()), atol=1e-6)
    assert (ours[1:] >= ours[:-1]).all()
    test, _, test_truth = binary_data(2_000, seed=1)
    calibrated = calibration.apply(EnsemblePrediction(test, None)).mean
    assert (calibrated - test_truth).abs().mean() < (test - test_truth).abs().mean() / 3


@pytest.mark.parametrize(
    ("method", "task", "message"),
    [
        ("platt", REGRESSION, "calibration 'platt' calibrates probabilities; a regression task"),
        ("conformal", BINARY, "calibration 'conformal' makes intervals for regression"),
        ("isotonic", Task.create("multiclass", 1, n_classes=3), "not supported"),
    ],
)
def test_calibration_refuses_the_wrong_task(method, task, message):
    prediction = EnsemblePrediction(torch.full((4, 1), 0.5), None)
    with pytest.raises(ValueError, match=message):
        fit_calibration(method, task, prediction, torch.tensor([[0.0], [1.0], [0.0], [1.0]]))


def test_calibration_file_is_plain_json(tmp_path):
    validation, target = gaussian_data(100, seed=0)
    calibration = fit_calibration("conformal", REGRESSION, validation, target, alpha=0.2)
    path = write_calibration(calibration, tmp_path)
    assert json.loads(path.read_text())["format"] == "gnnkit-calibration"
    assert read_calibration(tmp_path) == calibration
    assert read_calibration(tmp_path / "elsewhere") is None
    path.write_text('{"method": "conformal"}')
    with pytest.raises(ValueError, match=r"calibration.json: not a gnnkit calibration file"):
        read_calibration(tmp_path)
    assert math.isfinite(calibration.parameters[0]["quantile"])
