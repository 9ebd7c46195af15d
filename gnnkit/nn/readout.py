"""Invariant readouts A of the blueprint: one vector per graph."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gnnkit.ops import scatter, scatter_softmax
from gnnkit.ops.scatter import Reduce


def _graph_index(x: Tensor, batch: Tensor | None) -> Tensor:
    return batch if batch is not None else x.new_zeros(x.size(0), dtype=torch.long)


class Readout(nn.Module):
    r"""Sum, mean or max of each graph's node features.

    .. math::
        \mathbf{r}_g = \bigoplus_{i \in \mathcal{V}(g)} \mathbf{h}_i,
        \qquad \bigoplus \in \{\textstyle\sum, \mathrm{mean}, \max\}

    A graph without nodes reads out as zeros.

    Shapes:
        - **input:** ``x`` ``[N, F]``, ``batch`` ``[N]`` (optional; one graph if omitted)
        - **output:** ``[num_graphs, F]``
    """

    blueprint_role = "readout"

    def __init__(self, reduce: Reduce = "sum") -> None:
        super().__init__()
        if reduce not in ("sum", "mean", "max"):
            raise ValueError(f"reduce must be 'sum', 'mean' or 'max', got {reduce!r}")
        self.reduce = reduce

    def reset_parameters(self) -> None:
        """A fixed reduction has no parameters."""

    def forward(
        self, x: Tensor, batch: Tensor | None = None, num_graphs: int | None = None
    ) -> Tensor:
        index = _graph_index(x, batch)
        return scatter(x, index, dim=0, dim_size=num_graphs, reduce=self.reduce)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.reduce})"


class AttentionReadout(nn.Module):
    r"""Gated attention pooling (Li et al., 2016).

    .. math::
        \mathbf{r}_g = \sum_{i \in \mathcal{V}(g)}
        \operatorname{softmax}_{i \in \mathcal{V}(g)}\big(\mathbf{w}^\top \mathbf{h}_i + c\big)\,
        \mathbf{W}\mathbf{h}_i

    Shapes:
        - **input:** ``x`` ``[N, in_channels]``, ``batch`` ``[N]`` (optional)
        - **output:** ``[num_graphs, out_channels]``
    """

    blueprint_role = "readout"

    def __init__(self, in_channels: int, out_channels: int | None = None) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels or in_channels
        self.gate = nn.Linear(in_channels, 1)
        self.transform = nn.Linear(in_channels, self.out_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.gate.reset_parameters()
        self.transform.reset_parameters()

    def forward(
        self, x: Tensor, batch: Tensor | None = None, num_graphs: int | None = None
    ) -> Tensor:
        index = _graph_index(x, batch)
        weights = scatter_softmax(self.gate(x), index, dim_size=num_graphs)  # [N, 1]
        return scatter(weights * self.transform(x), index, dim=0, dim_size=num_graphs)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels})"
