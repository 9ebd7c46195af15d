"""UPFD-style classifier: a GNN encoder whose pooled output is joined with the news (root)
embedding (Dou et al., SIGIR 2021)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gnnkit.choices import UPFD_ENCODERS
from gnnkit.models.cascade.common import (
    graph_index,
    input_batch_norm,
    root_index_of,
    root_inputs,
    undirected,
    upgrade_input_norm,
)
from gnnkit.models.registry import register_model
from gnnkit.nn import GATConv, GCNConv, Readout, SAGEConv
from gnnkit.nn.graph_call import num_graphs_of
from gnnkit.ops.scatter import Reduce

ENCODERS: dict[str, type[nn.Module]] = dict(
    zip(UPFD_ENCODERS, (GCNConv, GATConv, SAGEConv), strict=True)
)


@register_model("upfd")
class UPFDNet(nn.Module):
    r"""GNN encoder, graph pooling, and the root's embedding concatenated before the output.

    With :math:`\mathbf{h}^{(0)} = \mathbf{X}` the input node features:

    .. math::
        \mathbf{h}^{(l)} = \mathrm{ReLU}\big(\mathrm{Conv}^{(l)}(\mathbf{h}^{(l-1)},
        \mathcal{E})\big), \quad
        \mathbf{z}_g = \mathrm{ReLU}\Big(\mathbf{W}_j\big[\textstyle\bigoplus_{i \in g}
        \mathbf{h}^{(L)}_i \,\Vert\, \mathrm{ReLU}(\mathbf{W}_r [\mathbf{x}_{r(g)} \Vert
        \mathbf{u}_g] + \mathbf{b}_r)\big] + \mathbf{b}_j\Big),
        \quad \hat{\mathbf{y}}_g = \mathbf{W}_o\,\mathrm{Dropout}(\mathbf{z}_g) + \mathbf{b}_o

    :math:`\mathrm{Conv}` is GCN, GAT or SAGE (``encoder``), :math:`\mathcal{E}` the cascade's
    edges in both directions, :math:`\bigoplus` the ``readout`` and :math:`r(g)` the root of
    graph :math:`g`. The defaults are UPFD's (GNN-FakeNews' ``gnn.py`` with ``concat``): one
    SAGE layer of width 128, max pooling, the news (root) embedding joined with
    :math:`\mathbf{W}_j`, and no dropout.

    Departures, each optional or outside the paper's setting:

    - :math:`\mathbf{u}_g`, the graph-level inputs (``graph_x``, the source post's text; empty
      without them), join the root's node features in the news embedding, as UPFD's news
      features do;
    - ``num_layers > 1`` stacks encoder layers, ``readout`` picks another pooling and
      ``dropout > 0`` drops :math:`\mathbf{z}_g` while training;
    - ``input_norm=True`` batch-normalises :math:`\mathbf{X}` first
      (:func:`~gnnkit.models.cascade.common.input_batch_norm`; the root row then is
      :math:`\bar{\mathbf{x}}_{r(g)}`).

    Args:
        in_channels: node features.
        out_channels: classes.
        hidden_channels: width of the encoder, the root embedding and the head.
        encoder: ``"gcn"``, ``"gat"`` or ``"sage"``.
        num_layers: encoder layers :math:`L`.
        readout: ``"max"``, ``"mean"`` or ``"sum"``.
        dropout: dropout on :math:`\mathbf{z}_g` before the output layer.
        graph_channels: width of the graph-level inputs ``graph_x`` (0: none).
        input_norm: batch-normalise the node features first (not in the paper).

    Shapes:
        - **input:** ``Data``/``Batch`` with ``x`` ``[N, in_channels]``, ``edge_index``
          ``[2, E]``, ``root_index`` ``[B]`` and ``batch`` ``[N]``
        - **output:** ``[B, out_channels]`` class logits
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        hidden_channels: int = 128,
        encoder: str = "sage",
        num_layers: int = 1,
        readout: Reduce = "max",
        dropout: float = 0.0,
        graph_channels: int = 0,
        input_norm: bool = False,
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
        self.norm = input_batch_norm(in_channels, input_norm)
        self.graph_channels = graph_channels
        self.root_embedding = nn.Linear(in_channels + graph_channels, hidden_channels)
        self.join = nn.Linear(2 * hidden_channels, hidden_channels)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(hidden_channels, out_channels)

    @staticmethod
    def upgrade_hparams(hparams: dict[str, Any], state_dict: Mapping[str, Any]) -> dict[str, Any]:
        """Checkpoints from before ``input_norm`` had an extra hidden layer after the join and
        two encoder layers by default: refused."""
        changed = "it had a hidden layer after the join, and two encoder layers by default"
        return upgrade_input_norm("upfd", hparams, state_dict, changed)

    def forward(self, data: Any) -> Tensor:
        edge_index = undirected(data.edge_index)
        x = self.norm(data.x)
        h = x
        for conv in self.convs:
            h = F.relu(conv(h, edge_index))
        pooled = self.readout(h, graph_index(data), num_graphs_of(data))
        root_x = root_inputs(data, x, root_index_of(data), self.graph_channels)
        root = F.relu(self.root_embedding(root_x))
        joined = F.relu(self.join(torch.cat([pooled, root], dim=1)))
        return self.output(self.dropout(joined))
