"""Pieces the cascade classifiers share: graph indices, the root's rows and edge directions."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn


def graph_index(data: Any) -> Tensor:
    """``batch`` ``[N]`` of a ``Batch``, or zeros for a single ``Data``."""
    batch = getattr(data, "batch", None)
    if batch is None:
        batch = torch.zeros(data.num_nodes, dtype=torch.long, device=data.x.device)
    return batch


def root_index_of(data: Any) -> Tensor:
    """The root node of every graph, ``[num_graphs]`` (``data.root_index``)."""
    root_index = getattr(data, "root_index", None)
    if root_index is None:
        raise ValueError(
            "cascade models need data.root_index (the source post's node of every graph); "
            "build graphs with gnnkit.data.cascades.to_data"
        )
    return root_index.view(-1)


def graph_inputs(data: Any, graph_channels: int) -> Tensor | None:
    """The graph-level inputs ``data.graph_x`` ``[B, graph_channels]`` (``None`` when the
    model reads none), after checking that the data gives as many as the model reads."""
    graph_x = getattr(data, "graph_x", None)
    width = 0 if graph_x is None else graph_x.size(-1)
    if width != graph_channels:
        raise ValueError(
            f"the model reads {graph_channels} graph-level input(s) (graph_x), the data gives "
            f"{width}: build it with graph_channels={width}"
        )
    return graph_x


def root_inputs(data: Any, x: Tensor, root_index: Tensor, graph_channels: int) -> Tensor:
    r"""Each graph's root row of ``x`` joined with its graph-level inputs (``data.graph_x``,
    e.g. the source post's text): :math:`[\mathbf{x}_{r(g)} \Vert \mathbf{u}_g]`,
    ``[B, F + graph_channels]``."""
    root = x.index_select(0, root_index)
    graph_x = graph_inputs(data, graph_channels)
    return root if graph_x is None else torch.cat([root, graph_x.view(root.size(0), -1)], dim=1)


def broadcast_root(h: Tensor, root_index: Tensor, batch: Tensor) -> Tensor:
    r"""Every node gets its graph's root row: :math:`\mathbf{h}_{r(g(i))}`, ``[N, F]``."""
    return h.index_select(0, root_index.index_select(0, batch))


def undirected(edge_index: Tensor) -> Tensor:
    """Both directions of every edge, ``[2, 2E]``."""
    return torch.cat([edge_index, edge_index.flip(0)], dim=1)


def drop_edges(edge_index: Tensor, rate: float, training: bool) -> Tensor:
    """Keep each edge with probability ``1 - rate`` while training (DropEdge); all in eval."""
    if not training or rate <= 0:
        return edge_index
    keep = torch.rand(edge_index.size(1), device=edge_index.device) >= rate
    return edge_index[:, keep]


def mlp_head(
    in_channels: int,
    hidden_channels: int,
    out_channels: int,
    dropout: float,
    activation: type[nn.Module] = nn.ReLU,
) -> nn.Module:
    """``Linear → activation → Dropout → Linear``: the classifier on a graph vector."""
    return nn.Sequential(
        nn.Linear(in_channels, hidden_channels),
        activation(),
        nn.Dropout(dropout),
        nn.Linear(hidden_channels, out_channels),
    )
