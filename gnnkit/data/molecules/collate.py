"""Training batches of molecule graphs, built from concatenated arrays.

PyG's ``Batch.from_data_list`` does Python work per graph and per attribute on every batch of
every epoch. :class:`MoleculeCollater` concatenates a split's
:class:`~gnnkit.data.molecules.graph.MoleculeGraph` records once; a batch is then a gather of
the chosen molecules' rows followed by :func:`~gnnkit.data.molecules.batch.collate_chunk`, the
builder that prediction uses: a few tensor operations, whatever the batch size. The batches
equal ``Batch.from_data_list`` of the same graphs in the same order, tensor for tensor.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from gnnkit.data.molecules.batch import ATOM_ARRAYS, ChunkTensors, collate_chunk, pointer
from gnnkit.data.molecules.graph import MoleculeGraph

#: Atom-level (``[n_atoms, *]``) and edge-level (``[n_edges, *]``) attributes.
ATOM_KEYS = frozenset({"x", *ATOM_ARRAYS})
EDGE_KEYS = frozenset({"edge_index", "edge_attr", "rev_edge_index"})
REQUIRED_KEYS = frozenset({"x", "edge_index", "edge_attr", "rev_edge_index"})


def _graph_level(graph: Data, key: str) -> bool:
    """Whether ``graph[key]`` is one graph's row of a per-graph attribute that PyG concatenates
    along dim 0 without an increment (a ``[1, *]`` tensor), or a string (kept in a list, like
    ``smiles``)."""
    value = graph[key]
    if isinstance(value, str):
        return True
    return (
        isinstance(value, Tensor)
        and value.dim() > 0
        and value.size(0) == 1
        and graph.__cat_dim__(key, value) == 0
        and graph.__inc__(key, value) == 0
    )


def _gather_ranges(ptr: Tensor, index: Tensor) -> tuple[Tensor, Tensor]:
    """Rows of the ranges ``ptr[i]:ptr[i + 1]`` for ``i`` in ``index``, concatenated
    ``[Σ n_i]``, and the new pointer ``[len(index) + 1]``."""
    counts = (ptr[1:] - ptr[:-1])[index]
    new_ptr = torch.zeros(index.numel() + 1, dtype=torch.long)
    torch.cumsum(counts, 0, out=new_ptr[1:])
    shift = torch.repeat_interleave(ptr[:-1][index] - new_ptr[:-1], counts)
    return torch.arange(int(new_ptr[-1])) + shift, new_ptr


class MoleculeCollater:
    """``collate_fn`` of a loader over graph positions: positions → one batch.

    Args:
        chunk: the split's atom and edge arrays (edge indices local to each molecule).
        graph_tensors: per-graph tensors ``[M, *]`` (``y``, ``y_mask``, ``weight``, …).
        graph_lists: per-graph strings, kept as lists (``smiles``).

    Build it with :meth:`of`, which returns ``None`` for graphs it cannot batch exactly as
    PyG does (anything but :class:`MoleculeGraph` records with the standard attributes).
    """

    def __init__(
        self,
        chunk: ChunkTensors,
        graph_tensors: dict[str, Tensor],
        graph_lists: dict[str, list[str]],
    ) -> None:
        self.chunk, self.graph_tensors, self.graph_lists = chunk, graph_tensors, graph_lists

    @classmethod
    def of(cls, graphs: Sequence[Data]) -> MoleculeCollater | None:
        """The collater of ``graphs``, or ``None`` when they are not all molecule graphs with the
        same attributes: ``x``, ``edge_index``, ``edge_attr``, ``rev_edge_index``, optionally
        ``pos`` and ``component``, and per-graph ``[1, *]`` tensors or strings."""
        records = list(graphs)
        if not records or not all(type(g) is MoleculeGraph for g in records):
            return None
        keys = set(records[0].keys())
        graph_keys = sorted(keys - ATOM_KEYS - EDGE_KEYS)
        if not keys >= REQUIRED_KEYS or any(set(g.keys()) != keys for g in records):
            return None
        if not all(_graph_level(g, key) for g in records for key in graph_keys):
            return None
        # collate_chunk relies on MoleculeGraph's layout: edges 2k and 2k + 1 are one bond.
        if not all(
            torch.equal(g.rev_edge_index, torch.arange(g.edge_index.size(1)) ^ 1) for g in records
        ):
            return None
        columns = {key: [g[key] for g in records] for key in keys}
        optional = {key: torch.cat(columns[key]) if key in keys else None for key in ATOM_ARRAYS}
        chunk = ChunkTensors(
            x=torch.cat(columns["x"]),
            edge_index=torch.cat(columns["edge_index"], dim=1),
            edge_attr=torch.cat(columns["edge_attr"]),
            atom_ptr=pointer([g.num_nodes for g in records]),
            edge_ptr=pointer([g.edge_index.size(1) for g in records]),
            **optional,
        )
        tensors = {
            key: torch.cat(columns[key])
            for key in graph_keys
            if isinstance(columns[key][0], Tensor)
        }
        lists = {key: columns[key] for key in graph_keys if key not in tensors}
        return cls(chunk, tensors, lists)

    def __call__(self, positions: Sequence[int]) -> Batch:
        """The batch of the graphs at ``positions``, in that order."""
        index = torch.as_tensor(positions, dtype=torch.long)
        atoms, atom_ptr = _gather_ranges(self.chunk.atom_ptr, index)
        edges, edge_ptr = _gather_ranges(self.chunk.edge_ptr, index)
        chunk = ChunkTensors(
            x=self.chunk.x[atoms],
            edge_index=self.chunk.edge_index[:, edges],
            edge_attr=self.chunk.edge_attr[edges],
            atom_ptr=atom_ptr,
            edge_ptr=edge_ptr,
            **{
                key: None if getattr(self.chunk, key) is None else getattr(self.chunk, key)[atoms]
                for key in ATOM_ARRAYS
            },
        )
        tensors = {key: values[index] for key, values in self.graph_tensors.items()}
        lists = {
            key: [values[p] for p in index.tolist()] for key, values in self.graph_lists.items()
        }
        return collate_chunk(chunk, 0, index.numel(), tensors, lists)
