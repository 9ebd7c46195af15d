"""Synthetic graph tasks whose answers networkx computes exactly.

Each graph is a random tree on ``n`` nodes plus ``k`` extra edges between non-adjacent nodes, so
it is connected and its cycle rank (the size of a cycle basis, ``|E| - |V| + 1``) is ``k``. Node
features are constant, so a model must learn the answer from the structure alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import networkx as nx
import numpy as np
import torch
from torch_geometric.data import Data


def tree_plus_edges(rng: np.random.Generator, nodes: int, extra_edges: int) -> nx.Graph:
    """A random tree on ``nodes`` nodes with ``extra_edges`` more edges: ``extra_edges`` cycles."""
    graph = nx.Graph()
    graph.add_nodes_from(range(nodes))
    graph.add_edges_from((i, int(rng.integers(i))) for i in range(1, nodes))
    absent = [(u, v) for u in range(nodes) for v in range(u + 1, nodes) if not graph.has_edge(u, v)]
    for index in rng.choice(len(absent), size=extra_edges, replace=False):
        graph.add_edge(*absent[index])
    return graph


def to_data(graph: nx.Graph, y: list[float], ident: str) -> Data:
    edges = torch.tensor(list(graph.edges), dtype=torch.long).t()
    return Data(
        x=torch.ones(graph.number_of_nodes(), 1),
        edge_index=torch.cat([edges, edges.flip(0)], dim=1),
        y=torch.tensor([y], dtype=torch.float),
        id=ident,
    )


def make_graphs(
    count: int,
    seed: int,
    extra_edges: Callable[[np.random.Generator], int],
    targets: Callable[[nx.Graph], list[float]],
    missing: float = 0.0,
) -> list[Data]:
    """``count`` graphs of 6–15 nodes; each target is NaN (missing) with probability
    ``missing``."""
    rng = np.random.default_rng(seed)
    graphs = []
    for index in range(count):
        graph = tree_plus_edges(rng, int(rng.integers(6, 16)), extra_edges(rng))
        y = [math.nan if rng.random() < missing else value for value in targets(graph)]
        graphs.append(to_data(graph, y, f"g{seed}-{index}"))
    return graphs


def cycle_regression(count: int, seed: int, missing: float = 0.0) -> list[Data]:
    """Regression with three targets: the numbers of independent cycles, nodes and edges."""
    return make_graphs(
        count,
        seed,
        lambda rng: int(rng.integers(0, 7)),
        lambda g: [
            float(len(nx.cycle_basis(g))),
            float(g.number_of_nodes()),
            float(g.number_of_edges()),
        ],
        missing,
    )


def cycle_classification(count: int, seed: int, missing: float = 0.0) -> list[Data]:
    """Two binary tasks: ``has_cycle`` (trees against graphs with 2–4 cycles) and ``large``
    (more than 10 nodes)."""
    return make_graphs(
        count,
        seed,
        lambda rng: 0 if rng.random() < 0.5 else int(rng.integers(2, 5)),
        lambda g: [float(len(nx.cycle_basis(g)) > 0), float(g.number_of_nodes() > 10)],
        missing,
    )


def cycle_multiclass(count: int, seed: int) -> list[Data]:
    """One three-class task: 0, 2–3 or 5–6 independent cycles (classes 0, 1, 2)."""
    return make_graphs(
        count,
        seed,
        lambda rng: int(rng.choice([0, 2, 3, 5, 6])),
        lambda g: [float({0: 0, 2: 1, 3: 1, 5: 2, 6: 2}[len(nx.cycle_basis(g))])],
    )
