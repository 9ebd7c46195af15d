"""``MoleculeCSVDataset``: a table of SMILES (or SD file) and targets as a cached PyG
``InMemoryDataset``."""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import InMemoryDataset

from gnnkit.choices import DEDUPLICATE_MODES
from gnnkit.data.cache import cache_root
from gnnkit.data.molecules.batch import ATOM_ARRAYS, pointer
from gnnkit.data.molecules.components import MoleculeColumns
from gnnkit.data.molecules.descriptors import (
    DESCRIPTOR_SETS,
    descriptor_record,
    read_descriptor_file,
)
from gnnkit.data.molecules.duplicates import Duplicates, find_duplicates, mean_targets
from gnnkit.data.molecules.featurizer import (
    FeaturizedMolecules,
    FeaturizerConfig,
    MoleculeFeaturizer,
    reverse_edges,
)
from gnnkit.data.molecules.graph import MoleculeGraph
from gnnkit.data.molecules.table import DataFileError, InvalidRow, read_molecule_table

CACHE_FORMAT = 1


def write_invalid_rows(
    rows: Iterable[InvalidRow], path: str | Path, *, append: bool = False
) -> None:
    """Write ``invalid_smiles.csv``: ``row,line,smiles,reason``; ``append`` adds the rows to a
    file written before (no second header), for reports written chunk by chunk."""
    with open(path, "a" if append else "w", newline="") as handle:
        writer = csv.writer(handle)
        if not append:
            writer.writerow(["row", "line", "smiles", "reason"])
        writer.writerows((r.row, r.line, r.smiles, r.reason) for r in rows)


