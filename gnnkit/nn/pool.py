"""Coarsening operators P of the blueprint."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
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
        score: the selection score of each kept node ``[N']``.
    """

    x: Tensor
    edge_index: Tensor
    edge_attr: Tensor | None
    batch: Tensor
    pos: Tensor | None
    perm: Tensor
    score: Tensor


def induced_subgraph(
    edge_index: Tensor, edge_attr: Tensor | None, keep: Tensor, num_nodes: int
) -> tuple[Tensor, Tensor | None]:
    """Edges whose two ends are both in ``keep`` (node indices), renumbered ``0..len(keep)-1``."""
    new_index = torch.full((num_nodes,), -1, dtype=torch.long, device=edge_index.device)
    new_index[keep] = torch.arange(keep.numel(), device=edge_index.device)
    renumbered = new_index[edge_index]
    kept_edges = (renumbered >= 0).all(dim=0)
    edge_attr = edge_attr[kept_edges] if edge_attr is not None else None
    return renumbered[:, kept_edges], edge_attr


class TopKPooling(nn.Module):
    r"""Keep the :math:`\lceil r\, n_g \rceil` highest-scoring nodes of each graph.

    .. math::
        s_i = \frac{\mathbf{p}^\top \mathbf{h}_i}{\lVert \mathbf{p} \rVert},\qquad
        \mathcal{K}_g = \operatorname{top}_{\lceil r\,n_g \rceil}\{s_i : i \in \mathcal{V}(g)\},
        \qquad \mathbf{h}'_i = \mathbf{h}_i \tanh(s_i),\; i \in \mathcal{K}_g

    (Gao & Ji, 2019; Cangea et al., 2018.) The output is the subgraph induced by the kept nodes;
    each graph keeps at least one node, so a batch stays a valid batch. Kept nodes are listed
    graph by graph in descending score, which makes the output independent of the input's node
    order (up to exact ties in score).

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
        self.weight = nn.Parameter(torch.empty(in_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.in_channels)
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_attr: Tensor | None = None,
        batch: Tensor | None = None,
        pos: Tensor | None = None,
    ) -> PooledGraph:
        num_nodes = x.size(0)
        if batch is None:
            batch = x.new_zeros(num_nodes, dtype=torch.long)
        score = (x * self.weight).sum(dim=-1) / self.weight.norm()

        # Order nodes by graph, then by descending score; rank = position within its graph.
        by_score = torch.argsort(score, descending=True, stable=True)
        order = by_score[torch.argsort(batch[by_score], stable=True)]
        sizes = torch.bincount(batch)
        starts = torch.cumsum(sizes, 0) - sizes
        ranks = torch.arange(num_nodes, device=x.device) - starts[batch[order]]
        quota = torch.ceil(self.ratio * sizes.to(score.dtype)).long()
        perm = order[ranks < quota[batch[order]]]

        kept_edges, kept_attr = induced_subgraph(edge_index, edge_attr, perm, num_nodes)
        return PooledGraph(
            x=x[perm] * torch.tanh(score[perm]).unsqueeze(-1),
            edge_index=kept_edges,
            edge_attr=kept_attr,
            batch=batch[perm],
            pos=pos[perm] if pos is not None else None,
            perm=perm,
            score=score[perm],
        )

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, ratio={self.ratio})"


__all__ = ["PooledGraph", "TopKPooling", "induced_subgraph"]
