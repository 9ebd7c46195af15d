"""GCN-style sum aggregation over a node's closed neighbourhood."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gnnkit.nn.conv.self_loops import add_self_loops
from gnnkit.ops import scatter


class GCNConv(nn.Module):
    r"""Sum aggregation over :math:`\mathcal{N}(i) \cup \{i\}`, optionally GCN-normalised.

    .. math::
        \mathbf{h}'_i = \mathbf{W} \sum_{j \in \mathcal{N}(i) \cup \{i\}} c_{ij}\,
        \mathbf{h}_j + \mathbf{b},
        \qquad c_{ij} = \begin{cases} 1 & \text{normalize=False (plain sum aggregator)} \\
        1/\sqrt{\hat d_i \hat d_j} & \text{normalize=True (Kipf \& Welling)} \end{cases}

    where :math:`\hat d_i = 1 + |\mathcal{N}(i)|` counts the self-loop. Messages flow along
    ``edge_index[0] → edge_index[1]``; existing self-loops are replaced by one loop per node.

    Args:
        in_channels: input features per node.
        out_channels: output features per node.
        normalize: apply the symmetric normalisation :math:`c_{ij}`.
        bias: add a learnable bias :math:`\mathbf{b}`.

    Shapes:
        - **input:** node features ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]``
        - **output:** ``[N, out_channels]``
    """

    blueprint_role = "equivariant"

    def __init__(
        self, in_channels: int, out_channels: int, *, normalize: bool = True, bias: bool = True
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.normalize = normalize
        self.lin = nn.Linear(in_channels, out_channels, bias=False)
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.lin.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        num_nodes = x.size(0)
        h = self.lin(x)
        source, target = add_self_loops(edge_index, num_nodes)
        messages = h.index_select(0, source)
        if self.normalize:
            degree = torch.bincount(target, minlength=num_nodes).to(h.dtype)
            inv_sqrt = degree.rsqrt()
            messages = messages * (inv_sqrt[source] * inv_sqrt[target]).unsqueeze(-1)
        out = scatter(messages, target, dim=0, dim_size=num_nodes, reduce="sum")
        if self.bias is not None:
            out = out + self.bias
        return out

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
            f"normalize={self.normalize})"
        )
