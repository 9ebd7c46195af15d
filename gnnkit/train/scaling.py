r"""Standardise regression targets with statistics of the training split only.

.. math::
    \tilde{y}_{it} = \frac{y_{it} - \mu_t}{\sigma_t}, \qquad
    \mu_t = \operatorname{mean}_{i \in \mathrm{train}} y_{it}, \quad
    \sigma_t = \operatorname{std}_{i \in \mathrm{train}} y_{it}

over the labelled (non-NaN) entries of each task, with the population standard deviation; a
task with :math:`\sigma_t = 0` (or no labels) uses :math:`\sigma_t = 1`. Predictions are
un-scaled by :math:`y = \sigma \tilde{y} + \mu`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class TargetScaler(nn.Module):
    """Per-task standardisation; ``mean`` and ``std`` ``[T]`` are buffers (they follow the
    model's device) and :meth:`state` gives them as plain lists for a checkpoint.

    Shapes:
        - **transform / inverse:** ``[B, T]`` → ``[B, T]``
    """

    def __init__(self, mean: Tensor, std: Tensor) -> None:
        super().__init__()
        if mean.shape != std.shape or mean.dim() != 1:
            raise ValueError(
                f"mean and std must be 1-D of equal size, got {mean.shape}, {std.shape}"
            )
        if not (torch.isfinite(mean).all() and (std > 0).all()):
            raise ValueError("scaler mean must be finite and std positive")
        self.register_buffer("mean", mean.float())
        self.register_buffer("std", std.float())

    @classmethod
    def fit(cls, y: Tensor) -> TargetScaler:
        """Statistics of training targets ``y`` ``[B, T]`` (NaN = missing)."""
        y = y.double()
        mask = ~torch.isnan(y)
        count = mask.sum(dim=0)
        filled = torch.where(mask, y, torch.zeros_like(y))
        mean = filled.sum(dim=0) / count.clamp_min(1)
        centred = torch.where(mask, y - mean, torch.zeros_like(y))
        std = (centred.square().sum(dim=0) / count.clamp_min(1)).sqrt()
        return cls(mean, torch.where(std > 0, std, torch.ones_like(std)))

    def transform(self, y: Tensor) -> Tensor:
        return (y - self.mean) / self.std

    def inverse(self, y: Tensor) -> Tensor:
        return y * self.std + self.mean

    def state(self) -> dict[str, list[float]]:
        """``{"mean": [...], "std": [...]}`` as plain floats."""
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_state(cls, state: dict[str, list[float]]) -> TargetScaler:
        return cls(torch.tensor(state["mean"]), torch.tensor(state["std"]))

    def extra_repr(self) -> str:
        return f"tasks={self.mean.numel()}"
