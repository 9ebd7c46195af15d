"""Graph isomorphism network layer (Xu et al., 2019)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gnnkit.ops import scatter


class GINConv(nn.Module):
    r"""GIN: an MLP applied to the node's own state plus the sum over its neighbours.

    .. math::
        \mathbf{h}'_i = \mathrm{MLP}\Big((1 + \epsilon)\,\mathbf{h}_i
        + \sum_{j \in \mathcal{N}(i)} \mathbf{h}_j\Big),
        \qquad \mathrm{MLP}(\mathbf{z}) = \mathbf{W}_2\,\mathrm{ReLU}(\mathbf{W}_1 \mathbf{z}
        + \mathbf{b}_1) + \mathbf{b}_2

    Args:
        in_channels: input features per node.
        out_channels: output features per node.
        hidden_channels: width of the MLP's hidden layer (default ``out_channels``).
        eps: initial :math:`\epsilon`.
        train_eps: learn :math:`\epsilon`.

    Shapes:
        - **input:** ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]``
        - **output:** ``[N, out_channels]``
    """

    blueprint_role = "equivariant"

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        hidden_channels: int | None = None,
        eps: float = 0.0,
        train_eps: bool = False,
    ) -> None:
        super().__init__()
        hidden_channels = hidden_channels or out_channels
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.initial_eps = eps
        self.mlp = nn.Sequential(
            nn.Linear(in_channels, hidden_channels),
            nn.ReLU(),
            nn.Linear(hidden_channels, out_channels),
        )
        if train_eps:
            self.eps = nn.Parameter(torch.empty(1))
        else:
            self.register_buffer("eps", torch.empty(1))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for layer in self.mlp:
            if isinstance(layer, nn.Linear):
                layer.reset_parameters()
        self.eps.data.fill_(self.initial_eps)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        source, target = edge_index
        neighbour_sum = scatter(
            x.index_select(0, source), target, dim=0, dim_size=x.size(0), reduce="sum"
        )
        return self.mlp((1 + self.eps) * x + neighbour_sum)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels})"
