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