def file_sha256(path: Path) -> str:
    """The SHA-256 of the file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class MoleculeCSVDataset(InMemoryDataset):
    """Molecules and their targets from a CSV/TSV/SMILES file, featurized once and cached.

    Each graph is a :class:`~gnnkit.data.molecules.graph.MoleculeGraph` with ``x``,
    ``edge_index`` (both directions of each bond), ``edge_attr``, ``rev_edge_index``, ``y``
    ``[1, T]`` (NaN where missing), ``y_mask``, optional ``weight`` and ``descriptors``, the
    ``smiles`` and its 0-based data ``row`` in the file; with ``featurizer.conformers`` also
    ``pos`` ``[n_atoms, 3]``, the atoms' ETKDG coordinates in Å. With several
    ``smiles_columns`` a graph is a row of several molecules, its atoms in column order with
    ``component`` ``[n_atoms]`` (see :mod:`~gnnkit.data.molecules.components`); its ``smiles``
    is then the row's SMILES separated by spaces, and a row is skipped when any of its
    molecules is invalid (its reason names the column).

    The processed graphs are cached under ``root`` (default ``cache_root()/molecules``) in a
    folder named by the SHA-256 of the file's bytes and of every setting that changes the
    graphs (with RDKit descriptors, also their names and the RDKit version); the cache holds
    only tensors and strings and loads with ``weights_only=True``.

    Rows whose SMILES RDKit rejects (or, with conformers, whose molecule ETKDG cannot embed)
    are skipped and reported: their count on stderr, and :attr:`invalid_rows` (see
    :func:`write_invalid_rows`). If every row is invalid, a :class:`DataFileError` is raised.

    With ``deduplicate``, rows holding the same molecule (the same canonical SMILES) are
    reported and kept (``"keep"``, whose :attr:`molecule_keys` let a split keep them in one
    part), merged into one (``"mean"`` of their targets, or the ``"first"``) or refused
    (``"error"``); see :mod:`~gnnkit.data.molecules.duplicates`.

    Args:
        path: the data file (``.csv``, ``.tsv``, ``.smi``, ``.sdf``, optionally ``.gz``; see
            :func:`~gnnkit.data.molecules.table.read_molecule_table`).
        smiles_column: the SMILES column (default: a column named like ``smiles``, else the
            first).
        smiles_columns: two or more SMILES columns, one molecule of each per row (instead of
            ``smiles_column``); :attr:`smiles` then holds the first column's.
        target_columns: target columns (default: all other columns); ``[]`` for none.
        weight_column: optional per-row sample weights.
        featurizer: atom/bond feature settings.
        descriptors: ``"rdkit2d"`` to add RDKit's 2-D descriptors per molecule, or ``None``.
        descriptor_file: a CSV/TSV of numeric descriptors, one row per data row (instead of
            ``descriptors``).
        root: cache folder.
        workers: featurization processes.
        verbose: report skipped rows (and duplicate molecules) on stderr.
        deduplicate: ``None`` (do not look for duplicate molecules) or one of
            :data:`~gnnkit.choices.DEDUPLICATE_MODES`.
        class_labels: targets may be text class labels (multiclass; see
            :func:`~gnnkit.data.molecules.table.parse_class_labels`), whose names are then
            :attr:`class_names`.

    Attributes:
        molecule_keys: with ``deduplicate``, the canonical SMILES of every graph (in dataset
            order; of every molecule of its row, separated by spaces), else ``None``.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        smiles_column: str | None = None,
        target_columns: list[str] | None = None,
        weight_column: str | None = None,
        featurizer: FeaturizerConfig | None = None,
        descriptors: str | None = None,
        descriptor_file: str | Path | None = None,
        root: str | Path | None = None,
        workers: int = 1,
        verbose: bool = True,
        deduplicate: str | None = None,
        class_labels: bool = False,
        smiles_columns: list[str] | None = None,
    ) -> None:
        if deduplicate is not None and deduplicate not in DEDUPLICATE_MODES:
            raise ValueError(
                f"deduplicate must be one of {', '.join(DEDUPLICATE_MODES)}, got {deduplicate!r}"
            )
        if descriptors is not None and descriptors not in DESCRIPTOR_SETS:
            raise ValueError(
                f"unknown descriptors {descriptors!r}; expected one of {DESCRIPTOR_SETS}"
            )
        self.path = Path(path)
        self.table = read_molecule_table(
            self.path,
            smiles_column=smiles_column,
            target_columns=target_columns,
            weight_column=weight_column,
            class_labels=class_labels,
            smiles_columns=smiles_columns or (),
        )
        self.molecules = MoleculeColumns.of_table(self.table)
        self.featurizer_config = featurizer or FeaturizerConfig()
        if descriptors is not None and descriptor_file is not None:
            raise ValueError("give descriptors or descriptor_file, not both")
        self.descriptor_set = descriptors
        self.descriptor_file = Path(descriptor_file) if descriptor_file is not None else None
        self.workers = workers
        self.settings = {
            "format": CACHE_FORMAT,
            "file_sha256": file_sha256(self.path),
            "smiles_column": smiles_column,
            **({"smiles_columns": self.molecules.names} if self.molecules.several else {}),
            "target_columns": self.table.task_names,
            "class_names": self.table.class_names,
            "weight_column": weight_column,
            "featurizer": self.featurizer_config.to_dict(),
            **descriptor_record(descriptors),
            "descriptor_file_sha256": (
                file_sha256(self.descriptor_file) if self.descriptor_file else None
            ),
        }
        key = hashlib.sha256(json.dumps(self.settings, sort_keys=True).encode()).hexdigest()
        root = Path(root) if root is not None else cache_root() / "molecules"
        super().__init__(str(root / f"{self.path.stem}-{key[:16]}"), log=False)
        self.data, self.slices, self.invalid_rows = self._load()
        if verbose and self.invalid_rows:
            why = "whose SMILES RDKit rejects"
            if self.featurizer_config.conformers:
                why += " or whose molecule ETKDG cannot embed"
            print(
                f"{self.path}: skipped {len(self.invalid_rows)} of {len(self.table.smiles)} rows "
                f"{why} (see invalid_smiles.csv in the output folder)",
                file=sys.stderr,
            )
        self.molecule_keys: list[str] | None = None
        if deduplicate is not None:
            self._deduplicate(deduplicate, verbose)

    def _deduplicate(self, mode: str, verbose: bool) -> None:
        """Set :attr:`molecule_keys`, and report, merge or refuse the molecules in more than
        one row as ``mode`` says."""
        rows = self.rows()
        self.molecule_keys = self.molecules.keys(rows)
        duplicates = find_duplicates(self.molecule_keys, self.table.targets[rows])
        if not duplicates.groups:
            return
        description = duplicates.describe(self.molecule_keys, rows, self.table.line_of_row)
        found = f"{self.path}: {description}"
        if mode == "error":
            raise DataFileError(
                f"{found}; remove them, or merge them with --deduplicate mean or first"
            )
        if mode == "keep":
            message = (
                f"warning: {found}; each molecule's rows are kept in one part of every split "
                "(--deduplicate mean or first merges them, error refuses the file)"
            )
        else:
            self._merge(duplicates, mean=mode == "mean")
            merged = (
                "the mean of the rows' targets" if mode == "mean" else "the first row's targets"
            )
            message = f"{found}; merged into one row per molecule, with {merged}"
        if verbose:
            print(message, file=sys.stderr)

    def _merge(self, duplicates: Duplicates, mean: bool) -> None:
        """One graph per molecule: its first row's, with (``mean``) the mean of its rows'
        targets per task, missing values ignored."""
        rows = self.rows()
        dropped = {position for group in duplicates.groups for position in group[1:]}
        kept = [position for position in range(len(self)) if position not in dropped]
        graphs = {position: self.get(position) for position in kept}
        if mean:
            for group in duplicates.groups:
                y = torch.from_numpy(mean_targets(self.table.targets[rows[group]])).float()
                graphs[group[0]].y = y.unsqueeze(0)
                graphs[group[0]].y_mask = ~torch.isnan(graphs[group[0]].y)
        self.data, self.slices = self.collate(list(graphs.values()))
        self.molecule_keys = [self.molecule_keys[position] for position in kept]

    @property
    def task_names(self) -> list[str]:
        return self.table.task_names

    @property
    def class_names(self) -> list[str] | None:
        """The text class labels of the targets in class order, or ``None`` (numbers)."""
        return self.table.class_names

    @property
    def raw_file_names(self) -> list[str]:
        return []

    @property
    def processed_file_names(self) -> list[str]:
        return ["graphs.pt"]

    def download(self) -> None:
        """The data file is local; nothing to download."""

    def process(self) -> None:
        featurized = self.molecules.featurize(
            MoleculeFeaturizer(self.featurizer_config), workers=self.workers
        )
        if len(featurized) == 0:
            index, reason = featurized.failures[0]
            first = self.table.invalid_row(index, reason, self.molecules.row_text(index))
            raise DataFileError(
                f"{self.path}: none of the {len(self.table.smiles)} SMILES could be parsed by "
                f"RDKit (row 0: {first.smiles!r}: {first.reason})"
            )
        torch.save(self._pack(featurized), self.processed_paths[0])

    def _pack(self, featurized: FeaturizedMolecules) -> dict[str, object]:
        """Flat tensors, slices and strings: everything ``torch.load(weights_only=True)``
        accepts."""
        rows = featurized.positions
        targets = torch.from_numpy(self.table.targets[rows]).float()
        tensors = {
            "x": torch.from_numpy(featurized.x),
            "edge_index": torch.from_numpy(featurized.edge_index),
            "edge_attr": torch.from_numpy(featurized.edge_attr),
            "rev_edge_index": torch.from_numpy(
                np.concatenate([reverse_edges(int(n)) for n in featurized.num_edges])
            ),
            "y": targets,
            "y_mask": ~torch.isnan(targets),
            "row": torch.from_numpy(rows),
        }
        atom_arrays = {key: getattr(featurized, key) for key in ATOM_ARRAYS}
        tensors.update({k: torch.from_numpy(v) for k, v in atom_arrays.items() if v is not None})
        if self.table.weights is not None:
            tensors["weight"] = torch.from_numpy(self.table.weights[rows]).float()
        if self.descriptor_file is not None:
            values = read_descriptor_file(self.descriptor_file, len(self.table.smiles))
            tensors["descriptors"] = torch.from_numpy(values[rows]).float()
        elif self.descriptor_set is not None:
            values = self.molecules.descriptors(rows.tolist(), self.descriptor_set)
            tensors["descriptors"] = torch.from_numpy(values).float()
        count = len(rows)
        atom_slices, edge_slices = pointer(featurized.num_atoms), pointer(featurized.num_edges)
        per_graph = torch.arange(count + 1)
        slices = {key: per_graph for key in tensors}
        slices.update(x=atom_slices, edge_index=edge_slices, edge_attr=edge_slices)
        slices.update({key: atom_slices for key in ATOM_ARRAYS if key in tensors})
        slices["rev_edge_index"] = edge_slices
        return {
            "tensors": tensors,
            "slices": slices,
            "smiles": [self.molecules.row_text(r) for r in rows.tolist()],
            "invalid": [
                [row.row, row.line, row.smiles, row.reason]
                for row in (
                    self.table.invalid_row(i, why, self.molecules.row_text(i))
                    for i, why in featurized.failures
                )
            ],
        }

    def _load(self) -> tuple[MoleculeGraph, dict[str, torch.Tensor] | None, list[InvalidRow]]:
        try:
            packed = torch.load(self.processed_paths[0], weights_only=True)
        except Exception as error:  # a damaged cache is rebuilt, never trusted
            print(f"rebuilding damaged cache {self.processed_paths[0]}: {error}", file=sys.stderr)
            self.process()
            packed = torch.load(self.processed_paths[0], weights_only=True)
        smiles = packed["smiles"]
        # PyG keeps a one-graph dataset uncollated (no slices): do the same.
        single = len(smiles) == 1
        data = MoleculeGraph(**packed["tensors"], smiles=smiles[0] if single else smiles)
        slices = None if single else {**packed["slices"], "smiles": packed["slices"]["row"]}
        invalid = [InvalidRow(int(r), int(n), s, why) for r, n, s, why in packed["invalid"]]
        return data, slices, invalid

    def rows(self) -> np.ndarray:
        """The 0-based data row of every graph, in dataset order."""
        return self.row.numpy()

    @property
    def smiles(self) -> list[str]:
        """The SMILES of every graph, in dataset order (of the first column's molecule when
        rows hold several)."""
        return [self.table.smiles[row] for row in self.rows()]

    def __repr__(self) -> str:
        return (
            f"MoleculeCSVDataset({self.path.name}, {len(self)} molecules, "
            f"tasks={self.task_names}, skipped={len(self.invalid_rows)})"
        )
