"""A gated recurrent cell derived from invariance to time warping (Tallec & Ollivier, 2018)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class GatedRNNCell(nn.Module):
    r"""Leaky recurrent cell whose gate learns the local speed of time.

    A continuous-time recurrent system :math:`\mathrm{d}h/\mathrm{d}\tau = R(x, h) - h` seen
    through a time warping :math:`\tau = c(t)` and discretised with unit steps becomes

    .. math::
        \mathbf{h}_{t+1} = \Gamma_t \odot \tanh(\mathbf{W}\mathbf{x}_{t+1} + \mathbf{U}\mathbf{h}_t
        + \mathbf{b}) + (1 - \Gamma_t) \odot \mathbf{h}_t,
        \qquad
        \Gamma_t = \sigma(\mathbf{W}_g\mathbf{x}_{t+1} + \mathbf{U}_g\mathbf{h}_t + \mathbf{b}_g)
        \approx \frac{\mathrm{d}\tau}{\mathrm{d}t}

    so a model invariant to (learnable) time warps needs exactly such a gate. A plain RNN is the
    special case :math:`\Gamma \equiv 1`: ``gated=False`` builds it, without gate parameters, so
    that gated and plain cells can be compared on equal terms. With ``chrono_max`` the gate bias is
    drawn by the *chrono initialisation*, :math:`\mathbf{b}_g = -\log(u - 1)`, :math:`u \sim
    \mathcal{U}[1, T_{\max}]`, so that the cell starts with memory times :math:`1/\Gamma` spread
    over :math:`[1, T_{\max}]` steps.

    Args:
        input_size: features per step.
        hidden_size: state size.
        chrono_max: :math:`T_{\max}` of the chrono initialisation (``None``: zero gate bias).
        gated: ``False`` for the plain RNN :math:`\mathbf{h}_{t+1} = \tanh(\mathbf{W}
            \mathbf{x}_{t+1} + \mathbf{U}\mathbf{h}_t + \mathbf{b})`, whose gate is always 1.

    Shapes:
        - **input:** ``x`` ``[B, input_size]``, ``h`` ``[B, hidden_size]``
        - **output:** ``(h', gate)``, both ``[B, hidden_size]`` (``gate`` is all ones if not
          ``gated``)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        chrono_max: float | None = None,
        gated: bool = True,
    ) -> None:
        super().__init__()
        if chrono_max is not None and chrono_max <= 1:
            raise ValueError(f"chrono_max must exceed 1, got {chrono_max}")
        if chrono_max is not None and not gated:
            raise ValueError("chrono_max initialises the gate; a cell with gated=False has none")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.chrono_max = chrono_max
        self.gated = gated
        maps = 2 if gated else 1
        self.input_map = nn.Linear(input_size, maps * hidden_size)
        self.state_map = nn.Linear(hidden_size, maps * hidden_size, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in (self.input_map.weight, self.state_map.weight):
            nn.init.uniform_(weight, -bound, bound)
        nn.init.zeros_(self.input_map.bias)
        if self.chrono_max is not None:
            with torch.no_grad():
                u = torch.empty(self.hidden_size).uniform_(1.0, self.chrono_max)
                self.input_map.bias[self.hidden_size :] = -torch.log(u - 1.0).clamp(-20.0, 20.0)

    def forward(self, x: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        if not self.gated:
            h = torch.tanh(self.input_map(x) + self.state_map(h))
            return h, torch.ones_like(h)
        candidate, gate = (self.input_map(x) + self.state_map(h)).chunk(2, dim=-1)
        gate = torch.sigmoid(gate)
        return gate * torch.tanh(candidate) + (1.0 - gate) * h, gate

    def __repr__(self) -> str:
        plain = "" if self.gated else ", gated=False"
        return f"{self.__class__.__name__}({self.input_size}, {self.hidden_size}{plain})"


def run_cell(
    cell: GatedRNNCell, sequence: Tensor, h: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """Unroll ``cell`` over ``sequence`` ``[B, T, input_size]``; returns all states and gates,
    each ``[B, T, hidden_size]``."""
    batch, steps, _ = sequence.shape
    h = h if h is not None else sequence.new_zeros(batch, cell.hidden_size)
    states, gates = [], []
    for t in range(steps):
        h, gate = cell(sequence[:, t], h)
        states.append(h)
        gates.append(gate)
    return torch.stack(states, dim=1), torch.stack(gates, dim=1)
