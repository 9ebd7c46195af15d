"""GCNFN: graph attention over the propagation cascade (Monti et al., 2019, Fabula AI)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gnnkit.models.cascade.common import (
    graph_index,
    graph_inputs,
    mlp_head,
    root_index_of,
    root_inputs,
    undirected,
)
from gnnkit.models.registry import register_model
from gnnkit.nn import GATConv, Readout
from gnnkit.nn.graph_call import num_graphs_of


@register_model("gcnfn")
class GCNFN(nn.Module):
    r"""Graph-attention layers, mean pooling and an MLP head, with SELU activations.

    .. math::
        \mathbf{h}^{(l)} = \mathrm{SELU}\big(\mathrm{GAT}^{(l)}(\mathbf{h}^{(l-1)},
        \mathcal{E})\big), \qquad
        \hat{\mathbf{y}}_g = \mathrm{MLP}\Big(\frac{1}{|g|}\textstyle\sum_{i \in g}
        \mathbf{h}^{(L)}_i\Big)

    :math:`\mathcal{E}` holds the cascade's edges in both directions (``undirected=True``,
    as Monti et al.) or parent → child only.

    With graph-level inputs :math:`\mathbf{u}` (``graph_channels > 0``: ``graph_x``, the source
    post's text) the news enters at the root, as in the ``concat`` variant of GNN-FakeNews'
    GCNFN: the head reads :math:`\big[\frac{1}{|g|}\sum_{i \in g} \mathbf{h}^{(L)}_i \Vert
    \mathrm{ReLU}(\mathbf{W}_r[\mathbf{x}_r \Vert \mathbf{u}])\big]`.

    Args:
        in_channels: node features.
        out_channels: classes.
        hidden_channels: width of every attention layer (split over ``heads``).
        num_layers: attention layers :math:`L`.
        heads: attention heads per layer (their outputs are concatenated).
        dropout: dropout in the head.
        undirected: pass messages both ways along the cascade.
        graph_channels: width of the graph-level inputs ``graph_x`` (0: none).

    Shapes:
        - **input:** ``Data``/``Batch`` with ``x`` ``[N, in_channels]``, ``edge_index``
          ``[2, E]`` and ``batch`` ``[N]``
        - **output:** ``[num_graphs, out_channels]`` class logits
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        hidden_channels: int = 64,
        num_layers: int = 2,
        heads: int = 1,
        dropout: float = 0.0,
        undirected: bool = True,
        graph_channels: int = 0,
    ) -> None:
        super().__init__()
        if num_layers < 1 or hidden_channels % heads:
            raise ValueError(
                f"need num_layers >= 1 and hidden_channels divisible by heads, got "
                f"{num_layers}, {hidden_channels}, {heads}"
            )
        self.undirected = undirected
        widths = [in_channels] + [hidden_channels] * num_layers
        self.convs = nn.ModuleList(
            GATConv(widths[i], hidden_channels // heads, heads=heads) for i in range(num_layers)
        )
        self.activation = nn.SELU()
        self.readout = Readout("mean")
        self.norm = nn.BatchNorm1d(in_channels)
        self.graph_channels = graph_channels
        self.root_embedding = (
            nn.Linear(in_channels + graph_channels, hidden_channels) if graph_channels else None
        )
        head_in = hidden_channels * (2 if graph_channels else 1)
        self.head = mlp_head(head_in, hidden_channels // 2, out_channels, dropout, nn.SELU)

    def forward(self, data: Any) -> Tensor:
        edge_index = undirected(data.edge_index) if self.undirected else data.edge_index
        x = h = self.norm(data.x)
        for conv in self.convs:
            h = self.activation(conv(h, edge_index))
        pooled = self.readout(h, graph_index(data), num_graphs_of(data))
        if self.root_embedding is None:
            graph_inputs(data, 0)
            return self.head(pooled)
        root = root_inputs(data, x, root_index_of(data), self.graph_channels)
        return self.head(torch.cat([pooled, F.relu(self.root_embedding(root))], dim=1))
