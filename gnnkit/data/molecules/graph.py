"""The PyG record of one featurized molecule."""

from __future__ import annotations

from typing import Any

from torch_geometric.data import Data


class MoleculeGraph(Data):
    """A molecule as a directed graph: each bond is two directed edges.

    Attributes:
        x: atom features ``[n_atoms, atom_dim]``.
        edge_index: ``[2, 2 n_bonds]``; edges ``2k`` and ``2k + 1`` are bond ``k`` in its two
            directions (``begin → end``, then ``end → begin``).
        edge_attr: bond features ``[2 n_bonds, bond_dim]`` (the same for both directions).
        rev_edge_index: ``[2 n_bonds]``; ``rev_edge_index[e]`` is the edge running opposite to
            ``e``.
        y: targets ``[1, n_tasks]``, NaN where a label is missing; ``y_mask`` ``[1, n_tasks]``
            is ``True`` where a label is present.
        pos: optional atom positions ``[n_atoms, 3]`` (Å, one ETKDG conformer; see
            :mod:`gnnkit.data.molecules.conformers`), in the order of ``x``.
        weight: optional sample weight ``[1]``; descriptors: optional ``[1, n_descriptors]``.
        smiles: the input SMILES; row: its row number in the input file (0-based data row).

    When graphs are batched, ``rev_edge_index`` is offset by the number of edges (not nodes)
    that come before, so it keeps pointing at the reverse edge.
    """

    def __inc__(self, key: str, value: Any, *args: Any, **kwargs: Any) -> Any:
        if key == "rev_edge_index":
            return self.edge_index.size(1)
        return super().__inc__(key, value, *args, **kwargs)
