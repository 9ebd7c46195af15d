r"""Regression heads that predict a distribution, and their negative log-likelihoods.

A regression model with ``T`` tasks outputs ``k·T`` numbers per graph, read as ``k`` blocks of
``T`` (chemprop v2's layout, ``torch.chunk`` along the outputs):

``mse`` (``k = 1``)
    the mean :math:`\mu`; loss :math:`(y - \mu)^2`.
``mve`` (``k = 2``; mean-variance estimation, Nix & Weigend 1994)
    :math:`\mu` and :math:`\sigma^2 = \operatorname{softplus}(s) + \epsilon`; loss the Gaussian
    negative log-likelihood

    .. math::
        \ell = \tfrac12 \log(2\pi\sigma^2) + \frac{(y - \mu)^2}{2\sigma^2}.

``evidential`` (``k = 4``; deep evidential regression, Amini et al. 2020)
    the Normal-Inverse-Gamma parameters :math:`\gamma`, :math:`\nu = \operatorname{softplus}
    + \epsilon`, :math:`\alpha = \operatorname{softplus} + 1`, :math:`\beta =
    \operatorname{softplus} + \epsilon`; loss :math:`\ell = \ell^{\mathrm{NLL}} + \lambda
    \ell^{\mathrm{R}}` with the paper's Student-t marginal likelihood (its eq. 8) and
    evidence regulariser (its eq. 9)

    .. math::
        \ell^{\mathrm{NLL}} &= \tfrac12\log\frac{\pi}{\nu} - \alpha\log\Omega
            + \big(\alpha + \tfrac12\big)\log\big((y - \gamma)^2\nu + \Omega\big)
            + \log\frac{\Gamma(\alpha)}{\Gamma(\alpha + \frac12)},
            \qquad \Omega = 2\beta(1 + \nu), \\
        \ell^{\mathrm{R}} &= |y - \gamma|\,(2\nu + \alpha).

    The prediction is :math:`\gamma`, the aleatoric variance :math:`\mathbb{E}[\sigma^2] =
    \beta / (\alpha - 1)` and the epistemic variance :math:`\operatorname{Var}[\mu] = \beta /
    (\nu(\alpha - 1))`. :math:`\lambda` defaults to 0.2, chemprop v2's default; the paper
    tunes it per data set (its examples use 0.01) and anneals nothing, as here.

Departure from both papers: :math:`\epsilon = 10^{-6}` is added to :math:`\sigma^2`,
:math:`\nu` and :math:`\beta`, so that a softplus that underflows to 0 cannot make the loss
infinite. Everything here works on standardised targets (see
:class:`~gnnkit.train.scaling.TargetScaler`): a variance :math:`v` of the standardised target is
:math:`v\,s^2` in the target's units, :math:`s` its training standard deviation.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from gnnkit.choices import REGRESSION_LOSSES

#: Output blocks per task of each regression loss.
PARAMETERS = {"mse": 1, "mve": 2, "evidential": 4}
EPSILON = 1e-6
#: λ of the evidential regulariser when none is given (chemprop v2's default).
EVIDENTIAL_LAMBDA = 0.2


def check_loss(loss: str) -> None:
    """Raise ``ValueError`` unless ``loss`` is one of :data:`~gnnkit.choices.REGRESSION_LOSSES`."""
    if loss not in REGRESSION_LOSSES:
        raise ValueError(
            f"unknown regression loss {loss!r}; expected one of {', '.join(REGRESSION_LOSSES)}"
        )


def head_parameters(loss: str, output: Tensor) -> tuple[Tensor, ...]:
    """The distribution's parameters from model output ``[B, k·T]``, each ``[B, T]``:
    ``(μ,)``, ``(μ, σ²)`` or ``(γ, ν, α, β)``."""
    blocks = torch.chunk(output, PARAMETERS[loss], dim=-1)
    if loss == "mse":
        return blocks
    if loss == "mve":
        mean, variance = blocks
        return mean, F.softplus(variance) + EPSILON
    gamma, nu, alpha, beta = blocks
    return gamma, F.softplus(nu) + EPSILON, F.softplus(alpha) + 1.0, F.softplus(beta) + EPSILON


def gaussian_nll(mean: Tensor, variance: Tensor, target: Tensor) -> Tensor:
    r""":math:`\tfrac12\log(2\pi\sigma^2) + (y - \mu)^2 / (2\sigma^2)`, element-wise."""
    return 0.5 * torch.log(2 * math.pi * variance) + (target - mean).square() / (2 * variance)


def evidential_nll(
    gamma: Tensor, nu: Tensor, alpha: Tensor, beta: Tensor, target: Tensor
) -> Tensor:
    r""":math:`\ell^{\mathrm{NLL}}` of Amini et al. (2020), eq. 8, element-wise."""
    omega = 2 * beta * (1 + nu)
    return (
        0.5 * torch.log(math.pi / nu)
        - alpha * torch.log(omega)
        + (alpha + 0.5) * torch.log((target - gamma).square() * nu + omega)
        + torch.lgamma(alpha)
        - torch.lgamma(alpha + 0.5)
    )


def element_loss(loss: str, output: Tensor, target: Tensor, evidential_lambda: float) -> Tensor:
    """The unreduced loss ``[B, T]`` of a regression head on standardised ``target``."""
    parameters = head_parameters(loss, output)
    if loss == "mse":
        return (parameters[0] - target).square()
    if loss == "mve":
        return gaussian_nll(*parameters, target)
    gamma, nu, alpha, _ = parameters
    regulariser = (target - gamma).abs() * (2 * nu + alpha)
    return evidential_nll(*parameters, target) + evidential_lambda * regulariser


def head_variances(loss: str, output: Tensor) -> tuple[Tensor | None, Tensor | None]:
    """``(aleatoric, epistemic)`` variances ``[B, T]`` of the standardised target, ``None``
    where the head has none (``mse``: both; ``mve``: the epistemic one)."""
    parameters = head_parameters(loss, output)
    if loss == "mse":
        return None, None
    if loss == "mve":
        return parameters[1], None
    _, nu, alpha, beta = parameters
    aleatoric = beta / (alpha - 1)
    return aleatoric, aleatoric / nu
