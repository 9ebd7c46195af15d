"""Numeric certificate of permutation equivariance / invariance, graph by graph."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from gnnkit.nn.graph_call import call_on_graph
from gnnkit.nn.pool import PooledGraph
from gnnkit.symmetry.certificate import (
    Certificate,
    WorstCase,
    evaluating,
    guarded_call,
    module_name,
    scaled_error,
)
from gnnkit.symmetry.relabel import (
    GraphSizes,
    Selection,
    alone,
    data_layout,
    graph_of_nodes,
    graph_selection,
    graph_sizes,
    pointer_levels,
    relabel,
    renumbering,
)

OUTPUT_LEVELS = ("auto", "node", "edge", "graph")
RELABELLED = "outputs change when nodes, edges and graphs are relabelled"
SEES_OTHERS = "it depends on other graphs of the batch"
Leaf = Tensor | PooledGraph


def random_relabelling(sizes: GraphSizes, batch: Tensor, generator: torch.Generator) -> Selection:
    """Graphs in a random order, the nodes of each shuffled and kept together, and every edge
    shuffled. Drawn on the CPU (so a certificate is the same on every device); ``batch`` ``[N]``
    is the graph of each node."""
    graphs = torch.randperm(sizes.graphs, generator=generator)
    shuffled = torch.randperm(sizes.nodes, generator=generator)
    position = renumbering(graphs, sizes.graphs)  # old graph → its new position
    nodes = shuffled[torch.argsort(position[batch.cpu()[shuffled]], stable=True)]
    return Selection(nodes, torch.randperm(sizes.edges, generator=generator), graphs)


def leaves(output: Any) -> list[Leaf]:
    """The tensors and pooled graphs of a module's output (nested tuples, lists and dicts)."""
    if isinstance(output, (Tensor, PooledGraph)):
        return [output]
    if isinstance(output, (tuple, list)):
        return [leaf for item in output for leaf in leaves(item)]
    if isinstance(output, dict):
        return [leaf for item in output.values() for leaf in leaves(item)]
    raise TypeError(f"cannot certify an output of type {type(output).__name__}")


def leaf_level(leaf: Leaf, sizes: GraphSizes, output_level: str) -> str:
    """``"node"``, ``"edge"`` or ``"graph"`` for a tensor with a row per node, edge or graph;
    ``"batch"`` for a scalar, ``"pooled"`` for a coarsened graph."""
    if isinstance(leaf, PooledGraph):
        return "pooled"
    if leaf.dim() == 0:
        return "batch"
    if output_level != "auto":
        return output_level
    level = sizes.level_of(leaf.size(0), "the number of rows of an output")
    if level is None:
        raise ValueError(
            f"an output with {leaf.size(0)} rows cannot be classified: the data has "
            f"{sizes.nodes} nodes, {sizes.edges} edges and {sizes.graphs} graphs; use data "
            "where these differ or pass output_level"
        )
    return level


@dataclass(frozen=True, slots=True)
class _CanonicalPool:
    """A coarsened graph restricted to some nodes, listed by their original identity."""

    ids: Tensor
    graphs: Tensor
    x: Tensor
    pos: Tensor | None
    edge_index: Tensor
    edge_attr: Tensor | None


def _canonical_pool(
    pooled: PooledGraph, ids: Tensor, graphs: Tensor, keep: Tensor
) -> _CanonicalPool:
    """``pooled``'s nodes where ``keep`` ``[N']``, sorted by original id ``ids`` ``[N']`` (with
    original graph ``graphs`` ``[N']``), and the edges among them in lexicographic order."""
    kept = keep.nonzero().view(-1)
    kept = kept[torch.argsort(ids[kept])]
    edges = renumbering(kept, ids.numel())[pooled.edge_index]
    inside = (edges >= 0).all(dim=0)
    edges = edges[:, inside]
    order = torch.argsort(edges[0] * max(1, kept.numel()) + edges[1])
    return _CanonicalPool(
        ids=ids[kept],
        graphs=graphs[kept],
        x=pooled.x[kept],
        pos=pooled.pos[kept] if pooled.pos is not None else None,
        edge_index=edges[:, order],
        edge_attr=pooled.edge_attr[inside][order] if pooled.edge_attr is not None else None,
    )


def _pooled_error(reference: PooledGraph, output: PooledGraph, selection: Selection) -> float:
    """Error between the coarsening of a selection and the selected part of the reference
    coarsening, matching kept nodes by their original identity."""
    expected = _canonical_pool(
        reference, reference.perm, reference.batch, torch.isin(reference.batch, selection.graphs)
    )
    actual = _canonical_pool(
        output,
        selection.nodes[output.perm],
        selection.graphs[output.batch],
        torch.ones_like(output.batch, dtype=torch.bool),
    )
    same_structure = all(
        torch.equal(a, b)
        for a, b in (
            (actual.ids, expected.ids),
            (actual.graphs, expected.graphs),
            (actual.edge_index, expected.edge_index),
        )
    )
    if not same_structure:
        return math.inf  # other nodes kept, or other edges among them
    pairs = (
        (actual.x, expected.x),
        (actual.pos, expected.pos),
        (actual.edge_attr, expected.edge_attr),
    )
    return max(scaled_error(a, e) for a, e in pairs if a is not None and e is not None)


