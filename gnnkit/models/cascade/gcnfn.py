"""GCNFN: graph attention over the propagation cascade (Monti et al., 2019, Fabula AI)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gnnkit.models.cascade.common import (
    graph_index,
    graph_inputs,
    input_batch_norm,
    mlp_head,
    root_index_of,
    root_inputs,
    undirected,
    upgrade_input_norm,
)
from gnnkit.models.registry import register_model
from gnnkit.nn import GATConv, Readout
from gnnkit.nn.graph_call import num_graphs_of


@register_model("gcnfn")
class GCNFN(nn.Module):
    r"""Graph-attention layers, mean pooling and an MLP head, with SELU activations.

    With :math:`\mathbf{h}^{(0)} = \mathbf{X}` the input node features:

    .. math::
        \mathbf{h}^{(l)} = \mathrm{SELU}\big(\mathrm{GAT}^{(l)}(\mathbf{h}^{(l-1)},
        \mathcal{E})\big), \quad
        \mathbf{p}_g = \mathrm{SELU}\Big(\frac{1}{|g|}\textstyle\sum_{i \in g}
        \mathbf{h}^{(L)}_i\Big), \quad
        \hat{\mathbf{y}}_g = \mathbf{W}_2\,\mathrm{Dropout}\big(\mathrm{SELU}(\mathbf{W}_1
        \mathbf{p}_g + \mathbf{b}_1)\big) + \mathbf{b}_2

    as GNN-FakeNews' ``gcnfn.py`` implements Monti et al. (2019): two GAT layers
    (:class:`~gnnkit.nn.GATConv`, one head), mean pooling, SELU, a hidden layer of half the
    width with SELU and dropout 0.5, and the output layer (the defaults; widths 64 and 32 as in
    the paper, where GNN-FakeNews uses 256 and 128).
    :math:`\mathcal{E}` holds the cascade's edges in both directions (``undirected=True``, as
    GNN-FakeNews' ``ToUndirected``) or parent → child only.

    Departures, each optional or outside the paper's setting:

    - with graph-level inputs :math:`\mathbf{u}` (``graph_channels > 0``: ``graph_x``, the
      source post's text) the news enters at the root, as in the ``concat`` variant of
      GNN-FakeNews' GCNFN, but joined before the head: :math:`\mathbf{p}_g` becomes
      :math:`\big[\mathbf{p}_g \Vert \mathrm{ReLU}(\mathbf{W}_r[\mathbf{x}_r \Vert
      \mathbf{u}_g] + \mathbf{b}_r)\big]` (GNN-FakeNews joins the news after the hidden layer's
      dropout and passes the join through that same hidden layer again, with ReLU);
    - ``heads > 1`` splits each layer's width over that many concatenated heads;
    - ``input_norm=True`` batch-normalises :math:`\mathbf{X}` first
      (:func:`~gnnkit.models.cascade.common.input_batch_norm`; the root row then is
      :math:`\bar{\mathbf{x}}_r`).

    Args:
        in_channels: node features.
        out_channels: classes.
        hidden_channels: width of every attention layer (split over ``heads``).
        num_layers: attention layers :math:`L`.
        heads: attention heads per layer (their outputs are concatenated).
        dropout: dropout in the head.
        undirected: pass messages both ways along the cascade.
        graph_channels: width of the graph-level inputs ``graph_x`` (0: none).
        input_norm: batch-normalise the node features first (not in the paper).

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
        dropout: float = 0.5,
        undirected: bool = True,
        graph_channels: int = 0,
        input_norm: bool = False,
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
        self.norm = input_batch_norm(in_channels, input_norm)
        self.graph_channels = graph_channels
        self.root_embedding = (
            nn.Linear(in_channels + graph_channels, hidden_channels) if graph_channels else None
        )
        head_in = hidden_channels * (2 if graph_channels else 1)
        self.head = mlp_head(head_in, hidden_channels // 2, out_channels, dropout, nn.SELU)

    @staticmethod
    def upgrade_hparams(hparams: dict[str, Any], state_dict: Mapping[str, Any]) -> dict[str, Any]:
        """Checkpoints from before ``input_norm`` also lacked the SELU after pooling: refused."""
        return upgrade_input_norm(
            "gcnfn", hparams, state_dict, changed="it had no SELU after the mean pooling"
        )

    def forward(self, data: Any) -> Tensor:
        edge_index = undirected(data.edge_index) if self.undirected else data.edge_index
        x = h = self.norm(data.x)
        for conv in self.convs:
            h = self.activation(conv(h, edge_index))
        pooled = self.activation(self.readout(h, graph_index(data), num_graphs_of(data)))
        if self.root_embedding is None:
            graph_inputs(data, 0)
            return self.head(pooled)
        root = root_inputs(data, x, root_index_of(data), self.graph_channels)
        return self.head(torch.cat([pooled, F.relu(self.root_embedding(root))], dim=1))
