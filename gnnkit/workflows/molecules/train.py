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
from gnnkit.train import EnsemblePrediction, Task, fit, load_ensemble
from gnnkit.train.calibration import fit_calibration, write_calibration
from gnnkit.train.data import stack_targets
from gnnkit.train.losses import PARAMETERS
from gnnkit.train.trainer import CHECKPOINT_DIR, LAST_CHECKPOINT
from gnnkit.workflows.molecules.config import (
    MODEL_FIELDS,
    MOLECULE_MODELS,
    TASKS,
    MoleculeTrainConfig,
)
from gnnkit.workflows.molecules.data import load_dataset, make_splits, split_parts
from gnnkit.workflows.molecules.finetune import InitSource, initialise, prepare_init
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

    With ``config.init_from`` every model starts from the weights of a trained model (see
    :mod:`~gnnkit.workflows.molecules.finetune`), recorded under ``"init_from"`` in
    ``metrics.json`` and, with the source file's SHA-256, in ``run.json``.
    """
    out_dir = Path(out_dir)
    config, source = prepare_init(config)
    dataset = load_dataset(config)
    splits = make_splits(config, dataset)
    record = run_record(config, dataset, len(splits), source)
    check_run_folder(config, record, out_dir)
    start_run(record, dataset, splits, out_dir)
    runs, validations = [], []
    for number, split in enumerate(splits):
        run_dir = out_dir / split_folder(number, len(splits))
        metrics, validation = _train_split(config, dataset, split, run_dir, source)
        runs.append(metrics)
        validations.append(validation)
    if len(runs) == 1 and (config.ensemble == 1 or source is None):
        return runs[0]  # one model's metrics.json records its source itself
    summary = runs[0] if len(runs) == 1 else summarise_folds(runs)
    if len(runs) > 1 and config.calibration != "none":
        _calibrate_folds(config, validations, out_dir)
        summary["calibration"] = runs[0]["calibration"] | {"fitted_on": "val of every fold"}
    if source is not None:
        summary["init_from"] = source.record(config)
    (out_dir / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


#: A split's uncalibrated validation prediction, targets and the task (``None`` without
#: calibration).
Validation = tuple[EnsemblePrediction, torch.Tensor, Task] | None


def _train_split(
    config: MoleculeTrainConfig,
    dataset: MoleculeCSVDataset,
    split: Split,
    out_dir: Path,
    source: InitSource | None = None,
) -> tuple[dict[str, Any], Validation]:
    """One model, or ``config.ensemble`` models in ``member_k/`` scored together, each
    starting from ``source``'s weights when given; calibrated on the validation part when
    ``config.calibration`` is set."""
    parts = split_parts(dataset, split)
    if config.ensemble == 1:
        header = train_one(config, dataset, split, out_dir, source)
        if config.calibration == "none":
            return header, None
    else:
        members = [
            train_one(
                replace(config, train=replace(config.train, seed=config.train.seed + k)),
                dataset,
                split,
                out_dir / folder,
                source,
            )
            for k, folder in enumerate(member_folders(config))
        ]
        header = {
            "task": members[0]["task"],
            "tasks": members[0]["tasks"],
            "ensemble": len(members),
            "splits": {name: len(graphs) for name, graphs in parts.items()},
            "seed": config.train.seed,
            "members": members,
        }
    ensemble = load_ensemble(out_dir)
    ensemble.calibration = None  # refitted below (a resumed run may hold an earlier one)
    predictions = {
        name: ensemble.predict(graphs, batch_size=config.train.batch_size)
        for name, graphs in parts.items()
    }
    validation: Validation = None
    if config.calibration != "none":
        target = stack_targets(parts["val"])
        calibration = fit_calibration(
            config.calibration, ensemble.task, predictions["val"], target, config.alpha
        )
        write_calibration(calibration, out_dir)
        validation = (predictions["val"], target, ensemble.task)
        ensemble.calibration = calibration
        predictions = {name: calibration.apply(p) for name, p in predictions.items()}
    return score_ensemble(ensemble, parts, predictions, out_dir, config.train, header), validation


def _calibrate_folds(
    config: MoleculeTrainConfig, validations: list[Validation], out_dir: Path
) -> None:
    """The run folder's calibration for the folds' ensemble: fitted on every fold's
    validation prediction (each by its own fold's models), pooled."""
    fitted = [validation for validation in validations if validation is not None]
    predictions = [prediction for prediction, _, _ in fitted]
    pooled = EnsemblePrediction(
        torch.cat([p.mean for p in predictions]),
        torch.cat([p.std for p in predictions]) if predictions[0].std is not None else None,
    )
    target = torch.cat([target for _, target, _ in fitted])
    task = fitted[0][2]
    write_calibration(
        fit_calibration(config.calibration, task, pooled, target, config.alpha), out_dir
    )


def train_one(
    config: MoleculeTrainConfig,
    dataset: MoleculeCSVDataset,
    split: Split,
    out_dir: Path,
    source: InitSource | None = None,
    *,
    callbacks: Sequence[L.Callback] = (),
) -> dict[str, Any]:
    """One model trained on ``split`` into ``out_dir`` (with extra Lightning ``callbacks``);
    returns its metrics."""
    parts = split_parts(dataset, split)
    task = TASKS[config.task]
    n_tasks = len(dataset.task_names)
    n_classes = config.train.n_classes
    class_names = dataset.class_names
    if class_names is not None:
        n_classes = len(class_names)
    elif task == "multiclass" and n_classes is None:
        n_classes = int(np.nanmax(dataset.y.numpy())) + 1
    uses_descriptors = config.descriptors is not None or config.descriptor_file is not None
    descriptor_dim = dataset.descriptors.size(1) if uses_descriptors else 0
    hparams = {
        "atom_dim": dataset.featurizer_config.atom_dim,
        "bond_dim": dataset.featurizer_config.bond_dim,
        # outputs per task: classes, or the parameters of the regression head
        "out_channels": n_tasks
        * (n_classes if task == "multiclass" else PARAMETERS[config.train.loss]),
        **{name: getattr(config, name) for name in MODEL_FIELDS},
    }
    if MOLECULE_MODELS[config.model].descriptors:
        hparams["descriptor_dim"] = descriptor_dim
    columns = config.molecule_columns
    if columns:
        hparams.update(n_components=len(columns), shared_encoder=config.shared_encoder)
    torch.manual_seed(config.train.seed)
    model = build_model(config.model, hparams)
    if descriptor_dim:
        model.set_descriptor_scaling(torch.cat([g.descriptors for g in parts["train"]]))
    extra = {"init_from": initialise(model, source, config)} if source is not None else None
    # A fold or member that had not started when a resumed run stopped starts afresh.
    resume = config.train.resume and (out_dir / CHECKPOINT_DIR / LAST_CHECKPOINT).is_file()
    train_config = replace(
        config.train,
        task_names=dataset.task_names,
        n_classes=n_classes,
        class_names=class_names,
        resume=resume,
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
            **({"smiles_columns": columns} if columns else {}),
        },
        extra_metrics=extra,
        callbacks=callbacks,
    )
    return result.metrics
