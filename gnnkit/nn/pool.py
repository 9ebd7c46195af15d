"""Coarsening operators P of the blueprint."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch_geometric.nn
from torch import Tensor, nn


@dataclass(slots=True)
class PooledGraph:
    """A coarsened batch of graphs.

    Attributes:
        x: kept node features ``[N', F]``.
        edge_index: the induced subgraph's edges ``[2, E']``, renumbered to the kept nodes.
        edge_attr: features of the kept edges ``[E', D]`` or ``None``.
        batch: graph of each kept node ``[N']`` (sorted, graphs keep their numbers).
        pos: kept coordinates ``[N', n]`` or ``None``.
        perm: index of each kept node in the input ``[N']``.
        score: the multiplier :math:`\\tanh(s_i)` of each kept node ``[N']``.
    """

    x: Tensor
    edge_index: Tensor
    edge_attr: Tensor | None
    batch: Tensor
    pos: Tensor | None
    perm: Tensor
    score: Tensor


class TopKCoarsening(nn.Module):
    r"""Keep the :math:`\lceil r\, n_g \rceil` highest-scoring nodes of each graph.

    .. math::
        s_i = \frac{\mathbf{p}^\top \mathbf{h}_i}{\lVert \mathbf{p} \rVert},\qquad
        \mathcal{K}_g = \operatorname{top}_{\lceil r\,n_g \rceil}\{s_i : i \in \mathcal{V}(g)\},
        \qquad \mathbf{h}'_i = \mathbf{h}_i \tanh(s_i),\; i \in \mathcal{K}_g

    (Gao & Ji, 2019; Cangea et al., 2018.) The output is the subgraph induced by the kept nodes;
    each graph keeps at least one node, so a batch stays a valid batch. Kept nodes are listed
    graph by graph in descending score, which makes the output independent of the input's node
    order (up to exact ties in score).

    Decision: renamed (gnnkit's ``TopKPooling`` before). The selection is PyG's
    :class:`torch_geometric.nn.TopKPooling`, held as ``self.topk`` (its projection
    :math:`\mathbf{p}` is ``topk.select.weight``); this coarsening stage differs in its call: it
    also carries node coordinates ``pos`` and returns a :class:`PooledGraph` for the
    :class:`~gnnkit.nn.Blueprint`, where PyG's returns a tuple.

    Args:
        in_channels: features per node.
        ratio: fraction :math:`r \in (0, 1]` of each graph's nodes to keep.

    Shapes:
        - **input:** ``x`` ``[N, F]``, ``edge_index`` ``[2, E]``, ``edge_attr`` ``[E, D]``
          (optional), ``batch`` ``[N]`` (optional), ``pos`` ``[N, n]`` (optional)
        - **output:** :class:`PooledGraph` with ``N' = Σ_g ⌈r n_g⌉`` nodes
    """

    blueprint_role = "coarsening"

    def __init__(self, in_channels: int, ratio: float = 0.5) -> None:
        super().__init__()
        if not 0.0 < ratio <= 1.0:
            raise ValueError(f"ratio must be in (0, 1], got {ratio}")
        self.in_channels = in_channels
        self.ratio = ratio
        self.topk = torch_geometric.nn.TopKPooling(in_channels, ratio=ratio)

    def reset_parameters(self) -> None:
        self.topk.reset_parameters()

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_attr: Tensor | None = None,
        batch: Tensor | None = None,
        pos: Tensor | None = None,
    ) -> PooledGraph:
        if batch is None:
            batch = x.new_zeros(x.size(0), dtype=torch.long)
        x, edge_index, edge_attr, batch, perm, score = self.topk(x, edge_index, edge_attr, batch)
        return PooledGraph(
            x=x,
            edge_index=edge_index,
            edge_attr=edge_attr,
            batch=batch,
            pos=pos[perm] if pos is not None else None,
            perm=perm,
            score=score,
        )

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, ratio={self.ratio})"


__all__ = ["PooledGraph", "TopKCoarsening"]
