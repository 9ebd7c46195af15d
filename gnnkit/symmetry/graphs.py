"""Random graphs on which symmetry certificates are computed."""

from __future__ import annotations

import torch
from torch_geometric.data import Batch, Data


def random_graph(
    num_nodes: int,
    *,
    in_channels: int = 8,
    edge_dim: int = 4,
    edge_prob: float = 0.4,
    dim: int = 3,
    generator: torch.Generator,
) -> Data:
    """An Erdős–Rényi graph with both directions of each edge, random node features
    ``x`` ``[N, in_channels]``, edge features ``edge_attr`` ``[E, edge_dim]`` (the same for both
    directions of an edge) and coordinates ``pos`` ``[N, dim]``.

    The graph is in general position: no two nodes are *closed twins* (adjacent with the same
    other neighbours). Closed twins get bit-for-bit equal sums over ``N(i) ∪ {i}``, and a hard
    selection such as top-k pooling must then pick one of them by storage order, so a
    certificate would measure a tie rather than the operator.
    """
    while True:
        upper = torch.triu(torch.rand(num_nodes, num_nodes, generator=generator) < edge_prob, 1)
        closed = upper | upper.T | torch.eye(num_nodes, dtype=torch.bool)
        if torch.unique(closed, dim=0).size(0) == num_nodes:
            break
    source, target = upper.nonzero(as_tuple=True)
    edge_index = torch.cat([torch.stack([source, target]), torch.stack([target, source])], dim=1)
    attr = torch.randn(source.numel(), edge_dim, generator=generator)
    return Data(
        x=torch.randn(num_nodes, in_channels, generator=generator),
        edge_index=edge_index,
        edge_attr=torch.cat([attr, attr], dim=0),
        pos=2.0 * torch.randn(num_nodes, dim, generator=generator),
    )


def random_graph_batch(
    num_graphs: int = 3,
    *,
    min_nodes: int = 5,
    max_nodes: int = 10,
    in_channels: int = 8,
    edge_dim: int = 4,
    edge_prob: float = 0.4,
    dim: int = 3,
    seed: int = 0,
) -> Batch:
    """A reproducible batch of random graphs whose node, edge and graph counts all differ (so a
    certificate can tell node-, edge- and graph-level outputs apart)."""
    generator = torch.Generator().manual_seed(seed)
    while True:
        graphs = [
            random_graph(
                int(torch.randint(min_nodes, max_nodes + 1, (1,), generator=generator)),
                in_channels=in_channels,
                edge_dim=edge_dim,
                edge_prob=edge_prob,
                dim=dim,
                generator=generator,
            )
            for _ in range(num_graphs)
        ]
        batch = Batch.from_data_list(graphs)
        if len({batch.num_nodes, batch.num_edges, num_graphs}) == 3:
            return batch
