"""Training of molecule models: one per split and ensemble member, scored and recorded."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch

from gnnkit.data.molecules import MoleculeCSVDataset
from gnnkit.data.molecules.descriptors import descriptor_record
from gnnkit.data.splits import Split
from gnnkit.models import build_model
from gnnkit.train import fit, load_ensemble
from gnnkit.train.trainer import CHECKPOINT_DIR, LAST_CHECKPOINT
from gnnkit.workflows.molecules.config import (
    MODEL_FIELDS,
    MOLECULE_MODELS,
    TASKS,
    MoleculeTrainConfig,
)
from gnnkit.workflows.molecules.data import load_dataset, make_splits, split_parts
from gnnkit.workflows.molecules.runs import (
    check_run_folder,
    member_folders,
    run_record,
    split_folder,
    start_run,
)
from gnnkit.workflows.molecules.scoring import score_ensemble, summarise_folds


def train_molecules(config: MoleculeTrainConfig, out_dir: str | Path) -> dict[str, Any]:
    """Train ``config.model`` (D-MPNN or EGNN) and write the artefacts; returns the content of
    ``metrics.json``.

    One split: the run's folder holds the trainer's artefacts plus ``splits.json``. Several
    (k-fold or a ``splits.json`` with several entries): ``fold_k/`` per split and a top-level
    ``metrics.json`` with the mean and standard deviation of every test metric. An ensemble
    (``config.ensemble`` > 1): ``member_k/`` per model inside the split's folder, whose own
    ``metrics.json`` scores the ensemble's mean prediction (with each member's metrics under
    ``"members"``) and whose ``test_predictions.csv`` adds the members' spread. The training
    molecules of every split are listed in ``training_smiles.csv`` (for novelty filters).

    Before anything is written, the output folder is checked: a fresh run may not replace a
    run there, and ``config.train.resume`` continues one only with the data it was trained on
    (the SHA-256 of the data file and of the descriptor file) and the same settings (see
    :meth:`MoleculeTrainConfig.resume_conflicts`), all recorded in ``run.json`` with the model
    files the finished run holds. A run without ``run.json`` (written by an older gnnkit)
    cannot be checked, so it is not resumed. Folds and members that had not started when the
    run stopped start afresh.
    """
    out_dir = Path(out_dir)
    dataset = load_dataset(config)
    splits = make_splits(config, dataset)
    record = run_record(config, dataset, len(splits))
    check_run_folder(config, record, out_dir)
    start_run(record, dataset, splits, out_dir)
    runs = []
    for number, split in enumerate(splits):
        run_dir = out_dir / split_folder(number, len(splits))
        runs.append(_train_split(config, dataset, split, run_dir))
    if len(runs) == 1:
        return runs[0]
    summary = summarise_folds(runs)
    (out_dir / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _train_split(
    config: MoleculeTrainConfig, dataset: MoleculeCSVDataset, split: Split, out_dir: Path
) -> dict[str, Any]:
    """One model, or ``config.ensemble`` models in ``member_k/`` scored together."""
    if config.ensemble == 1:
        return train_one(config, dataset, split, out_dir)
    members = [
        train_one(
            replace(config, train=replace(config.train, seed=config.train.seed + k)),
            dataset,
            split,
            out_dir / folder,
        )
        for k, folder in enumerate(member_folders(config))
    ]
    return score_ensemble(
        load_ensemble(out_dir), split_parts(dataset, split), members, out_dir, config.train
    )


def train_one(
    config: MoleculeTrainConfig,
    dataset: MoleculeCSVDataset,
    split: Split,
    out_dir: Path,
    *,
    callbacks: Sequence[L.Callback] = (),
) -> dict[str, Any]:
    """One model trained on ``split`` into ``out_dir`` (with extra Lightning ``callbacks``);
    returns its metrics."""
    parts = split_parts(dataset, split)
    task = TASKS[config.task]
    n_tasks = len(dataset.task_names)
    n_classes = config.train.n_classes
    if task == "multiclass" and n_classes is None:
        n_classes = int(np.nanmax(dataset.y.numpy())) + 1
    uses_descriptors = config.descriptors is not None or config.descriptor_file is not None
    descriptor_dim = dataset.descriptors.size(1) if uses_descriptors else 0
    hparams = {
        "atom_dim": dataset.featurizer_config.atom_dim,
        "bond_dim": dataset.featurizer_config.bond_dim,
        "out_channels": n_tasks * (n_classes if task == "multiclass" else 1),
        **{name: getattr(config, name) for name in MODEL_FIELDS},
    }
    if MOLECULE_MODELS[config.model].descriptors:
        hparams["descriptor_dim"] = descriptor_dim
    torch.manual_seed(config.train.seed)
    model = build_model(config.model, hparams)
    if descriptor_dim:
        model.set_descriptor_scaling(torch.cat([g.descriptors for g in parts["train"]]))
    # A fold or member that had not started when a resumed run stopped starts afresh.
    resume = config.train.resume and (out_dir / CHECKPOINT_DIR / LAST_CHECKPOINT).is_file()
    train_config = replace(
        config.train, task_names=dataset.task_names, n_classes=n_classes, resume=resume
    )
    result = fit(
        model,
        parts["train"],
        parts["val"],
        parts["test"],
        train_config,
        out_dir,
        featurizer={
            **dataset.featurizer_config.to_dict(),
            **descriptor_record(config.descriptors or ("file" if config.descriptor_file else None)),
            "smiles_column": dataset.settings["smiles_column"],
        },
        callbacks=callbacks,
    )
    return result.metrics
