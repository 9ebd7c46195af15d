"""Small ensembles trained on a sample of the embedded ChEMBL set, for the workflow tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from gnnkit.data.molecules.catalog import embedded_chembl
from gnnkit.train import TrainConfig
from gnnkit.workflows.molecules import MoleculeTrainConfig, train_molecules


def train_chembl_sample(root: Path, rows: int, train: TrainConfig, **model: Any) -> Path:
    """Train on ``rows`` molecules of the embedded ChEMBL set (sampled with seed 0), pIC50
    target, with ``model`` settings of :class:`MoleculeTrainConfig`; returns the run folder."""
    data = root / f"chembl{rows}.csv"
    pd.read_csv(embedded_chembl().path).sample(rows, random_state=0).to_csv(data, index=False)
    config = MoleculeTrainConfig(data=str(data), target_columns=["pIC50"], train=train, **model)
    train_molecules(config, root / "run")
    return root / "run"
