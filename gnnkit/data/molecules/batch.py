"""Featurized molecules → PyG ``Batch`` objects, straight from the flat arrays.

:class:`~gnnkit.data.molecules.featurizer.FeaturizedMolecules` already holds a chunk of
molecules as concatenated arrays, which is what a batch is. Slicing them and offsetting the
edge indices costs a few tensor operations per batch, where one ``Data`` object per molecule
and ``Batch.from_data_list`` cost Python work per molecule and per attribute. The batches are
complete PyG batches of :class:`~gnnkit.data.molecules.graph.MoleculeGraph` (``batch``,
``ptr``, and the slice and increment records, so ``to_data_list()`` and ``get_example()``
work): equal, tensor for tensor, to ``Batch.from_data_list`` of the same molecules.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Batch

from gnnkit.data.molecules.featurizer import FeaturizedMolecules
from gnnkit.data.molecules.graph import MoleculeGraph

#: Optional atom-level arrays of a :class:`ChunkTensors`, batched like ``x``.
ATOM_ARRAYS = ("pos", "component")


def pointer(counts: np.ndarray | Sequence[int]) -> Tensor:
    """``[0, c_0, c_0 + c_1, …]`` ``[M + 1]`` (int64) of per-molecule counts ``[M]``."""
    return torch.from_numpy(np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))


@dataclass(slots=True)
class ChunkTensors:
    """Concatenated atom and edge arrays of ``M`` molecules and their per-molecule offsets.

    Attributes:
        x: atom features ``[N, atom_dim]``; edge_index: ``[2, E]`` with atom indices local to
            each molecule; edge_attr: ``[E, bond_dim]``; pos: ``[N, 3]`` or ``None``.
        atom_ptr, edge_ptr: ``[M + 1]`` int64, where each molecule's atoms and edges start.
        component: ``[N]`` int64, the SMILES column of each atom when an entry is a row of
            several molecules, or ``None``.
    """

    x: Tensor
    edge_index: Tensor
    edge_attr: Tensor
    pos: Tensor | None
    atom_ptr: Tensor
    edge_ptr: Tensor
    component: Tensor | None = None

    @classmethod
    def of(cls, featurized: FeaturizedMolecules) -> ChunkTensors:
        """The arrays of a featurized chunk as tensors (no copies)."""
        return cls(
            x=torch.from_numpy(featurized.x),
            edge_index=torch.from_numpy(featurized.edge_index),
            edge_attr=torch.from_numpy(featurized.edge_attr),
            pos=None if featurized.pos is None else torch.from_numpy(featurized.pos),
            atom_ptr=pointer(featurized.num_atoms),
            edge_ptr=pointer(featurized.num_edges),
            component=(
                None if featurized.component is None else torch.from_numpy(featurized.component)
            ),
        )


def collate_chunk(
    chunk: ChunkTensors,
    start: int,
    stop: int,
    graph_tensors: Mapping[str, Tensor] | None = None,
    graph_lists: Mapping[str, Sequence[object]] | None = None,
) -> Batch:
    """Molecules ``start:stop`` of the chunk as one batch.

    ``graph_tensors`` holds per-molecule tensors ``[M, *]`` (``descriptors``, ``y``, …), of
    which rows ``start:stop`` enter the batch; ``graph_lists`` holds per-molecule values kept
    as lists (``smiles``).
    """
    count = stop - start
    atoms = chunk.atom_ptr[start : stop + 1] - chunk.atom_ptr[start]
    edges = chunk.edge_ptr[start : stop + 1] - chunk.edge_ptr[start]
    first_atom, last_atom = int(chunk.atom_ptr[start]), int(chunk.atom_ptr[stop])
    first_edge, last_edge = int(chunk.edge_ptr[start]), int(chunk.edge_ptr[stop])
    num_atoms, num_edges = atoms.diff(), edges.diff()
    graph_offsets = torch.repeat_interleave(atoms[:-1], num_edges)
    zeros = torch.zeros(count, dtype=torch.long)
    attributes: dict[str, object] = {
        "x": chunk.x[first_atom:last_atom],
        "edge_index": chunk.edge_index[:, first_edge:last_edge] + graph_offsets,
        "edge_attr": chunk.edge_attr[first_edge:last_edge],
        # Edges 2k and 2k + 1 are the two directions of a bond, in every molecule.
        "rev_edge_index": torch.arange(last_edge - first_edge) ^ 1,
    }
    slices = {"x": atoms, "edge_index": edges, "edge_attr": edges, "rev_edge_index": edges}
    increments: dict[str, Tensor | None] = {
        "x": zeros,
        "edge_index": atoms[:-1],
        "edge_attr": zeros,
        "rev_edge_index": edges[:-1],
    }
    per_graph = torch.arange(count + 1)
    for key, values in (graph_lists or {}).items():
        attributes[key] = list(values[start:stop])
        slices[key], increments[key] = per_graph, None
    for key, values in (graph_tensors or {}).items():
        attributes[key] = values[start:stop]
        slices[key], increments[key] = per_graph, zeros
    for key in ATOM_ARRAYS:
        values = getattr(chunk, key)
        if values is not None:
            attributes[key] = values[first_atom:last_atom]
            slices[key], increments[key] = atoms, zeros
    batch = Batch(_base_cls=MoleculeGraph, **attributes)
    batch.batch = torch.repeat_interleave(torch.arange(count), num_atoms)
    batch.ptr = atoms
    batch._num_graphs = count
    batch._slice_dict = slices
    batch._inc_dict = increments
    return batch


def molecule_batches(
    featurized: FeaturizedMolecules,
    batch_size: int,
    *,
    descriptors: Tensor | None = None,
    smiles: Sequence[str] | None = None,
) -> Iterator[Batch]:
    """Consecutive batches of at most ``batch_size`` molecules, in order.

    Args:
        featurized: the molecules.
        batch_size: molecules per batch.
        descriptors: optional ``[M, D]`` float32 molecule descriptors, one row per molecule.
        smiles: optional ``M`` SMILES, kept as the batches' ``smiles`` lists.

    Shapes per batch of ``B`` molecules with ``N`` atoms and ``E`` directed edges: ``x``
    ``[N, atom_dim]``, ``edge_index`` ``[2, E]`` (batch-wide atom indices), ``edge_attr``
    ``[E, 14]``, ``rev_edge_index`` ``[E]``, ``batch`` ``[N]``, ``ptr`` ``[B + 1]``, and
    ``descriptors`` ``[B, D]``, ``pos`` ``[N, 3]`` and ``component`` ``[N]`` when present.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    chunk = ChunkTensors.of(featurized)
    tensors = {} if descriptors is None else {"descriptors": descriptors}
    lists = {} if smiles is None else {"smiles": smiles}
    for start in range(0, len(featurized), batch_size):
        yield collate_chunk(chunk, start, min(start + batch_size, len(featurized)), tensors, lists)
