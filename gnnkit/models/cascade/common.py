"""Pieces the cascade classifiers share: graph indices, the root's rows, edge directions and
the optional input normalisation."""

from __future__ import annotations

from collections.abc import Mapping
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


def input_batch_norm(in_channels: int, enabled: bool) -> nn.Module:
    r"""``BatchNorm1d`` over the node features when ``enabled`` (none of the papers has it),
    else the identity: :math:`\bar{\mathbf{x}}_i = \boldsymbol{\gamma} \odot
    (\mathbf{x}_i - \boldsymbol{\mu}) / \sqrt{\boldsymbol{\sigma}^2 + \epsilon} +
    \boldsymbol{\beta}` with the batch's node statistics while training and running ones in
    eval. Training with it needs more than one node per batch. ``[N, F] -> [N, F]``."""
    return nn.BatchNorm1d(in_channels) if enabled else nn.Identity()


def upgrade_input_norm(
    model: str, hparams: dict[str, Any], state_dict: Mapping[str, Any], changed: str | None
) -> dict[str, Any]:
    """The ``upgrade_hparams`` of the cascade models (see
    :func:`gnnkit.models.registry.checkpoint_hparams`).

    Before ``input_norm`` existed the cascade models always batch-normalised their inputs: a
    checkpoint whose weights hold the norm (``norm.running_mean``) but whose hyper-parameters
    do not name ``input_norm`` is such a checkpoint. It is rebuilt with ``input_norm=True`` when
    nothing else changed (``changed`` is ``None``); otherwise ``changed`` says what did, and it
    is refused with a ``ValueError``.
    """
    if "input_norm" in hparams or "norm.running_mean" not in state_dict:
        return hparams
    if changed is not None:
        raise ValueError(
            f"it was written by an earlier gnnkit whose {model} differed from its paper "
            f"({changed}), so its weights cannot reproduce its predictions; retrain it"
        )
    return {**hparams, "input_norm": True}
