"""Graph attention layer (Veličković et al., 2018)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gnnkit.nn.conv.self_loops import add_self_loops
from gnnkit.ops import scatter, scatter_softmax


class GATConv(nn.Module):
    r"""Multi-head attention over :math:`\mathcal{N}(i) \cup \{i\}`.

    .. math::
        \alpha^{k}_{ij} = \operatorname{softmax}_{j \in \mathcal{N}(i) \cup \{i\}}
        \Big(\mathrm{LeakyReLU}\big(\mathbf{a}^{k\top}_{s} \mathbf{W}^{k}\mathbf{h}_j
        + \mathbf{a}^{k\top}_{t} \mathbf{W}^{k}\mathbf{h}_i\big)\Big),
        \qquad
        \mathbf{h}'_i = \big\Vert_{k=1}^{K} \sum_{j \in \mathcal{N}(i) \cup \{i\}}
        \alpha^{k}_{ij}\,\mathbf{W}^{k}\mathbf{h}_j + \mathbf{b}

    The softmax runs through :func:`gnnkit.ops.scatter_softmax`. With ``concat=False`` the
    :math:`K` heads are averaged instead of concatenated.

    Args:
        in_channels: input features per node.
        out_channels: features per head.
        heads: number of heads :math:`K`.
        concat: concatenate heads (output ``heads * out_channels``) or average them.
        negative_slope: slope of the LeakyReLU.
        dropout: dropout on the attention coefficients during training.
        add_self_loops: attend over :math:`\{i\}` too.
        bias: add a learnable bias.

    Shapes:
        - **input:** ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]``
        - **output:** ``[N, heads * out_channels]`` (concat) or ``[N, out_channels]``
    """

    blueprint_role = "equivariant"

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        heads: int = 1,
        concat: bool = True,
        negative_slope: float = 0.2,
        dropout: float = 0.0,
        add_self_loops: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.heads = heads
        self.concat = concat
        self.negative_slope = negative_slope
        self.dropout = dropout
        self.add_self_loops = add_self_loops
        self.lin = nn.Linear(in_channels, heads * out_channels, bias=False)
        self.att_source = nn.Parameter(torch.empty(1, heads, out_channels))
        self.att_target = nn.Parameter(torch.empty(1, heads, out_channels))
        width = heads * out_channels if concat else out_channels
        self.bias = nn.Parameter(torch.empty(width)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.lin.weight)
        nn.init.xavier_uniform_(self.att_source)
        nn.init.xavier_uniform_(self.att_target)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        num_nodes = x.size(0)
        h = self.lin(x).view(num_nodes, self.heads, self.out_channels)
        if self.add_self_loops:
            edge_index = add_self_loops(edge_index, num_nodes)
        source, target = edge_index
        score_source = (h * self.att_source).sum(dim=-1)
        score_target = (h * self.att_target).sum(dim=-1)
        logits = F.leaky_relu(
            score_source.index_select(0, source) + score_target.index_select(0, target),
            self.negative_slope,
        )
        alpha = scatter_softmax(logits, target, dim_size=num_nodes)
        alpha = F.dropout(alpha, p=self.dropout, training=self.training)
        messages = h.index_select(0, source) * alpha.unsqueeze(-1)
        out = scatter(messages, target, dim=0, dim_size=num_nodes, reduce="sum")
        out = out.reshape(num_nodes, -1) if self.concat else out.mean(dim=1)
        if self.bias is not None:
            out = out + self.bias
        return out

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
            f"heads={self.heads})"
        )
