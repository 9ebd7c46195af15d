"""UPFD-style classifier: a GNN encoder whose pooled output is joined with the news (root)
embedding (Dou et al., SIGIR 2021)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gnnkit.models.cascade.common import (
    graph_index,
    mlp_head,
    root_index_of,
    root_inputs,
    undirected,
)
from gnnkit.models.registry import register_model
from gnnkit.nn import GATConv, GCNConv, Readout, SAGEConv
from gnnkit.nn.graph_call import num_graphs_of
from gnnkit.ops.scatter import Reduce

ENCODERS: dict[str, type[nn.Module]] = {"gcn": GCNConv, "gat": GATConv, "sage": SAGEConv}


@register_model("upfd")
class UPFDNet(nn.Module):
    r"""GNN encoder, graph pooling, and the root's embedding concatenated before the head.

    .. math::
        \mathbf{h}^{(l)} = \mathrm{ReLU}\big(\mathrm{Conv}^{(l)}(\mathbf{h}^{(l-1)},
        \mathcal{E})\big), \quad
        \mathbf{z}_g = \mathrm{ReLU}\Big(\mathbf{W}_j\big[\textstyle\bigoplus_{i \in g}
        \mathbf{h}^{(L)}_i \,\Vert\, \mathrm{ReLU}(\mathbf{W}_r [\mathbf{x}_{r(g)} \Vert
        \mathbf{u}_g])\big]\Big),
        \quad \hat{\mathbf{y}}_g = \mathrm{MLP}(\mathbf{z}_g)

    :math:`\mathrm{Conv}` is GCN, GAT or SAGE (``encoder``), :math:`\mathcal{E}` the cascade's
    edges in both directions, :math:`\bigoplus` the ``readout`` (max in UPFD) and
    :math:`r(g)` the root of graph :math:`g` and :math:`\mathbf{u}_g` its graph-level inputs
    (``graph_x``, the source post's text; empty without them), which join the news (root)
    embedding as UPFD's news features do.

    Args:
        in_channels: node features.
        out_channels: classes.
        hidden_channels: width of the encoder, the root embedding and the head.
        encoder: ``"gcn"``, ``"gat"`` or ``"sage"``.
        num_layers: encoder layers :math:`L`.
        readout: ``"max"``, ``"mean"`` or ``"sum"``.
        dropout: dropout in the head.
        graph_channels: width of the graph-level inputs ``graph_x`` (0: none).

    Shapes:
        - **input:** ``Data``/``Batch`` with ``x`` ``[N, in_channels]``, ``edge_index``
          ``[2, E]``, ``root_index`` ``[B]`` and ``batch`` ``[N]``
        - **output:** ``[B, out_channels]`` class logits
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        hidden_channels: int = 64,
        encoder: str = "sage",
        num_layers: int = 2,
        readout: Reduce = "max",
        dropout: float = 0.0,
        graph_channels: int = 0,
    ) -> None:
        super().__init__()
        if encoder not in ENCODERS:
            raise ValueError(f"unknown encoder {encoder!r}; choose from {', '.join(ENCODERS)}")
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        widths = [in_channels] + [hidden_channels] * num_layers
        self.convs = nn.ModuleList(
            ENCODERS[encoder](widths[i], hidden_channels) for i in range(num_layers)
        )
        self.readout = Readout(readout)
        self.norm = nn.BatchNorm1d(in_channels)
        self.graph_channels = graph_channels
        self.root_embedding = nn.Linear(in_channels + graph_channels, hidden_channels)
        self.join = nn.Linear(2 * hidden_channels, hidden_channels)
        self.head = mlp_head(hidden_channels, hidden_channels, out_channels, dropout)

    def forward(self, data: Any) -> Tensor:
        edge_index = undirected(data.edge_index)
        x = self.norm(data.x)
        h = x
        for conv in self.convs:
            h = F.relu(conv(h, edge_index))
        pooled = self.readout(h, graph_index(data), num_graphs_of(data))
        root_x = root_inputs(data, x, root_index_of(data), self.graph_channels)
        root = F.relu(self.root_embedding(root_x))
        return self.head(F.relu(self.join(torch.cat([pooled, root], dim=1))))
