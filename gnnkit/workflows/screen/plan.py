"""Everything the engines of a screen share: model, library, ranking, columns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from gnnkit.data.molecules.components import reading_columns
from gnnkit.data.molecules.similarity import NearestNeighbours
from gnnkit.data.molecules.stream import MoleculeStream
from gnnkit.train import Ensemble, set_precision
from gnnkit.workflows.molecules.columns import (
    output_name,
    prediction_column_names,
    prediction_slot,
)
from gnnkit.workflows.molecules.predict import load_molecule_ensemble
from gnnkit.workflows.molecules.runs import TRAINING_SMILES
from gnnkit.workflows.screen.config import ScreenConfig
from gnnkit.workflows.screen.pipeline import REASON
from gnnkit.workflows.screen.ranking import NEAREST, SIMILARITY, RankRule, TopK

#: Molecules per forward pass by device when none is set: on a CPU small batches keep the
#: bond states (~35 × 300 floats per molecule) in cache, which beats larger GEMMs.
BATCH_SIZES = {"cpu": 64, "cuda": 1024}


def default_device(config: ScreenConfig) -> str:
    """``config.device``, else ``cuda`` when available for ``fp32`` and the CPU for ``int8``."""
    if config.device:
        return config.device
    return "cuda" if config.precision == "fp32" and torch.cuda.is_available() else "cpu"


def training_smiles_file(model_dir: str | Path) -> Path | None:
    """``training_smiles.csv`` of the run: in the folder (of ``model.pt`` when given the file)
    or, for a ``member_k`` or ``fold_k`` folder, in the run folder above it; ``None`` if the
    run has none."""
    path = Path(model_dir)
    folder = path.parent if path.is_file() else path
    while not (folder / TRAINING_SMILES).is_file():
        if not folder.name.startswith(("member", "fold")):
            return None
        folder = folder.parent
    return folder / TRAINING_SMILES


@dataclass(slots=True)
class ScreenPlan:
    """What a screen needs before it reads a molecule.

    Attributes:
        config: the settings.
        ensemble: the model(s).
        stream: the library, chunk by chunk.
        rule: the ranking.
        training_smiles: the training molecules, or ``None`` when the run does not list them
            (then the hits have no similarity columns).
        columns: the hits file's columns after ``rank``.
        molecule_columns: for a model of several molecules per row, the library's SMILES
            columns (in the model's order) → their names in the chunks; else empty. The
            training-set similarity (``max_train_similarity``) is that of the first
            column's molecule to the training molecules of the first column.
    """

    config: ScreenConfig
    ensemble: Ensemble
    stream: MoleculeStream
    rule: RankRule
    training_smiles: list[str] | None
    columns: list[str]
    molecule_columns: dict[str, str]

    @classmethod
    def create(cls, model_dir: str | Path, library: str | Path, config: ScreenConfig) -> ScreenPlan:
        """Load the model and the training molecules, open the library, check the settings."""
        ensemble = load_molecule_ensemble(model_dir, config.allow_partial)
        set_precision(ensemble, config.precision, default_device(config))
        featurizer = ensemble.featurizer
        if featurizer.get("descriptors") == "file":
            raise ValueError(
                f"{model_dir}: the model takes descriptors from a file, one row per input row, "
                "which a streamed library cannot supply; screen with a model trained without "
                "--descriptors-file (RDKit descriptors, --descriptors rdkit2d, are fine)"
            )
        training_file = training_smiles_file(model_dir)
        if config.max_train_similarity is not None and training_file is None:
            raise ValueError(
                f"{model_dir}: no {TRAINING_SMILES} (written by gnnkit mol train), so the "
                "similarity to the training set is unknown; drop --max-train-similarity"
            )
        _, several = reading_columns(featurizer, config.smiles_column, config.smiles_columns)
        single = config.smiles_column or next(iter(config.smiles_columns), None)
        stream = MoleculeStream(
            library,
            smiles_column=several[0] if several else single,
            chunk_size=config.chunk_size,
            preferred_columns=[c for c in [featurizer.get("smiles_column")] if c],
            reserved=("rank", REASON, SIMILARITY, NEAREST),
        )
        if several and stream.separator is None:
            raise ValueError(
                f"{library}: a .smi library holds one molecule per line, but the model in "
                f"{model_dir} reads {len(several)} per row (columns "
                f"{', '.join(map(repr, several))}); screen a CSV/TSV library with those columns"
            )
        molecule_columns = {name: stream.chunk_column(name) for name in several}
        task = ensemble.task
        target, _ = prediction_slot(task, config.target)
        parts = ensemble.prediction_parts()
        if config.rank_by != "mean" and config.rank_by not in parts:
            raise ValueError(
                f"--rank-by {config.rank_by} needs prediction intervals, and {model_dir} has "
                "none: train it with --calibration conformal or zscaling"
            )
        ranked = target if config.rank_by == "mean" else f"{target}_{config.rank_by}"
        rule = RankRule(output_name(ranked, stream.columns), config.ascending)
        training_smiles = (
            pd.read_csv(training_file, dtype={"smiles": str})["smiles"].tolist()
            if training_file is not None
            else None
        )
        columns = [
            "row",
            "smiles",
            *stream.input_columns,
            *prediction_column_names(task, parts, taken=stream.columns),
            *([SIMILARITY, NEAREST] if training_smiles is not None else []),
        ]
        return cls(config, ensemble, stream, rule, training_smiles, columns, molecule_columns)

    @property
    def featurizer(self) -> dict[str, Any]:
        return self.ensemble.featurizer

    @property
    def device(self) -> str:
        return default_device(self.config)

    def batch_size(self, device: str) -> int:
        """Molecules per forward pass on ``device``: the configured number, else by device."""
        return self.config.batch_size or BATCH_SIZES[torch.device(device).type]

    def top_k(self) -> TopK:
        """An empty top-K with this plan's ranking and novelty filter."""
        neighbours = (
            NearestNeighbours(self.training_smiles) if self.training_smiles is not None else None
        )
        return TopK(self.config.top_k, self.rule, neighbours, self.config.max_train_similarity)
