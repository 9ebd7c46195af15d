"""Numeric certificate of permutation equivariance / invariance."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from gnnkit.nn.graph_call import call_on_graph, num_graphs_of
from gnnkit.nn.pool import PooledGraph
from gnnkit.symmetry.certificate import Certificate, module_name, scaled_error


@dataclass(frozen=True, slots=True)
class Relabelling:
    """A node permutation within graphs and an edge reordering.

    ``node_perm[i]`` is the old node now at position ``i`` (so ``x' = x[node_perm]``),
    ``node_inverse`` its inverse (old index → new index), and ``edge_perm[e]`` the old edge now
    at position ``e``.
    """

    node_perm: Tensor
    node_inverse: Tensor
    edge_perm: Tensor
    edge_inverse: Tensor


def permutation_within_graphs(batch: Tensor, generator: torch.Generator) -> Tensor:
    """A random permutation ``p`` of the nodes with ``batch[p] == batch`` (nodes stay in their
    graph, a batch stays sorted)."""
    shuffled = torch.randperm(batch.numel(), generator=generator)
    return shuffled[torch.argsort(batch[shuffled], stable=True)]


def _inverse(perm: Tensor) -> Tensor:
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(perm.numel())
    return inverse


def random_relabelling(num_nodes: int, num_edges: int, batch: Tensor, seed: int) -> Relabelling:
    """Draw a node permutation within graphs and an edge order, reproducibly from ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    node_perm = permutation_within_graphs(batch.cpu(), generator)
    edge_perm = torch.randperm(num_edges, generator=generator)
    return Relabelling(node_perm, _inverse(node_perm), edge_perm, _inverse(edge_perm))


@dataclass(frozen=True, slots=True)
class GraphSizes:
    nodes: int
    edges: int
    graphs: int


def graph_sizes(data: Any) -> GraphSizes:
    edge_index = getattr(data, "edge_index", None)
    return GraphSizes(
        nodes=int(data.num_nodes),
        edges=int(edge_index.size(1)) if edge_index is not None else 0,
        graphs=num_graphs_of(data),
    )


NODE_KEYS = ("x", "pos")
EDGE_KEYS = ("edge_attr",)
UNCHANGED_KEYS = ("batch", "ptr")


def _attribute_level(key: str, value: Tensor, sizes: GraphSizes) -> str | None:
    """``"node"``, ``"edge"`` or ``None`` (graph-level or not indexed) for a data attribute."""
    if key in NODE_KEYS:
        return "node"
    if key in EDGE_KEYS:
        return "edge"
    if key in UNCHANGED_KEYS or value.dim() == 0:
        return None
    rows = value.size(0)
    if sizes.edges and rows == sizes.nodes == sizes.edges:
        raise ValueError(
            f"attribute {key!r} has {rows} rows and the graph has as many nodes as edges, so "
            "it cannot be told whether it is node- or edge-indexed; use data of other sizes"
        )
    if rows == sizes.nodes:
        return "node"
    if sizes.edges and rows == sizes.edges:
        return "edge"
    return None


def permute_graph(
    data: Any,
    relabel: Relabelling,
    *,
    node_pointer_keys: Sequence[str] = (),
    edge_pointer_keys: Sequence[str] = (),
) -> Any:
    """A copy of ``data`` with nodes and edges relabelled consistently.

    ``x`` and ``pos`` are node-indexed and take ``node_perm``, ``edge_attr`` is edge-indexed and
    takes ``edge_perm``, ``edge_index`` is renumbered and reordered, ``batch``/``ptr`` stay.
    Any other attribute is recognised by its first dimension (``N`` rows: node-indexed, ``E``
    rows: edge-indexed, anything else unchanged). Keys in ``node_pointer_keys`` hold node
    indices (e.g. a cascade's root) and are renumbered; keys in ``edge_pointer_keys`` are
    edge-indexed and hold edge indices (e.g. each directed edge's reverse) and are both
    reordered and renumbered.
    """
    sizes = graph_sizes(data)
    device = data.edge_index.device if sizes.edges else None
    node_perm = relabel.node_perm.to(device)
    node_inverse = relabel.node_inverse.to(device)
    edge_perm = relabel.edge_perm.to(device)
    edge_inverse = relabel.edge_inverse.to(device)
    permuted = data.clone()
    for key in data.keys():
        value = data[key]
        if not isinstance(value, Tensor):
            continue
        if key == "edge_index":
            permuted[key] = node_inverse[value][:, edge_perm]
        elif key in node_pointer_keys:
            permuted[key] = node_inverse[value]
        elif key in edge_pointer_keys:
            permuted[key] = edge_inverse[value[edge_perm]]
        else:
            level = _attribute_level(key, value, sizes)
            if level == "node":
                permuted[key] = value[node_perm]
            elif level == "edge":
                permuted[key] = value[edge_perm]
    return permuted


def _compare_pooled(reference: PooledGraph, output: PooledGraph, relabel: Relabelling) -> float:
    """Error between two coarsenings, matching kept nodes by their original identity."""
    original_ids = relabel.node_perm.to(output.perm.device)[output.perm]
    order_ref = torch.argsort(reference.perm)
    order_out = torch.argsort(original_ids)
    if not torch.equal(reference.perm[order_ref], original_ids[order_out]):
        return math.inf  # a different set of nodes was kept
    errors = [
        scaled_error(output.x[order_out], reference.x[order_ref]),
        0.0 if torch.equal(output.batch[order_out], reference.batch[order_ref]) else math.inf,
    ]
    if reference.pos is not None and output.pos is not None:
        errors.append(scaled_error(output.pos[order_out], reference.pos[order_ref]))

    def canonical_edges(graph: PooledGraph, order: Tensor) -> tuple[Tensor, Tensor | None]:
        rank = _inverse(order)
        edges = rank[graph.edge_index]
        edge_order = torch.argsort(edges[0] * max(1, rank.numel()) + edges[1])
        attr = graph.edge_attr[edge_order] if graph.edge_attr is not None else None
        return edges[:, edge_order], attr

    edges_ref, attr_ref = canonical_edges(reference, order_ref)
    edges_out, attr_out = canonical_edges(output, order_out)
    if not torch.equal(edges_ref, edges_out):
        return math.inf
    if attr_ref is not None and attr_out is not None:
        errors.append(scaled_error(attr_out, attr_ref))
    return max(errors)


OUTPUT_LEVELS = ("auto", "node", "edge", "graph")


def compare_outputs(
    reference: Any, output: Any, relabel: Relabelling, sizes: GraphSizes, level: str = "auto"
) -> tuple[float, set[str]]:
    """Compare ``output = f(g·data)`` with ``g·f(data)``; returns (error, kinds seen).

    ``level`` says whether tensor outputs are node-, edge- or graph-level; ``"auto"`` tells
    by their number of rows.
    """
    if isinstance(reference, PooledGraph):
        return _compare_pooled(reference, output, relabel), {"equivariant"}
    if isinstance(reference, (tuple, list)):
        results = [compare_outputs(r, o, relabel, sizes, level) for r, o in zip(reference, output)]
        return max(e for e, _ in results), set().union(*(k for _, k in results))
    if isinstance(reference, dict):
        results = [
            compare_outputs(reference[k], output[k], relabel, sizes, level) for k in reference
        ]
        return max(e for e, _ in results), set().union(*(k for _, k in results))
    if not isinstance(reference, Tensor):
        raise TypeError(f"cannot certify an output of type {type(reference).__name__}")
    if reference.dim() == 0:
        return scaled_error(output, reference), {"invariant"}
    if level == "auto":
        level = _output_level(reference.size(0), sizes)
    if level == "graph":
        return scaled_error(output, reference), {"invariant"}
    perm = relabel.node_perm if level == "node" else relabel.edge_perm
    return scaled_error(output, reference[perm.to(reference.device)]), {"equivariant"}


def _output_level(rows: int, sizes: GraphSizes) -> str:
    counts = {"node": sizes.nodes, "edge": sizes.edges, "graph": sizes.graphs}
    matches = [level for level, count in counts.items() if count == rows]
    if len(matches) != 1:
        raise ValueError(
            f"an output with {rows} rows cannot be classified: the data has {sizes.nodes} nodes, "
            f"{sizes.edges} edges and {sizes.graphs} graphs; use data where these differ or pass "
            "output_level"
        )
    return matches[0]


def check_permutation(
    module: nn.Module,
    data: Any,
    *,
    trials: int = 8,
    atol: float = 1e-5,
    seed: int = 0,
    node_pointer_keys: Sequence[str] = (),
    edge_pointer_keys: Sequence[str] = (),
    output_level: str = "auto",
    name: str | None = None,
) -> Certificate:
    """Certify that ``module`` commutes with node permutations within each graph.

    ``data`` is a PyG ``Data``/``Batch``. The module is called as ``module(data)`` when its
    ``forward`` takes a graph object, otherwise with the tensors its ``forward`` names (``x``,
    ``edge_index``, ``edge_attr``, ``pos``, ``batch``, ``num_graphs``). For each of ``trials``
    random relabellings ``g`` (a node permutation inside each graph plus a shuffle of the edge
    list), node-level outputs must satisfy ``f(g·data) = g·f(data)`` and graph-level outputs
    ``f(g·data) = f(data)``; a :class:`~gnnkit.nn.pool.PooledGraph` must keep the same nodes
    with the same features and induced edges. Tensor outputs are classified by their number of
    rows unless ``output_level`` (``"node"``, ``"edge"`` or ``"graph"``) says what they are.

    The module runs in eval mode without gradients; its training flag is restored afterwards.
    """
    if output_level not in OUTPUT_LEVELS:
        raise ValueError(f"output_level must be one of {OUTPUT_LEVELS}, got {output_level!r}")
    sizes = graph_sizes(data)
    batch = getattr(data, "batch", None)
    if batch is None:
        batch = torch.zeros(sizes.nodes, dtype=torch.long)
    was_training = module.training
    module.eval()
    worst, kinds = 0.0, set()
    try:
        with torch.no_grad():
            reference = call_on_graph(module, data)
            for trial in range(trials):
                relabel = random_relabelling(sizes.nodes, sizes.edges, batch, seed + trial)
                permuted = permute_graph(
                    data,
                    relabel,
                    node_pointer_keys=node_pointer_keys,
                    edge_pointer_keys=edge_pointer_keys,
                )
                error, seen = compare_outputs(
                    reference, call_on_graph(module, permuted), relabel, sizes, output_level
                )
                worst, kinds = max(worst, error), kinds | seen
    finally:
        module.train(was_training)
    kind = "equivariant" if "equivariant" in kinds else "invariant"
    return Certificate(name or module_name(module), "permutation", kind, worst, atol, trials)
