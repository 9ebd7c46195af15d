"""Several molecules per row: a solute and its solvent, the partners of a reaction.

A table with ``K`` SMILES columns gives each row ``K`` molecules. They are featurized column
by column and joined into one entry per row: the row's molecules as one graph of ``K``
disconnected parts, atoms and bonds in column order, with ``component`` ``[n_atoms]`` naming
each atom's column (0 … K − 1). Every edge stays inside its molecule and edges ``2k``,
``2k + 1`` stay the two directions of one bond, so the row batches, caches and streams as one
molecule does; a model reads ``component`` to pool each molecule on its own
(:class:`~gnnkit.models.dmpnn.DMPNN` with ``n_components``).

A row is featurized only when all of its molecules are: otherwise it fails with every failing
column named, with its SMILES and RDKit's reason. One column is featurized exactly as before
(no ``component``).

Where a row needs a single text (an id in ``test_predictions.csv``, a duplicate key, an
invalid row's ``smiles``) it is the row's SMILES joined by :data:`ROW_SEPARATOR`; splits by
scaffold and the training-set similarity of a screen use the first column's molecule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gnnkit.data.molecules.descriptors import compute_descriptors
from gnnkit.data.molecules.duplicates import canonical_smiles
from gnnkit.data.molecules.featurizer import FeaturizedMolecules, MoleculeFeaturizer
from gnnkit.data.molecules.table import MoleculeTable

#: Between the SMILES of a row's molecules where a row is one text (no SMILES holds a space).
ROW_SEPARATOR = " "


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``concat(arange(s, s + c) for s, c in zip(starts, counts))`` ``[Σ counts]``."""
    ends = np.cumsum(counts)
    return np.arange(int(ends[-1]) if len(ends) else 0) + np.repeat(starts - ends + counts, counts)


def _starts(counts: np.ndarray) -> np.ndarray:
    """Where each of ``counts`` starts when laid end to end ``[len(counts)]``."""
    return np.cumsum(counts) - counts


def join_components(
    parts: Sequence[FeaturizedMolecules], names: Sequence[str], smiles: Sequence[Sequence[str]]
) -> FeaturizedMolecules:
    """One entry per row whose molecules all featurized: part ``k`` (column ``names[k]``, the
    SMILES ``smiles[k]`` of every row) gives the row's atoms and bonds ``k``, in that order.

    Shapes: part ``k`` holds ``M_k`` molecules; the result ``R`` rows (those in every part's
    ``positions``) with ``num_atoms[r] = Σ_k n_atoms_k(r)``, ``edge_index`` local to the row
    (column ``k``'s atoms offset by the atoms of the columns before it) and ``component``
    ``[Σ n_atoms]``.
    """
    valid = parts[0].positions
    for part in parts[1:]:
        valid = np.intersect1d(valid, part.positions, assume_unique=True)
    picked = [np.isin(part.positions, valid) for part in parts]
    atoms = np.stack([part.num_atoms[mask] for part, mask in zip(parts, picked)])  # [K, R]
    edges = np.stack([part.num_edges[mask] for part, mask in zip(parts, picked)])
    row_atoms, row_edges = atoms.sum(0), edges.sum(0)
    atom_offset = np.cumsum(atoms, axis=0) - atoms  # [K, R]: atoms of the columns before
    edge_offset = np.cumsum(edges, axis=0) - edges
    first = parts[0]
    x = np.empty((int(row_atoms.sum()), first.x.shape[1]), dtype=first.x.dtype)
    edge_index = np.empty((2, int(row_edges.sum())), dtype=first.edge_index.dtype)
    edge_attr = np.empty((int(row_edges.sum()), first.edge_attr.shape[1]), first.edge_attr.dtype)
    component = np.empty(len(x), dtype=np.int64)
    pos = None if first.pos is None else np.empty((len(x), 3), dtype=first.pos.dtype)
    for k, (part, mask) in enumerate(zip(parts, picked)):
        source_atoms = _ranges(_starts(part.num_atoms)[mask], atoms[k])
        source_edges = _ranges(_starts(part.num_edges)[mask], edges[k])
        target_atoms = _ranges(_starts(row_atoms) + atom_offset[k], atoms[k])
        target_edges = _ranges(_starts(row_edges) + edge_offset[k], edges[k])
        x[target_atoms] = part.x[source_atoms]
        component[target_atoms] = k
        edge_index[:, target_edges] = part.edge_index[:, source_edges] + np.repeat(
            atom_offset[k], edges[k]
        )
        edge_attr[target_edges] = part.edge_attr[source_edges]
        if pos is not None:
            pos[target_atoms] = part.pos[source_atoms]
    return FeaturizedMolecules(
        x=x,
        edge_index=edge_index,
        edge_attr=edge_attr,
        num_atoms=row_atoms,
        num_edges=row_edges,
        positions=valid,
        failures=_row_failures(parts, names, smiles),
        pos=pos,
        component=component,
    )


