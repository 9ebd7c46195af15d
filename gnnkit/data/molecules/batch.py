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

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Batch

from gnnkit.data.molecules.featurizer import FeaturizedMolecules
from gnnkit.data.molecules.graph import MoleculeGraph


def _pointer(counts: np.ndarray) -> Tensor:
    """``[0, c_0, c_0 + c_1, …]`` ``[M + 1]`` (int64)."""
    return torch.from_numpy(np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))


class _ChunkTensors:
    """The arrays of a featurized chunk as tensors (no copies) and their per-molecule offsets."""

    def __init__(self, featurized: FeaturizedMolecules) -> None:
        self.x = torch.from_numpy(featurized.x)
        self.edge_index = torch.from_numpy(featurized.edge_index)
        self.edge_attr = torch.from_numpy(featurized.edge_attr)
        self.pos = None if featurized.pos is None else torch.from_numpy(featurized.pos)
        self.atom_ptr = _pointer(featurized.num_atoms)
        self.edge_ptr = _pointer(featurized.num_edges)


def _collate(
    chunk: _ChunkTensors,
    start: int,
    stop: int,
    descriptors: Tensor | None,
    smiles: Sequence[str] | None,
) -> Batch:
    """Molecules ``start:stop`` of the chunk as one batch."""
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
    if smiles is not None:
        attributes["smiles"] = list(smiles[start:stop])
        slices["smiles"], increments["smiles"] = torch.arange(count + 1), None
    if descriptors is not None:
        attributes["descriptors"] = descriptors[start:stop]
        slices["descriptors"], increments["descriptors"] = torch.arange(count + 1), zeros
    if chunk.pos is not None:
        attributes["pos"] = chunk.pos[first_atom:last_atom]
        slices["pos"], increments["pos"] = atoms, zeros
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
    ``descriptors`` ``[B, D]`` and ``pos`` ``[N, 3]`` when present.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    chunk = _ChunkTensors(featurized)
    for start in range(0, len(featurized), batch_size):
        yield _collate(chunk, start, min(start + batch_size, len(featurized)), descriptors, smiles)
