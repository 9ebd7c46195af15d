"""Select and relabel the nodes, edges and graphs of a PyG graph or batch consistently.

A :class:`Selection` says which old node, edge and graph is now at each position: a
permutation of all of them relabels a batch, the items of one graph cut it out of its batch.
Every tensor attribute follows the selection by its :class:`Layout`, which is read from the
data class's batching contract (PyG's ``__cat_dim__`` and ``__inc__``), so an attribute that
batches correctly is also relabelled correctly:

- its *rows*, the slices along ``__cat_dim__``, belong to nodes, edges or graphs (told apart by
  their number; ``x``, ``pos``, ``batch``, ``edge_index`` and ``edge_attr`` by name) or to
  none of them, and are selected;
- its *values* point at nodes, edges or graphs when batching offsets them by that number
  (``__inc__``; ``edge_index`` and ``batch`` by name), and are renumbered: ``edge_index`` and
  a cascade's ``root_index`` point at nodes, a
  :class:`~gnnkit.data.molecules.MoleculeGraph`'s ``rev_edge_index`` at edges and ``batch``
  at graphs.

``ptr`` is rebuilt from ``batch``; lists with one entry per graph (a batch's SMILES strings)
follow their graphs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from gnnkit.nn.graph_call import num_graphs_of

LEVELS: tuple[str, ...] = ("node", "edge", "graph")
#: What the rows of PyG's standard attributes belong to and what their values point at, known
#: by name however many nodes, edges and graphs there are.
ROWS_BY_NAME = {
    "x": "node",
    "pos": "node",
    "batch": "node",
    "edge_index": "edge",
    "edge_attr": "edge",
}
POINTERS_BY_NAME = {"edge_index": "node", "batch": "graph"}


@dataclass(frozen=True, slots=True)
class GraphSizes:
    """Numbers of nodes, edges and graphs of a graph or batch."""

    nodes: int
    edges: int
    graphs: int

    def count(self, level: str) -> int:
        """The number of items of ``level`` (``"node"``, ``"edge"`` or ``"graph"``)."""
        return {"node": self.nodes, "edge": self.edges, "graph": self.graphs}[level]

    def level_of(self, count: int, what: str) -> str | None:
        """The level with ``count`` items, ``None`` if there is none; ``ValueError`` if there
        are several, because then ``what`` (the count's name in the message) cannot be
        classified."""
        matches = [level for level in LEVELS if self.count(level) == count]
        if len(matches) > 1:
            raise ValueError(
                f"{what} ({count}) cannot be classified: the data has {self.nodes} nodes, "
                f"{self.edges} edges and {self.graphs} graphs; use data where these differ"
            )
        return matches[0] if matches else None


def graph_sizes(data: Any) -> GraphSizes:
    """The :class:`GraphSizes` of ``data``."""
    edge_index = getattr(data, "edge_index", None)
    return GraphSizes(
        nodes=int(data.num_nodes),
        edges=int(edge_index.size(1)) if edge_index is not None else 0,
        graphs=num_graphs_of(data),
    )


def graph_of_nodes(data: Any) -> Tensor:
    """``batch`` ``[N]`` of ``data``, or zeros for a single graph."""
    batch = getattr(data, "batch", None)
    if batch is None:
        device = data.x.device if getattr(data, "x", None) is not None else None
        batch = torch.zeros(int(data.num_nodes), dtype=torch.long, device=device)
    return batch


def graph_of_edges(data: Any) -> Tensor:
    """The graph of every edge ``[E]`` (that of its source node)."""
    batch = graph_of_nodes(data)
    edge_index = getattr(data, "edge_index", None)
    return batch[edge_index[0]] if edge_index is not None else batch[:0]


@dataclass(frozen=True, slots=True)
class Layout:
    """Where a tensor attribute sits: ``rows`` (the level of its slices along ``dim``) and
    ``points_to`` (the level its values index), each ``"node"``, ``"edge"``, ``"graph"`` or
    ``None``."""

    dim: int
    rows: str | None
    points_to: str | None


def _rows(key: str, value: Tensor, dim: int, sizes: GraphSizes) -> str | None:
    """The level of the slices of ``value`` along ``dim``: by name, else by their number."""
    if key in ROWS_BY_NAME:
        return ROWS_BY_NAME[key]
    return sizes.level_of(value.size(dim), f"the number of rows of attribute {key!r}")


def _points_to(data: Any, key: str, value: Tensor, sizes: GraphSizes) -> str | None:
    """The level whose count ``data``'s class offsets ``value`` by when batching
    (``__inc__``), ``None`` when it is not offset."""
    offset = data.__inc__(key, value)
    if isinstance(offset, Tensor):
        offset = int(offset) if offset.numel() == 1 else 0
    return sizes.level_of(offset, f"the batching offset of {key!r}") if offset else None


def _check_pointer(key: str, value: Tensor, level: str, sizes: GraphSizes) -> None:
    """``ValueError`` unless every value of the pointer ``key`` indexes one of its level's
    items."""
    count = sizes.count(level)
    if value.numel() and (int(value.min()) < 0 or int(value.max()) >= count):
        raise ValueError(
            f"attribute {key!r} points at {level}s (as its data class batches it, or as "
            f"declared) but holds values in [{int(value.min())}, {int(value.max())}] with "
            f"{count} {level}s; declare its level with node_pointer_keys or edge_pointer_keys"
        )


def attribute_layout(
    data: Any, key: str, value: Tensor, sizes: GraphSizes, pointer: str | None = None
) -> Layout:
    """The :class:`Layout` of attribute ``key`` of ``data``; ``pointer`` overrides what its
    values point at (for a data class whose ``__inc__`` does not say)."""
    if value.dim() == 0:
        return Layout(0, None, None)
    dim = data.__cat_dim__(key, value)
    if not isinstance(dim, int):
        raise ValueError(f"cannot relabel attribute {key!r}: it is concatenated along {dim}")
    dim %= value.dim()
    points_to = pointer or POINTERS_BY_NAME.get(key) or _points_to(data, key, value, sizes)
    if points_to is not None:
        _check_pointer(key, value, points_to, sizes)
    return Layout(dim, _rows(key, value, dim, sizes), points_to)


def data_layout(data: Any, pointers: Mapping[str, str] | None = None) -> dict[str, Layout]:
    """The :class:`Layout` of every tensor attribute of ``data`` but ``ptr``; ``pointers`` maps
    attribute names to the level their values point at, overriding ``__inc__``."""
    sizes = graph_sizes(data)
    pointers = pointers or {}
    return {
        key: attribute_layout(data, key, data[key], sizes, pointers.get(key))
        for key in data.keys()
        if isinstance(data[key], Tensor) and key != "ptr"
    }


def pointer_levels(
    node_pointer_keys: Sequence[str] = (), edge_pointer_keys: Sequence[str] = ()
) -> dict[str, str]:
    """``{key: level}`` for attributes declared to hold node or edge indices."""
    return {**dict.fromkeys(node_pointer_keys, "node"), **dict.fromkeys(edge_pointer_keys, "edge")}


@dataclass(frozen=True, slots=True)
class Selection:
    """``nodes[i]`` is the old node now at position ``i``; likewise ``edges`` and ``graphs``.

    The nodes of each selected graph come as one block, blocks in the order of ``graphs``, so
    a relabelled batch keeps a sorted ``batch`` vector.
    """

    nodes: Tensor
    edges: Tensor
    graphs: Tensor

    def of(self, level: str) -> Tensor:
        """The selection of ``level`` (``"node"``, ``"edge"`` or ``"graph"``)."""
        return {"node": self.nodes, "edge": self.edges, "graph": self.graphs}[level]

    def to(self, device: torch.device) -> Selection:
        """This selection on ``device``."""
        return Selection(self.nodes.to(device), self.edges.to(device), self.graphs.to(device))


def renumbering(kept: Tensor, count: int) -> Tensor:
    """Old index → new index under the selection ``kept`` ``[K]`` of ``count`` items: ``[count]``,
    ``-1`` for items not kept."""
    new_index = torch.full((count,), -1, dtype=torch.long, device=kept.device)
    new_index[kept] = torch.arange(kept.numel(), device=kept.device)
    return new_index


def graph_selection(data: Any, graph: int) -> Selection:
    """The nodes, edges and row of graph ``graph`` of ``data``."""
    batch = graph_of_nodes(data)
    return Selection(
        nodes=(batch == graph).nonzero().view(-1),
        edges=(graph_of_edges(data) == graph).nonzero().view(-1),
        graphs=torch.tensor([graph], device=batch.device),
    )


def select_attributes(
    data: Any, layout: Mapping[str, Layout], selection: Selection
) -> dict[str, Tensor]:
    """Every laid-out tensor attribute of ``data`` with its rows selected and its pointers
    renumbered."""
    sizes = graph_sizes(data)
    new_index = {level: renumbering(selection.of(level), sizes.count(level)) for level in LEVELS}
    selected = {}
    for key, where in layout.items():
        value = data[key]
        if where.rows is not None:
            value = value.index_select(where.dim, selection.of(where.rows))
        if where.points_to is not None:
            value = new_index[where.points_to][value]
        selected[key] = value
    return selected


def _graph_lists(data: Any, graphs: Tensor) -> dict[str, list]:
    """Lists of ``data`` with one entry per graph, their entries in the order of ``graphs``."""
    count = num_graphs_of(data)
    order = graphs.tolist()
    return {
        key: [value[g] for g in order]
        for key, value in data.items()
        if isinstance(value, list) and len(value) == count
    }


def relabel(data: Any, layout: Mapping[str, Layout], selection: Selection) -> Any:
    """A copy of ``data`` relabelled by ``selection`` (a permutation of every node, edge and
    graph); ``ptr``, when present, is rebuilt. A relabelled ``Batch`` keeps its number of
    graphs, but its per-graph slices (``get_example``) still describe the original order."""
    relabelled = data.clone()
    changed = {**select_attributes(data, layout, selection), **_graph_lists(data, selection.graphs)}
    for key, value in changed.items():
        relabelled[key] = value
    if getattr(data, "ptr", None) is not None:
        counts = torch.bincount(relabelled.batch, minlength=selection.graphs.numel())
        relabelled.ptr = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
    return relabelled


def alone(data: Any, layout: Mapping[str, Layout], selection: Selection) -> Batch:
    """The graph of ``selection`` (see :func:`graph_selection`) cut out of the batch ``data``,
    as a batch of one, as a loader would give it."""
    fields = dict(data.items())
    fields.update(select_attributes(data, layout, selection))
    fields.update(
        {key: entries[0] for key, entries in _graph_lists(data, selection.graphs).items()}
    )
    for key in ("batch", "ptr"):
        fields.pop(key, None)
    fields["num_nodes"] = selection.nodes.numel()
    return Batch.from_data_list([Data(**fields)])
