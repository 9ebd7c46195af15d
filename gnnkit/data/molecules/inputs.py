"""SMILES → model inputs, made as a trained model's featurizer settings say.

A checkpoint stores the featurizer settings its training graphs were made with (atom features,
explicit hydrogens, conformers, descriptors); :func:`prediction_inputs` featurizes new SMILES
the same way and hands them over as batches (:mod:`gnnkit.data.molecules.batch`), the one path
every prediction command takes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from gnnkit.data.molecules.batch import molecule_batches
from gnnkit.data.molecules.components import MoleculeColumns
from gnnkit.data.molecules.featurizer import (
    FeaturizedMolecules,
    FeaturizerConfig,
    MoleculeFeaturizer,
)


@dataclass(slots=True)
class PredictionInputs:
    """The featurized molecules of a list of SMILES.

    Attributes:
        featurized: the molecules that parse (and, with conformers, embed), ``M`` of them
            (rows, when each holds several molecules).
        smiles: their SMILES ``[M]`` (a row's separated by spaces).
        descriptors: ``[M, D]`` float32 molecule descriptors when the model takes them.
    """

    featurized: FeaturizedMolecules
    smiles: list[str]
    descriptors: Tensor | None = None

    def __len__(self) -> int:
        return len(self.featurized)

    @property
    def positions(self) -> np.ndarray:
        """Index of each featurized molecule in the input list ``[M]``."""
        return self.featurized.positions

    @property
    def failures(self) -> list[tuple[int, str]]:
        """``(input index, reason)`` of every SMILES that was not featurized."""
        return self.featurized.failures

    def batches(self, batch_size: int) -> Iterator[Batch]:
        """The molecules in order, ``batch_size`` per batch (without their SMILES)."""
        return molecule_batches(self.featurized, batch_size, descriptors=self.descriptors)

    def graphs(self) -> list[Data]:
        """One :class:`~gnnkit.data.molecules.graph.MoleculeGraph` per molecule, with its
        ``smiles``."""
        if not len(self):
            return []
        batches = molecule_batches(
            self.featurized, len(self), descriptors=self.descriptors, smiles=self.smiles
        )
        return next(batches).to_data_list()


def featurizer_config(featurizer: dict[str, Any]) -> FeaturizerConfig:
    """The :class:`FeaturizerConfig` of a checkpoint's ``featurizer`` settings."""
    return FeaturizerConfig(
        atom_features=featurizer.get("atom_features", "v2"),
        add_hydrogens=featurizer.get("add_hydrogens", False),
        conformers=featurizer.get("conformers", False),
        conformer_seed=featurizer.get("conformer_seed", 0),
    )


def prediction_inputs(
    smiles: Sequence[str] | Mapping[str, Sequence[str]],
    featurizer: dict[str, Any],
    workers: int = 1,
    descriptor_rows: np.ndarray | None = None,
) -> PredictionInputs:
    """Featurize ``smiles`` with the settings ``featurizer`` (a checkpoint's ``featurizer``).

    ``smiles`` is one molecule per row, or for a model of several molecules per row a mapping
    column name → SMILES in the model's column order (see
    :mod:`~gnnkit.data.molecules.components`; failures name the column).

    ``descriptor_rows`` ``[len(smiles), D]`` supplies file descriptors for a model trained with
    a descriptor file; RDKit descriptors (``"rdkit2d"``) are computed here, those the settings
    name (``descriptor_names``, in their order) or, for settings without names, all of them.
    """
    molecules = MoleculeColumns.of(smiles)
    featurized = molecules.featurize(MoleculeFeaturizer(featurizer_config(featurizer)), workers)
    rows = featurized.positions.tolist()
    kind = featurizer.get("descriptors")
    descriptors = None
    if kind == "file":
        if descriptor_rows is None:
            raise ValueError(
                "this model was trained with descriptors from a file: pass a descriptor file "
                "(--descriptors-file) with one row per input row"
            )
        descriptors = torch.from_numpy(descriptor_rows[featurized.positions]).float()
    elif kind:
        names = featurizer.get("descriptor_names")
        descriptors = torch.from_numpy(molecules.descriptors(rows, kind, names)).float()
    return PredictionInputs(featurized, [molecules.row_text(r) for r in rows], descriptors)
