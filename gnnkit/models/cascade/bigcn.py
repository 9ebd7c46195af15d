"""BiGCN: bi-directional graph convolution over a rumour cascade (Bian et al., AAAI 2020)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gnnkit.models.cascade.common import (
    broadcast_root,
    drop_edges,
    graph_index,
    input_batch_norm,
    root_index_of,
    root_inputs,
    upgrade_input_norm,
)
from gnnkit.models.registry import register_model
from gnnkit.nn import GCNConv, Readout
from gnnkit.nn.graph_call import num_graphs_of


class DirectedGCN(nn.Module):
    r"""One direction of BiGCN: two GCN layers with root-feature enhancement, mean-pooled.

    With :math:`\mathbf{X}` the model's input node features, :math:`r` the root of node
    :math:`i`'s graph, :math:`\Vert` concatenation and :math:`\mathbf{u}` the graph-level inputs
    (the source post's text; empty without them):

    .. math::
        \mathbf{h}^{(1)}_i = \mathrm{GCN}_1(\mathbf{X})_i, \quad
        \tilde{\mathbf{h}}^{(1)}_i = \mathrm{ReLU}\big(\mathbf{h}^{(1)}_i \Vert
        \mathbf{x}_r \Vert \mathbf{u}\big), \quad
        \mathbf{h}^{(2)}_i = \mathrm{ReLU}\big(\mathrm{GCN}_2(\tilde{\mathbf{H}}^{(1)})_i\big)
        \Vert \mathbf{h}^{(1)}_r, \quad
        \mathbf{s}_g = \tfrac{1}{|g|}\textstyle\sum_{i \in g} \mathbf{h}^{(2)}_i

    as in the paper and the authors' code (``TDrumorGCN``/``BUrumorGCN``), with dropout on
    :math:`\tilde{\mathbf{H}}^{(1)}` while training and GCN layers over the given edges and
    self-loops (:class:`~gnnkit.nn.GCNConv`).

    Shapes:
        - **input:** ``x`` ``[N, in]``, ``edge_index`` ``[2, E]``, ``root_x`` ``[B, in +
          graph]`` (root rows joined with the graph-level inputs), ``root_index`` ``[B]``,
          ``batch`` ``[N]``
        - **output:** ``[B, hidden + out]``
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        dropout: float,
        graph_channels: int = 0,
    ) -> None:
        super().__init__()
        self.conv1 = GCNConv(in_channels, hidden_channels)
        self.conv2 = GCNConv(hidden_channels + in_channels + graph_channels, out_channels)
        self.dropout = dropout
        self.readout = Readout("mean")

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        root_x: Tensor,
        root_index: Tensor,
        batch: Tensor,
        num_graphs: int,
    ) -> Tensor:
        h1 = self.conv1(x, edge_index)
        h = F.relu(torch.cat([h1, root_x.index_select(0, batch)], dim=1))
        h = F.dropout(h, self.dropout, self.training)
        h = F.relu(self.conv2(h, edge_index))
        h = torch.cat([h, broadcast_root(h1, root_index, batch)], dim=1)
        return self.readout(h, batch, num_graphs)


@register_model("bigcn")
class BiGCN(nn.Module):
    r"""A top-down GCN over parent → child edges and a bottom-up GCN over the reversed edges
    (each a :class:`DirectedGCN`), joined and classified.

    .. math::
        \hat{\mathbf{y}}_g = \mathbf{W}\big[\mathbf{s}^{\mathrm{TD}}_g \Vert
        \mathbf{s}^{\mathrm{BU}}_g\big] + \mathbf{b}

    The defaults are the paper's: widths 64, dropout 0.5 and DropEdge rate 0.2, the node
    features entering unnormalised, so the root enhancement reads the root's raw features.
    Departures, each optional or outside the paper's setting:

    - while training each direction keeps every edge independently with probability
      ``1 - edge_dropout``; the authors' code samples exactly :math:`\lfloor (1 -
      p)|\mathcal{E}| \rfloor` edges per direction;
    - graph-level inputs :math:`\mathbf{u}` (``graph_x``, the source post's text; the paper
      has none) enter with the root's features in the root enhancement, as the paper's root
      enhancement intends for the source post's content;
    - ``input_norm=True`` batch-normalises the node features first
      (:func:`~gnnkit.models.cascade.common.input_batch_norm`): both branches, and the root
      enhancement, then read :math:`\bar{\mathbf{X}}` for :math:`\mathbf{X}`.

    Args:
        in_channels: node features.
        out_channels: classes.
        hidden_channels: width of the first GCN layer.
        conv_channels: width of the second GCN layer.
        dropout: dropout between the two layers.
        edge_dropout: DropEdge rate while training.
        graph_channels: width of the graph-level inputs ``graph_x`` (0: none).
        input_norm: batch-normalise the node features first (not in the paper).

    Shapes:
        - **input:** ``Data``/``Batch`` with ``x`` ``[N, in_channels]``, ``edge_index``
          ``[2, E]`` (parent → child), ``root_index`` ``[B]`` and ``batch`` ``[N]``
        - **output:** ``[B, out_channels]`` class logits
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        hidden_channels: int = 64,
        conv_channels: int = 64,
        dropout: float = 0.5,
        edge_dropout: float = 0.2,
        graph_channels: int = 0,
        input_norm: bool = False,
    ) -> None:
        super().__init__()
        widths = (in_channels, hidden_channels, conv_channels, dropout, graph_channels)
        self.top_down = DirectedGCN(*widths)
        self.bottom_up = DirectedGCN(*widths)
        self.graph_channels = graph_channels
        self.edge_dropout = edge_dropout
        self.norm = input_batch_norm(in_channels, input_norm)
        self.classifier = nn.Linear(2 * (hidden_channels + conv_channels), out_channels)

    @staticmethod
    def upgrade_hparams(hparams: dict[str, Any], state_dict: Mapping[str, Any]) -> dict[str, Any]:
        """Checkpoints from before ``input_norm`` normalised their inputs and otherwise computed
        as now: they load with ``input_norm=True``."""
        return upgrade_input_norm("bigcn", hparams, state_dict, changed=None)

    def forward(self, data: Any) -> Tensor:
        batch, root_index, num_graphs = graph_index(data), root_index_of(data), num_graphs_of(data)
        down = drop_edges(data.edge_index, self.edge_dropout, self.training)
        up = drop_edges(data.edge_index, self.edge_dropout, self.training).flip(0)
        x = self.norm(data.x)
        root_x = root_inputs(data, x, root_index, self.graph_channels)
        joined = torch.cat(
            [
                self.top_down(x, down, root_x, root_index, batch, num_graphs),
                self.bottom_up(x, up, root_x, root_index, batch, num_graphs),
            ],
            dim=1,
        )
        return self.classifier(joined)
