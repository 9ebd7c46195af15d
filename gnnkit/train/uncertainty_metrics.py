r"""How well a model's uncertainty matches its errors, for one task's labelled graphs.

Regression, with targets :math:`y_i`, predictions :math:`\mu_i` and predicted standard
deviations :math:`\sigma_i` (:math:`i = 1 \dots n`), errors :math:`r_i = y_i - \mu_i`:

- :func:`gaussian_nll`: :math:`\frac1n \sum_i \tfrac12 \log(2\pi\sigma_i^2)
  + r_i^2 / (2\sigma_i^2)`.
- :func:`miscalibration_area` (Tran et al. 2020, as chemprop and Uncertainty Toolbox): for
  expected proportions :math:`p_j = j/M`, :math:`j = 0 \dots M`, the observed proportion
  :math:`o_j = \frac1n \#\{i : |r_i| \le \sigma_i\, z_j\}` inside the centred Gaussian interval
  with :math:`z_j = \sqrt2\, \operatorname{erf}^{-1}(p_j)`; the area between the curve and the
  diagonal by the trapezoidal rule, :math:`\sum_{j=1}^{M} \frac{1}{2M}(|o_j - p_j|
  + |o_{j-1} - p_{j-1}|)`. 0 for a perfectly calibrated model, at most 0.5.
- :func:`expected_normalized_calibration_error` (ENCE, Levi et al. 2022): the graphs sorted by
  :math:`\sigma` and cut into :math:`K` bins of (nearly) equal size; with
  :math:`\mathrm{RMV}_k = \sqrt{\operatorname{mean}_{i \in k} \sigma_i^2}` and
  :math:`\mathrm{RMSE}_k = \sqrt{\operatorname{mean}_{i \in k} r_i^2}`,
  :math:`\mathrm{ENCE} = \frac1K \sum_k |\mathrm{RMV}_k - \mathrm{RMSE}_k| / \mathrm{RMV}_k`.
- :func:`error_spearman`: Spearman's rank correlation of :math:`|r_i|` and :math:`\sigma_i`
  (torchmetrics' ``spearman_corrcoef``): does a larger uncertainty flag a larger error?
- :func:`coverage`: the share of targets inside their interval, :math:`\frac1n \#\{i : l_i \le
  y_i \le u_i\}`.

Classification, with predicted probabilities :math:`p_{ik}` and labels :math:`y_i`:

- :func:`expected_calibration_error`: torchmetrics' ``binary_calibration_error`` (binary:
  the probability of class 1 against the share of positives) or
  ``multiclass_calibration_error`` (the top probability against accuracy), with ``bins`` equal
  bins on [0, 1]: :math:`\sum_b \frac{n_b}{n} |\bar p_b - \bar y_b|`.
- :func:`brier_score`: :math:`\frac1n \sum_i \sum_k (p_{ik} - [y_i = k])^2`; for a binary task
  the one-probability form :math:`\frac1n \sum_i (p_i - y_i)^2` (half the two-class sum).

Every function returns ``None`` when the value is undefined (no graphs; Spearman of fewer than
two graphs or of constant values).
"""

from __future__ import annotations

import math

import torch
import torchmetrics.functional as tmf
from torch import Tensor

#: Expected proportions :math:`M` of the miscalibration area (chemprop's 100).
AREA_STEPS = 100
#: Bins :math:`K` of ENCE and of the expected calibration error.
BINS = 10


def gaussian_nll(mean: Tensor, std: Tensor, target: Tensor) -> float | None:
    """Mean Gaussian negative log-likelihood of ``target`` ``[n]``."""
    if target.numel() == 0:
        return None
    variance = std.double().square()
    error = (target - mean).double()
    return (0.5 * torch.log(2 * math.pi * variance) + error.square() / (2 * variance)).mean().item()


def calibration_curve(
    mean: Tensor, std: Tensor, target: Tensor, steps: int = AREA_STEPS
) -> tuple[Tensor, Tensor]:
    """Expected proportions :math:`p_j` and observed proportions :math:`o_j`, each
    ``[steps + 1]`` (see :func:`miscalibration_area`)."""
    expected = torch.linspace(0, 1, steps + 1, dtype=torch.float64)
    z = math.sqrt(2) * torch.special.erfinv(expected)  # z_M = inf
    error = (target - mean).double().abs()
    inside = error[None, :] <= std.double()[None, :] * z[:, None]
    return expected, inside.double().mean(dim=1)


def miscalibration_area(
    mean: Tensor, std: Tensor, target: Tensor, steps: int = AREA_STEPS
) -> float | None:
    """Area between the observed and the expected proportions (module docstring)."""
    if target.numel() == 0:
        return None
    expected, observed = calibration_curve(mean, std, target, steps)
    gap = (observed - expected).abs()
    return ((gap[1:] + gap[:-1]) / (2 * steps)).sum().item()


def expected_normalized_calibration_error(
    mean: Tensor, std: Tensor, target: Tensor, bins: int = BINS
) -> float | None:
    """ENCE over ``min(bins, n)`` bins of graphs sorted by ``std`` (module docstring)."""
    if target.numel() == 0:
        return None
    order = torch.argsort(std, stable=True)
    error = (target - mean).double()[order].square()
    variance = std.double()[order].square()
    ratios = []
    for part_error, part_variance in zip(
        torch.tensor_split(error, min(bins, error.numel())),
        torch.tensor_split(variance, min(bins, error.numel())),
    ):
        rmv = part_variance.mean().sqrt()
        ratios.append(((rmv - part_error.mean().sqrt()).abs() / rmv).item())
    return sum(ratios) / len(ratios)


def error_spearman(mean: Tensor, std: Tensor, target: Tensor) -> float | None:
    """Spearman's rank correlation of the absolute errors and ``std``."""
    error = (target - mean).double().abs()
    if error.numel() < 2 or bool((error == error[0]).all()) or bool((std == std[0]).all()):
        return None
    return tmf.spearman_corrcoef(std.double(), error).item()


def coverage(target: Tensor, lower: Tensor, upper: Tensor) -> float | None:
    """Share of ``target`` inside ``[lower, upper]``."""
    if target.numel() == 0:
        return None
    return ((target >= lower) & (target <= upper)).double().mean().item()


def expected_calibration_error(
    probs: Tensor, target: Tensor, n_classes: int, bins: int = BINS
) -> float | None:
    """ECE of probabilities ``[n]`` (binary) or ``[n, C]`` (multiclass; module docstring)."""
    if target.numel() == 0:
        return None
    if probs.dim() == 1:
        return tmf.classification.binary_calibration_error(
            probs.float(), target.long(), n_bins=bins
        ).item()
    return tmf.classification.multiclass_calibration_error(
        probs.float(), target.long(), num_classes=n_classes, n_bins=bins
    ).item()


def brier_score(probs: Tensor, target: Tensor, n_classes: int) -> float | None:
    """Brier score of probabilities ``[n]`` (binary) or ``[n, C]`` (multiclass)."""
    if target.numel() == 0:
        return None
    if probs.dim() == 1:
        return (probs.double() - target.double()).square().mean().item()
    onehot = torch.nn.functional.one_hot(target.long(), n_classes).double()
    return (probs.double() - onehot).square().sum(dim=1).mean().item()