def _row_failures(
    parts: Sequence[FeaturizedMolecules], names: Sequence[str], smiles: Sequence[Sequence[str]]
) -> list[tuple[int, str]]:
    """``(row, reason)`` of every row with a molecule that failed, in row order; the reason
    names each failing column, its SMILES and why."""
    reasons: dict[int, list[str]] = {}
    for name, part, column in zip(names, parts, smiles):
        for row, why in part.failures:
            reasons.setdefault(row, []).append(f"column {name!r} ({column[row]!r}): {why}")
    return [(row, "; ".join(reasons[row])) for row in sorted(reasons)]


@dataclass(frozen=True, slots=True)
class MoleculeColumns:
    """The molecules of a table's rows, by SMILES column: one column, or several (``K``
    molecules per row, see the module docstring).

    Attributes:
        names: the columns, in order.
        smiles: per column, the SMILES of every row ``[K][rows]``.
    """

    names: tuple[str, ...]
    smiles: tuple[Sequence[str], ...]

    @classmethod
    def of(cls, molecules: Sequence[str] | Mapping[str, Sequence[str]]) -> MoleculeColumns:
        """From one column of SMILES, or a mapping column name → SMILES (in column order)."""
        if isinstance(molecules, Mapping):
            return cls(tuple(molecules), tuple(molecules.values()))
        return cls(("smiles",), (molecules,))

    @classmethod
    def of_table(cls, table: MoleculeTable) -> MoleculeColumns:
        """The SMILES columns of ``table`` (its ``smiles`` for a one-column table)."""
        if not table.smiles_columns:
            return cls.of(table.smiles)
        others = [[s.strip() for s in table.frame[c].tolist()] for c in table.smiles_columns[1:]]
        return cls(table.smiles_columns, (table.smiles, *others))

    @property
    def several(self) -> bool:
        """Whether rows hold more than one molecule."""
        return len(self.names) > 1

    def row_text(self, row: int) -> str:
        """The SMILES of row ``row``'s molecules joined by :data:`ROW_SEPARATOR`."""
        return ROW_SEPARATOR.join(column[row] for column in self.smiles)

    def featurize(self, featurizer: MoleculeFeaturizer, workers: int = 1) -> FeaturizedMolecules:
        """Every row featurized (see :func:`join_components`); one column as the featurizer
        does it."""
        parts = [featurizer.featurize(column, workers=workers) for column in self.smiles]
        return join_components(parts, self.names, self.smiles) if self.several else parts[0]

    def descriptors(
        self, rows: Sequence[int], kind: str, names: Sequence[str] | None = None
    ) -> np.ndarray:
        """Molecule descriptors of ``rows``, ``[len(rows), K·D]``: each molecule's
        (:func:`~gnnkit.data.molecules.descriptors.compute_descriptors`), in column order."""
        return np.concatenate(
            [compute_descriptors([c[r] for r in rows], kind, names) for c in self.smiles], axis=1
        )

    def keys(self, rows: Sequence[int]) -> list[str]:
        """A key per row that is the same exactly when the rows hold the same molecules in
        the same columns: their canonical SMILES joined by :data:`ROW_SEPARATOR`."""
        columns = [canonical_smiles([column[r] for r in rows]) for column in self.smiles]
        return [ROW_SEPARATOR.join(texts) for texts in zip(*columns)]


def reading_columns(
    featurizer: Mapping[str, Any],
    smiles_column: str | None = None,
    smiles_columns: Sequence[str] = (),
) -> tuple[str | None, tuple[str, ...]]:
    """The SMILES column(s) in which to read a file for a model with checkpoint settings
    ``featurizer``, as ``(smiles_column, smiles_columns)`` for
    :func:`~gnnkit.data.molecules.table.read_molecule_table`.

    A model of one molecule per row: ``smiles_column``, else a lone ``smiles_columns`` entry,
    else its training column (``None`` lets the table guess), and no further columns. A model
    of ``K`` per row: ``smiles_columns`` (``K`` of them), else its training columns.

    Raises:
        ValueError: columns that do not fit the model, naming what it reads.
    """
    trained = list(featurizer.get("smiles_columns") or [])
    if not trained:
        if len(smiles_columns) > 1:
            raise ValueError(
                f"the model reads one molecule per row, but {len(smiles_columns)} SMILES "
                "columns were given (--smiles-columns); give one"
            )
        given = smiles_column or (smiles_columns[0] if smiles_columns else None)
        return given or featurizer.get("smiles_column"), ()
    named = ", ".join(map(repr, trained))
    if smiles_column is not None or (smiles_columns and len(smiles_columns) != len(trained)):
        raise ValueError(
            f"the model reads {len(trained)} molecules per row (trained on columns {named}); "
            f"name {len(trained)} columns with --smiles-columns, or none to read those"
        )
    columns = tuple(smiles_columns or trained)
    return columns[0], columns
