"""DeepSets layer over each graph's node set (Zaheer et al., 2017)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gnnkit.ops import scatter


class DeepSetsConv(nn.Module):
    r"""Equivariant DeepSets layer: each node plus a summary of its whole graph.

    .. math::
        \mathbf{h}'_i = \phi(\mathbf{h}_i) + \rho\Big(\sum_{j \in \mathcal{V}(g(i))}
        \mathbf{h}_j\Big)

    with :math:`\phi, \rho` affine maps and :math:`g(i)` the graph of node :math:`i`; edges are
    not used, so the layer is equivariant to every permutation of each graph's nodes.

    Stays an ``nn.Module``: there are no messages along edges to pass, only one scatter of each
    graph's nodes into its summary, so PyG's ``MessagePassing`` has nothing to hold. PyG has no
    layer of this name.

    Args:
        in_channels: input features per node.
        out_channels: output features per node.
        aggr: ``"sum"`` (the layer above) or ``"mean"`` (size-normalised set summary).

    Shapes:
        - **input:** ``x`` ``[N, in_channels]``, ``batch`` ``[N]`` (optional; one graph if
          omitted)
        - **output:** ``[N, out_channels]``
    """

    blueprint_role = "equivariant"

    def __init__(self, in_channels: int, out_channels: int, *, aggr: str = "sum") -> None:
        super().__init__()
        if aggr not in ("sum", "mean"):
            raise ValueError(f"aggr must be 'sum' or 'mean', got {aggr!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.aggr = aggr
        self.phi = nn.Linear(in_channels, out_channels)
        self.rho = nn.Linear(in_channels, out_channels, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.phi.reset_parameters()
        self.rho.reset_parameters()

    def forward(
        self, x: Tensor, batch: Tensor | None = None, num_graphs: int | None = None
    ) -> Tensor:
        if batch is None:
            batch = x.new_zeros(x.size(0), dtype=torch.long)
        summary = scatter(x, batch, dim=0, dim_size=num_graphs, reduce=self.aggr)
        return self.phi(x) + self.rho(summary).index_select(0, batch)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
            f"aggr={self.aggr!r})"
        )