def leaf_error(
    reference: Leaf, output: Any, level: str, selection: Selection, whole: bool
) -> float:
    """Error between ``output = f(selected data)`` and the selected part of ``reference =
    f(data)``. ``whole`` says whether the selection keeps every graph (a scalar describes the
    whole batch and is compared only then)."""
    if isinstance(reference, PooledGraph):
        return (
            _pooled_error(reference, output, selection)
            if isinstance(output, PooledGraph)
            else math.inf
        )
    if not isinstance(output, Tensor):
        return math.inf
    if level == "batch":
        return scaled_error(output, reference) if whole else 0.0
    return scaled_error(output, reference.index_select(0, selection.of(level)))


@dataclass(frozen=True, slots=True)
class _Check:
    """What every comparison of one certificate shares."""

    module: nn.Module
    sizes: GraphSizes
    reference: list[Leaf]
    levels: list[str]

    def error(
        self, selected: Any, selection: Selection, where: str, broken: str
    ) -> tuple[float, str]:
        """Run the module on ``selected`` (the data under ``selection``) and compare; returns the
        error and what a large one means (``broken``), or ``inf`` and what the module raised."""
        output, failure = guarded_call(self.module, selected, where)
        if failure:
            return math.inf, failure
        outputs = leaves(output)
        if len(outputs) != len(self.reference):
            return math.inf, f"{where} gives {len(outputs)} outputs, not {len(self.reference)}"
        whole = selection.graphs.numel() == self.sizes.graphs
        errors = [
            leaf_error(ref, out, level, selection, whole)
            for ref, out, level in zip(self.reference, outputs, self.levels)
        ]
        return max(errors, default=0.0), broken


def check_permutation(
    module: nn.Module,
    data: Any,
    *,
    trials: int = 8,
    rtol: float = 1e-5,
    seed: int = 0,
    node_pointer_keys: Sequence[str] = (),
    edge_pointer_keys: Sequence[str] = (),
    output_level: str = "auto",
    name: str | None = None,
) -> Certificate:
    """Certify that ``module`` commutes with relabellings and treats each graph on its own.

    ``data`` is a PyG ``Data``/``Batch``. The module is called as ``module(data)`` when its
    ``forward`` takes a graph object, otherwise with the tensors its ``forward`` names (see
    :func:`~gnnkit.nn.graph_call.call_on_graph`). Two kinds of comparison:

    - ``trials`` random relabellings ``g`` — the graphs in a new order, the nodes shuffled
      within each graph, the edge list shuffled: node-, edge- and graph-level outputs must
      satisfy ``f(g·data) = g·f(data)`` (a graph-level output follows its graph, so it is
      invariant to the relabelling of its nodes);
    - each graph of a batch run alone (as a batch of one): its outputs must equal its rows of
      the batch's outputs, so an output that depends on other graphs of the batch fails.

    Every attribute is relabelled as its data class batches it (see
    :mod:`gnnkit.symmetry.relabel`): node, edge and graph rows are reordered, and indices into
    nodes, edges or graphs (``edge_index``, ``root_index``, ``rev_edge_index``, ``batch``) are
    renumbered. ``node_pointer_keys`` / ``edge_pointer_keys`` declare attributes that hold node
    or edge indices where the data class does not (a plain ``Data`` takes every ``*index*``
    attribute for node indices). A :class:`~gnnkit.nn.pool.PooledGraph` must keep the same
    nodes with the same features and induced edges. Tensor outputs are classified by their
    number of rows unless ``output_level`` (``"node"``, ``"edge"`` or ``"graph"``) says.

    Errors are relative to each output's scale (:func:`~gnnkit.symmetry.certificate.
    scaled_error`). A module that raises on a relabelled graph or on one graph alone fails,
    with the error as the certificate's reason (one that raises on ``data`` itself raises).
    The module runs in eval mode without gradients; its training flag is restored afterwards.
    Relabellings are drawn on the CPU and moved to the data's device.
    """
    if output_level not in OUTPUT_LEVELS:
        raise ValueError(f"output_level must be one of {OUTPUT_LEVELS}, got {output_level!r}")
    layout = data_layout(data, pointer_levels(node_pointer_keys, edge_pointer_keys))
    sizes = graph_sizes(data)
    batch = graph_of_nodes(data)
    generator = torch.Generator().manual_seed(seed)
    worst = WorstCase()
    with evaluating(module):
        reference = leaves(call_on_graph(module, data))
        levels = [leaf_level(leaf, sizes, output_level) for leaf in reference]
        check = _Check(module, sizes, reference, levels)
        for trial in range(trials):
            selection = random_relabelling(sizes, batch, generator).to(batch.device)
            relabelled = relabel(data, layout, selection)
            worst.update(*check.error(relabelled, selection, f"relabelling {trial}", RELABELLED))
        for graph in range(sizes.graphs if sizes.graphs > 1 else 0):
            selection = graph_selection(data, graph)
            single = alone(data, layout, selection)
            broken = f"graph {graph} alone differs from its rows in the batch: {SEES_OTHERS}"
            worst.update(*check.error(single, selection, f"graph {graph} alone", broken))
    equivariant = any(level in ("node", "edge", "pooled") for level in levels)
    return Certificate(
        name or module_name(module),
        "permutation",
        "equivariant" if equivariant else "invariant",
        worst.error,
        rtol,
        trials,
        detail=worst.detail,
    )
