"""Random graphs on which symmetry certificates are computed."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch_geometric.data import Batch, Data

from gnnkit.data.molecules.graph import MoleculeGraph
from gnnkit.nn.conv.dmpnn import find_reverse_edges


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

    Edges are sorted by target, then source: the order PyG's aggregations over sorted indices
    (such as ``aggr="lstm"``) need, so such a layer runs on the given graph and its
    certificate, not an error, shows what relabelling does to it.

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
    attr = torch.randn(source.numel(), edge_dim, generator=generator).repeat(2, 1)
    order = torch.argsort(edge_index[1] * num_nodes + edge_index[0])
    return Data(
        x=torch.randn(num_nodes, in_channels, generator=generator),
        edge_index=edge_index[:, order],
        edge_attr=attr[order],
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
    transform: Callable[[Data], Data] | None = None,
) -> Batch:
    """A reproducible batch of random graphs whose node, edge and graph counts all differ (so a
    certificate can tell node-, edge- and graph-level outputs apart); ``transform`` (such as
    :func:`as_molecule` or :func:`as_cascade`) turns each :func:`random_graph` into the
    graph a model reads before batching."""
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
        batch = Batch.from_data_list([transform(g) for g in graphs] if transform else graphs)
        if len({batch.num_nodes, batch.num_edges, num_graphs}) == 3:
            return batch


def as_molecule(graph: Data) -> MoleculeGraph:
    """``graph`` as a :class:`~gnnkit.data.molecules.MoleculeGraph`: its ``rev_edge_index``
    ``[E]`` points every directed edge at the opposite one, as the D-MPNN reads it."""
    reverse = find_reverse_edges(graph.edge_index, graph.num_nodes)
    return MoleculeGraph(**graph.to_dict(), rev_edge_index=reverse)


def as_molecule_pair(graph: Data) -> MoleculeGraph:
    """``graph`` as two molecules of one input (a solute and its solvent): its first half of
    nodes is molecule 0 and the rest molecule 1 (``component`` ``[N]``), without the edges
    between them, and with ``rev_edge_index`` as in :func:`as_molecule`."""
    component = (torch.arange(graph.num_nodes) >= graph.num_nodes // 2).long()
    keep = component[graph.edge_index[0]] == component[graph.edge_index[1]]
    pair = Data(
        x=graph.x,
        edge_index=graph.edge_index[:, keep],
        edge_attr=graph.edge_attr[keep],
        pos=graph.pos,
        component=component,
    )
    return as_molecule(pair)


def as_cascade(graph: Data) -> Data:
    """``graph`` as a propagation cascade: its source post, ``root_index`` ``[1]``, is node 0 as
    in gnnkit's cascade graphs (a node pointer, offset when batched)."""
    return Data(**graph.to_dict(), root_index=torch.zeros(1, dtype=torch.long))
