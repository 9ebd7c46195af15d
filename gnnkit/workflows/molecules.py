"""Molecular property prediction end to end: a molecule file → splits → model → artefacts.

Usage::

    from gnnkit.workflows.molecules import MoleculeTrainConfig, train_molecules, predict_molecules

    result = train_molecules(MoleculeTrainConfig(epochs=30, seed=0), "runs/chembl")
    print(result["test"]["rmse"])
    predict_molecules("runs/chembl", "new_molecules.csv", "predictions.csv")

Without ``data`` the embedded ChEMBL set (CHEMBL2321810, pIC50, shipped inside RDKit) is used.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import Data

from gnnkit.data.molecules import (
    FeaturizerConfig,
    MoleculeCSVDataset,
    write_invalid_rows,
)
from gnnkit.data.molecules.catalog import resolve_dataset
from gnnkit.data.molecules.dataset import InvalidRow
from gnnkit.data.molecules.descriptors import (
    DescriptorMismatchError,
    check_descriptor_record,
    descriptor_record,
    read_descriptor_file,
)
from gnnkit.data.molecules.inputs import PredictionInputs, featurizer_config, prediction_inputs
from gnnkit.data.molecules.table import read_molecule_table
from gnnkit.data.splits import (
    Split,
    k_fold_splits,
    random_split,
    read_splits,
    scaffold_split,
    stratified_split,
    write_splits,
)
from gnnkit.models import build_model, model_spec
from gnnkit.models.cascade import CASCADE_MODELS
from gnnkit.train import (
    CheckpointError,
    Ensemble,
    EnsemblePrediction,
    TrainConfig,
    TrainedModel,
    compute_metrics,
    fit,
    load_ensemble,
)
from gnnkit.train.artefacts import plot_parity, plot_roc, predictions_frame, write_json
from gnnkit.train.config import setting_changes
from gnnkit.train.data import find_id_key, graph_ids, stack_targets
from gnnkit.train.ensemble import MODEL_FILE, RUN_FILE, read_run_record
from gnnkit.train.tasks import Task
from gnnkit.train.trainer import (
    CHECKPOINT_DIR,
    LAST_CHECKPOINT,
    holds_checkpoints,
    run_exists_error,
)

TASKS = {"regression": "regression", "classification": "binary", "multiclass": "multiclass"}
TRAINING_SMILES = "training_smiles.csv"
MODEL_FIELDS = (
    "hidden_channels",
    "depth",
    "dropout",
    "aggregation",
    "ffn_hidden_channels",
    "ffn_layers",
)
#: Settings of :class:`MoleculeTrainConfig` that a resumed run may change: where the data
#: files are (their SHA-256 is compared instead), featurization processes, and ``train``
#: (compared by :meth:`~gnnkit.train.TrainConfig.resume_conflicts`).
RESUMABLE_SETTINGS = frozenset({"data", "descriptor_file", "workers", "train"})
#: Model folders of a run in any layout: one model, ensemble members, folds, both.
RUN_LAYOUTS = ("fold_*", "member_*", "fold_*/member_*")
#: Column that predictions of a partial run (``allow_partial``) add: the models used.
MODELS_USED = "models_used"


@dataclass(frozen=True, slots=True)
class MoleculeModel:
    """What ``mol train`` knows of a model: the width and depth it gets when none is given,
    whether it needs 3-D conformers, and whether it takes molecule descriptors."""

    hidden_channels: int
    depth: int
    conformers: bool
    descriptors: bool


#: The models ``mol train`` builds, by registered name. D-MPNN: chemprop's defaults. EGNN
#: (:class:`~gnnkit.models.egnn.MoleculeEGNN`): 128 wide and 4 deep, as its messages run over
#: all atom pairs (cost ∝ n_atoms² · width²); on ETKDG conformers; no descriptors.
MOLECULE_MODELS = {
    "dmpnn": MoleculeModel(hidden_channels=300, depth=3, conformers=False, descriptors=True),
    "egnn": MoleculeModel(hidden_channels=128, depth=4, conformers=True, descriptors=False),
}


@dataclass(slots=True)
class MoleculeTrainConfig:
    """Settings of :func:`train_molecules` (the ``gnnkit mol train`` options).

    Data: ``data`` (a file, a dataset name such as ``esol``, or ``None`` for the embedded
    ChEMBL set), ``smiles_column``, ``target_columns``, ``weight_column``, ``deduplicate``
    (rows holding the same molecule: ``"keep"`` them all, with a warning, each molecule's rows
    in one part of every split; ``"mean"`` merges them into one with the mean of their targets,
    regression only; ``"first"`` keeps the first; ``"error"`` refuses the file).
    Task and split: ``task`` (regression, classification, multiclass), ``split`` (random,
    scaffold, stratified), ``sizes``, ``splits_file`` (chemprop's ``splits.json``), ``folds``
    (k-fold cross-validation when ≥ 2; 1 or ``None``: one split by ``split``).
    Model: ``model`` (``"dmpnn"``, the D-MPNN on 2-D graphs, or ``"egnn"``, an E(3)-invariant
    EGNN on one ETKDG conformer per molecule, embedded with ``conformer_seed``; molecules that
    cannot be embedded are reported in ``invalid_smiles.csv``), ``hidden_channels`` and
    ``depth`` (``None``: the model's default, see :data:`MOLECULE_MODELS`), ``dropout``,
    ``aggregation``, ``ffn_hidden_channels``, ``ffn_layers`` (chemprop's defaults),
    ``descriptors`` (``rdkit2d`` or ``None``) or ``descriptor_file`` (numeric CSV, one row per
    data row; D-MPNN only), ``atom_features`` (``v2``, ``rich``).
    Training: ``train`` holds every :class:`~gnnkit.train.TrainConfig` setting (epochs 50,
    batch 64, no early stopping, as chemprop); ``workers`` featurization processes;
    ``ensemble`` models per split, trained with seeds ``seed, seed + 1, …`` on the same split
    (see :mod:`gnnkit.workflows.ensemble`).
    """

    data: str | None = None
    smiles_column: str | None = None
    target_columns: list[str] | None = None
    weight_column: str | None = None
    deduplicate: str = "keep"
    task: str = "regression"
    split: str = "random"
    sizes: tuple[float, float, float] = (0.8, 0.1, 0.1)
    splits_file: str | None = None
    folds: int | None = None
    model: str = "dmpnn"
    conformer_seed: int = 0
    hidden_channels: int | None = None
    depth: int | None = None
    dropout: float = 0.0
    aggregation: str = "norm"
    ffn_hidden_channels: int = 300
    ffn_layers: int = 1
    descriptors: str | None = None
    descriptor_file: str | None = None
    atom_features: str = "v2"
    workers: int = 1
    ensemble: int = 1
    train: TrainConfig = field(default_factory=lambda: TrainConfig(patience=None))

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)}, got {self.task!r}")
        if self.ensemble < 1:
            raise ValueError(f"ensemble must be at least 1, got {self.ensemble}")
        if self.folds is not None and self.folds < 1:
            raise ValueError(
                f"folds must be at least 1 (1: one split, k >= 2: k-fold), got {self.folds}"
            )
        if self.folds is not None and self.folds >= 2:
            if self.splits_file:
                raise ValueError(
                    "folds (--folds) and splits_file (--splits-file) both choose the splits; give "
                    "one (a splits file may hold several splits, trained like folds)"
                )
            if self.split == "scaffold":
                raise ValueError(
                    "k-fold cross-validation (--folds) assigns molecules to folds at random (by "
                    "class for classification), so it cannot follow split='scaffold' (--split "
                    "scaffold); drop one"
                )
        if self.deduplicate == "mean" and self.task != "regression":
            raise ValueError(
                "deduplicate='mean' averages the targets of a molecule's rows, which suits a "
                f"regression task, not {self.task}; use 'first' or 'error'"
            )
        if self.model not in MOLECULE_MODELS:
            raise ValueError(
                f"model must be one of {', '.join(MOLECULE_MODELS)}, got {self.model!r}"
            )
        spec = MOLECULE_MODELS[self.model]
        if not spec.descriptors and (self.descriptors or self.descriptor_file):
            raise ValueError(
                f"model {self.model!r} takes no molecule descriptors; use model='dmpnn' or drop "
                "descriptors / descriptor_file"
            )
        if self.hidden_channels is None:
            self.hidden_channels = spec.hidden_channels
        if self.depth is None:
            self.depth = spec.depth
        self.train.task = TASKS[self.task]
        self.train.validate()  # before the data are featurized, not after

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "train"}
        out["sizes"] = list(self.sizes)
        out["train"] = asdict(self.train)
        return out

    def resume_conflicts(self, saved: dict[str, Any]) -> list[str]:
        """Settings that differ from ``saved`` (a run's :meth:`to_dict`) and may not change on
        resume (see :data:`RESUMABLE_SETTINGS`)."""
        own = setting_changes(saved, self.to_dict(), RESUMABLE_SETTINGS)
        return own + self.train.resume_conflicts(saved.get("train", {}))


def load_dataset(config: MoleculeTrainConfig) -> MoleculeCSVDataset:
    """The dataset of ``config`` (its skipped rows in ``invalid_rows``)."""
    spec = resolve_dataset(config.data)
    return MoleculeCSVDataset(
        spec.path,
        smiles_column=config.smiles_column or spec.smiles_column,
        target_columns=config.target_columns or spec.target_columns,
        weight_column=config.weight_column,
        featurizer=FeaturizerConfig(
            atom_features=config.atom_features,
            conformers=MOLECULE_MODELS[config.model].conformers,
            conformer_seed=config.conformer_seed,
        ),
        descriptors=config.descriptors,
        descriptor_file=config.descriptor_file,
        workers=config.workers,
        deduplicate=config.deduplicate,
    )


def make_splits(config: MoleculeTrainConfig, dataset: MoleculeCSVDataset) -> list[Split]:
    """Splits of the dataset's graphs (positions in the dataset), from the file or the rule."""
    rows = dataset.rows()
    if config.splits_file:
        position_of_row = {int(row): position for position, row in enumerate(rows)}
        n_rows = len(dataset.table.smiles)
        splits = []
        for split in read_splits(config.splits_file, n_rows):
            parts = [
                [position_of_row[r] for r in part if r in position_of_row]
                for part in (split.train, split.val, split.test)
            ]
            splits.append(Split(*parts))
        return splits
    n = len(dataset)
    labels = _stratification_labels(dataset) if config.task != "regression" else None
    groups = dataset.molecule_keys  # a molecule's rows stay in one part
    if config.folds and config.folds >= 2:
        return k_fold_splits(n, config.folds, seed=config.train.seed, labels=labels, groups=groups)
    if config.split == "scaffold":
        return [scaffold_split(dataset._data.smiles, config.sizes, config.train.seed)]
    if config.split == "stratified":
        if labels is None:
            raise ValueError("a stratified split needs a classification or multiclass task")
        return [stratified_split(labels, config.sizes, config.train.seed, groups)]
    if config.split != "random":
        raise ValueError(f"split must be random, scaffold or stratified, got {config.split!r}")
    return [random_split(n, config.sizes, config.train.seed, groups)]


def _stratification_labels(dataset: MoleculeCSVDataset) -> list[tuple]:
    y = dataset._data.y.numpy()
    return [tuple("nan" if np.isnan(v) else int(v) for v in row) for row in y]


def rows_split(split: Split, rows: np.ndarray) -> Split:
    """A split of dataset positions as file rows (what ``splits.json`` stores)."""
    return Split(*[[int(rows[i]) for i in part] for part in (split.train, split.val, split.test)])


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


def split_folder(number: int, n_splits: int) -> Path:
    """The folder of split ``number``, relative to the run's: the run's own, or ``fold_k``."""
    return Path() if n_splits == 1 else Path(f"fold_{number}")


def member_folders(config: MoleculeTrainConfig) -> list[Path]:
    """The folders of a split's models, relative to the split's: its own, or ``member_k``."""
    if config.ensemble == 1:
        return [Path()]
    return [Path(f"member_{k}") for k in range(config.ensemble)]


def model_folders(config: MoleculeTrainConfig, n_splits: int) -> list[Path]:
    """The folders, relative to the run's, in which the run trains its models."""
    return [
        split_folder(number, n_splits) / member
        for number in range(n_splits)
        for member in member_folders(config)
    ]


def run_record(
    config: MoleculeTrainConfig, dataset: MoleculeCSVDataset, n_splits: int
) -> dict[str, Any]:
    """What ``run.json`` records: the input files (path and SHA-256), the settings and the
    model files of the finished run (see :func:`~gnnkit.train.ensemble.planned_model_files`)."""
    descriptors = dataset.settings["descriptor_file_sha256"]
    return {
        "files": {
            "data": {"path": str(dataset.path), "sha256": dataset.settings["file_sha256"]},
            "descriptor_file": (
                {"path": str(config.descriptor_file), "sha256": descriptors}
                if descriptors
                else None
            ),
        },
        "config": config.to_dict(),
        "models": [(folder / MODEL_FILE).as_posix() for folder in model_folders(config, n_splits)],
    }


def check_run_folder(config: MoleculeTrainConfig, record: dict[str, Any], out_dir: Path) -> None:
    """Refuse a fresh run into a folder holding a run (any layout), and a resumed run of none,
    of one without ``run.json``, or on other files or settings than its ``run.json`` records
    (see :func:`train_molecules`)."""
    candidates = [out_dir, *sorted(p for layout in RUN_LAYOUTS for p in out_dir.glob(layout))]
    held = [folder for folder in candidates if holds_checkpoints(folder)]
    if not config.train.resume:
        if held:
            raise run_exists_error(out_dir, held[0])
        return
    if not held:
        raise FileNotFoundError(
            f"resume=True but {out_dir} holds no run to continue (no {CHECKPOINT_DIR}/ with a "
            "checkpoint); start the run without resume"
        )
    saved = read_run_record(out_dir)
    if saved is None:
        raise ValueError(
            f"cannot resume {out_dir}: it has no {RUN_FILE} (a run of an older gnnkit), so "
            "the data and settings it was trained with cannot be checked; train it again in "
            "another folder"
        )
    _check_same_files(out_dir, saved.get("files", {}), record["files"])
    conflicts = config.resume_conflicts(saved.get("config", {}))
    if conflicts:
        raise ValueError(f"cannot resume {out_dir} with different settings: {'; '.join(conflicts)}")


def _check_same_files(out_dir: Path, saved: dict[str, Any], current: dict[str, Any]) -> None:
    """Refuse to resume on input files (by SHA-256) other than those the run was trained on."""

    def describe(file: dict[str, str] | None) -> str:
        return f"{file['path']} (sha256 {file['sha256']})" if file else "none"

    for name, now in current.items():
        before = saved.get(name)
        if (before or {}).get("sha256") != (now or {}).get("sha256"):
            raise ValueError(
                f"cannot resume {out_dir}: it was trained with {name.replace('_', ' ')} "
                f"{describe(before)}, not {describe(now)}; resume with the files it was trained "
                "with, or choose another output folder"
            )


def start_run(
    record: dict[str, Any], dataset: MoleculeCSVDataset, splits: list[Split], out_dir: Path
) -> None:
    """Write what a run holds before training: ``run.json``, ``splits.json``, the training
    SMILES and, if rows were skipped, ``invalid_smiles.csv``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / RUN_FILE, record)
    write_splits([rows_split(s, dataset.rows()) for s in splits], out_dir / "splits.json")
    write_training_smiles(dataset, splits, out_dir / TRAINING_SMILES)
    if dataset.invalid_rows:
        write_invalid_rows(dataset.invalid_rows, out_dir / "invalid_smiles.csv")


def write_training_smiles(dataset: MoleculeCSVDataset, splits: list[Split], path: Path) -> None:
    """``row,smiles`` of every molecule in a training part of ``splits`` (file row order)."""
    positions = sorted({p for split in splits for p in split.train})
    smiles = dataset._data.smiles
    rows = dataset.rows()
    pd.DataFrame(
        {"row": [int(rows[p]) for p in positions], "smiles": [smiles[p] for p in positions]}
    ).to_csv(path, index=False)


def split_parts(dataset: MoleculeCSVDataset, split: Split) -> dict[str, MoleculeCSVDataset]:
    """``{"train", "val", "test"}`` → the dataset's graphs of that part (none may be empty)."""
    parts = {
        name: dataset[part]
        for name, part in zip(("train", "val", "test"), (split.train, split.val, split.test))
    }
    for name, part in parts.items():
        if len(part) == 0:
            raise ValueError(f"the {name} split is empty: use more data or other split sizes")
    return parts


def _train_split(
    config: MoleculeTrainConfig, dataset: MoleculeCSVDataset, split: Split, out_dir: Path
) -> dict[str, Any]:
    """One model, or ``config.ensemble`` models in ``member_k/`` scored together."""
    if config.ensemble == 1:
        return _train_one(config, dataset, split, out_dir)
    members = [
        _train_one(
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


def score_ensemble(
    ensemble: Ensemble,
    parts: dict[str, MoleculeCSVDataset],
    member_metrics: list[dict[str, Any]],
    out_dir: Path,
    train_config: TrainConfig,
) -> dict[str, Any]:
    """Metrics of the ensemble's mean prediction on every part, written with the test
    predictions (mean and spread) and the parity or ROC plot to ``out_dir``."""
    task = ensemble.task
    metrics: dict[str, Any] = {
        "task": task.kind,
        "tasks": list(task.names),
        "ensemble": len(ensemble),
        "splits": {name: len(graphs) for name, graphs in parts.items()},
        "seed": train_config.seed,
    }
    predictions = {
        name: ensemble.predict(graphs, batch_size=train_config.batch_size)
        for name, graphs in parts.items()
    }
    for name, graphs in parts.items():
        metrics[name] = compute_metrics(task, predictions[name].mean, stack_targets(graphs))
    metrics["members"] = member_metrics
    write_json(out_dir / "metrics.json", metrics)
    test, prediction = parts["test"], predictions["test"]
    target = stack_targets(test)
    ids = graph_ids(test, find_id_key(test, train_config.id_key))
    predictions_frame(task, ids, prediction.mean, target, prediction.std).to_csv(
        out_dir / "test_predictions.csv", index=False
    )
    if task.kind == "regression":
        plot_parity(out_dir / "parity.png", task, prediction.mean, target)
    else:
        plot_roc(out_dir / "roc.png", task, prediction.mean, target)
    return metrics


def _train_one(
    config: MoleculeTrainConfig, dataset: MoleculeCSVDataset, split: Split, out_dir: Path
) -> dict[str, Any]:
    parts = split_parts(dataset, split)
    task = TASKS[config.task]
    n_tasks = len(dataset.task_names)
    n_classes = config.train.n_classes
    if task == "multiclass" and n_classes is None:
        n_classes = int(np.nanmax(dataset._data.y.numpy())) + 1
    uses_descriptors = config.descriptors is not None or config.descriptor_file is not None
    descriptor_dim = dataset._data.descriptors.size(1) if uses_descriptors else 0
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
    )
    return result.metrics


def summarise_folds(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and standard deviation over folds of every averaged test, val and train metric."""
    summary: dict[str, Any] = {"task": runs[0]["task"], "folds": len(runs)}
    for part in ("train", "val", "test"):
        names = [k for k, v in runs[0][part].items() if isinstance(v, (int, float)) or v is None]
        summary[part] = {}
        for name in names:
            values = [run[part][name] for run in runs if run[part].get(name) is not None]
            summary[part][name] = (
                {
                    "mean": float(np.mean(values)),
                    "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
                }
                if values
                else None
            )
    summary["per_fold"] = runs
    return summary


def featurize_for_prediction(
    smiles: list[str],
    featurizer: dict[str, Any],
    workers: int = 1,
    descriptor_rows: np.ndarray | None = None,
) -> tuple[list[Data], np.ndarray, list[tuple[int, str]]]:
    """Graphs of the SMILES that parse (and, for a model trained on conformers, embed: then
    each graph has ``pos``), their positions, and ``(position, reason)`` of those that do not
    (see :func:`~gnnkit.data.molecules.inputs.prediction_inputs`, which hands the same
    molecules over as batches)."""
    inputs = prediction_inputs(smiles, featurizer, workers, descriptor_rows)
    return inputs.graphs(), inputs.positions, inputs.failures


def check_molecule_model(trained: TrainedModel, source: Path) -> None:
    """Raise :class:`~gnnkit.train.CheckpointError` naming ``source`` unless it holds a
    molecule model whose featurizer makes the atom and bond features its weights expect, and
    whose RDKit descriptors (if any) the installed RDKit computes."""
    spec = model_spec(trained.model)
    if spec.name not in MOLECULE_MODELS:
        kind = "a cascade model" if spec.name in CASCADE_MODELS else "a model"
        raise CheckpointError(
            f"{source} is {kind} ({spec.name}), not a molecule model ({', '.join(MOLECULE_MODELS)})"
        )
    featurizer = featurizer_config(trained.featurizer or {})
    for part, width in (("atom", featurizer.atom_dim), ("bond", featurizer.bond_dim)):
        expected = spec.hparams.get(f"{part}_dim")
        if expected is not None and expected != width:
            raise CheckpointError(
                f"{source}: its featurizer ({featurizer.atom_features!r} atom features) gives "
                f"{width} {part} features but the weights expect {expected}"
            )
    _check_descriptors(trained, spec.hparams.get("descriptor_dim"), source)


def _check_descriptors(trained: TrainedModel, width: int | None, source: Path) -> None:
    """:func:`~gnnkit.data.molecules.descriptors.check_descriptor_record` for a checkpoint:
    a mismatch is a :class:`~gnnkit.train.CheckpointError` naming ``source``, a warning goes
    to stderr."""
    try:
        warning = check_descriptor_record(trained.featurizer or {}, width)
    except DescriptorMismatchError as error:
        raise CheckpointError(f"{source}: {error}") from error
    if warning:
        print(f"warning: {source}: {warning}", file=sys.stderr)


def load_molecule_ensemble(model_dir: str | Path, allow_partial: bool = False) -> Ensemble:
    """The models of a molecule run (see :func:`~gnnkit.train.load_ensemble`), each checked
    by :func:`check_molecule_model`."""
    ensemble = load_ensemble(model_dir, allow_partial=allow_partial)
    for member, source in zip(ensemble.members, ensemble.sources):
        check_molecule_model(member, source)
    return ensemble


def _featurize_file(
    ensemble: Ensemble,
    data: str | Path,
    smiles_column: str | None,
    descriptor_file: str | Path | None,
    workers: int,
) -> tuple[Any, PredictionInputs]:
    """The table of ``data`` and its molecules featurized as the ensemble's training molecules
    were (see :func:`~gnnkit.data.molecules.inputs.prediction_inputs`)."""
    featurizer = ensemble.featurizer
    table = read_molecule_table(
        data, smiles_column=smiles_column or featurizer.get("smiles_column"), target_columns=[]
    )
    rows = len(table.smiles)
    descriptor_rows = read_descriptor_file(descriptor_file, rows) if descriptor_file else None
    return table, prediction_inputs(table.smiles, featurizer, workers, descriptor_rows)


def _report_invalid(table: Any, failures: list[tuple[int, str]], data: Any, out: Path) -> None:
    """``invalid_smiles.csv`` beside ``out`` and a count on stderr, when rows failed; else no
    ``invalid_smiles.csv`` (one from an earlier output is removed)."""
    (out.parent / "invalid_smiles.csv").unlink(missing_ok=True)
    if not failures:
        return
    invalid = [
        InvalidRow(i, table.line_of_row(i), table.smiles[i], reason) for i, reason in failures
    ]
    write_invalid_rows(invalid, out.parent / "invalid_smiles.csv")
    print(
        f"{data}: {len(failures)} of {len(table.smiles)} rows could not be featurized (RDKit "
        f"rejects the SMILES, or cannot embed a conformer); they have no output (see "
        f"{out.parent / 'invalid_smiles.csv'} for each row's reason)",
        file=sys.stderr,
    )


def predict_molecules(
    model_dir: str | Path,
    data: str | Path,
    out: str | Path,
    *,
    smiles_column: str | None = None,
    descriptor_file: str | Path | None = None,
    workers: int = 1,
    batch_size: int = 256,
    mc_dropout: int = 0,
    seed: int = 0,
    allow_partial: bool = False,
) -> pd.DataFrame:
    """Predict every row of ``data`` with the model(s) in ``model_dir``.

    ``model_dir`` is a run folder of one model, an ensemble or cross-validation folds (see
    :func:`~gnnkit.workflows.ensemble.load_ensemble`); several models predict their mean. The
    output CSV keeps the input columns and adds one column per target (named after the target,
    with ``_pred`` appended if the input already has that column; multiclass adds one
    probability column per class), and a ``_std`` column after each when there are several
    samples per molecule (an ensemble, or ``mc_dropout`` passes per model, drawn after
    ``torch.manual_seed(seed)``). Rows whose SMILES RDKit rejects get empty predictions and are
    listed in ``invalid_smiles.csv`` beside ``out``.

    A run whose training stopped before every fold or member was trained is refused; with
    ``allow_partial`` its trained models predict, a warning goes to stderr and the output gets
    a :data:`MODELS_USED` column holding their number.
    """
    ensemble = load_molecule_ensemble(model_dir, allow_partial)
    table, inputs = _featurize_file(ensemble, data, smiles_column, descriptor_file, workers)
    torch.manual_seed(seed)
    prediction = ensemble.predict(inputs.batches(batch_size), mc_samples=mc_dropout)
    frame = add_prediction_columns(table.frame, ensemble.task, prediction, inputs.positions)
    if ensemble.missing:
        frame[output_name(MODELS_USED, frame.columns)] = len(ensemble)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    _report_invalid(table, inputs.failures, data, out)
    return frame


def _prediction_slots(task: Task) -> list[tuple[str, tuple[slice | int, ...]]]:
    """``(column, index into a [B, T] or [B, T, C] prediction)``: one per target, or per
    target and class (multiclass)."""
    slots: list[tuple[str, tuple[slice | int, ...]]] = []
    for t, name in enumerate(task.names):
        if task.kind == "multiclass":
            slots += [(f"{name}_class{c}", (slice(None), t, c)) for c in range(task.n_classes)]
        else:
            slots.append((name, (slice(None), t)))
    return slots


def prediction_columns(task: Task, prediction: EnsemblePrediction) -> dict[str, np.ndarray]:
    """Column name → values: one per target, or per target and class (multiclass), each
    followed by its ``_std`` column when the prediction has a spread."""
    columns: dict[str, np.ndarray] = {}
    for column, index in _prediction_slots(task):
        columns[column] = prediction.mean[index].numpy()
        if prediction.std is not None:
            columns[f"{column}_std"] = prediction.std[index].numpy()
    return columns


def prediction_column_names(task: Task, spread: bool, taken: Iterable[str] = ()) -> list[str]:
    """The names of :func:`prediction_columns` (with ``_std`` columns when ``spread``) as
    written beside input columns: a name in ``taken`` gets ``_pred`` appended."""
    taken = set(taken)
    names = [
        name
        for column, _ in _prediction_slots(task)
        for name in (column, *([f"{column}_std"] if spread else []))
    ]
    return [output_name(name, taken) for name in names]


def output_name(name: str, taken: Collection[str]) -> str:
    """``name`` for an output column beside input columns ``taken``: with ``_pred`` appended
    when an input column has it."""
    return f"{name}_pred" if name in taken else name


def add_prediction_columns(
    frame: pd.DataFrame, task: Task, prediction: EnsemblePrediction, positions: np.ndarray
) -> pd.DataFrame:
    """A copy of ``frame`` (one row per input row) with the :func:`prediction_columns` of the
    rows at ``positions`` (in order), NaN in the other rows; named by
    :func:`prediction_column_names` with ``frame``'s columns taken."""
    out = frame.copy()
    columns = prediction_columns(task, prediction)
    names = prediction_column_names(task, prediction.std is not None, frame.columns)
    for name, values in zip(names, columns.values()):
        filled = np.full(len(frame), np.nan)
        filled[positions] = values
        out[name] = filled
    return out


def fingerprint_molecules(
    model_dir: str | Path,
    data: str | Path,
    out: str | Path,
    *,
    layer: str = "aggregate",
    member: int = 0,
    smiles_column: str | None = None,
    descriptor_file: str | Path | None = None,
    workers: int = 1,
    batch_size: int = 256,
    allow_partial: bool = False,
) -> pd.DataFrame:
    """Learned fingerprints of every valid row of ``data``: one model's molecule vector
    (``layer`` ``"aggregate"`` or ``"penultimate"``, see
    :meth:`~gnnkit.workflows.ensemble.Ensemble.fingerprints`), ``[rows, F]``.

    ``out`` ending in ``.csv`` gets columns ``row`` (0-based data row), ``smiles`` and
    ``fp_0 … fp_{F-1}``; ending in ``.npy`` it gets the float32 matrix, and ``<stem>.rows.csv``
    beside it the ``row`` and ``smiles`` of each of its rows. Invalid rows are left out and
    listed in ``invalid_smiles.csv`` beside ``out``. Returns the ``row``/``smiles`` table (with
    the ``fp_k`` columns). ``allow_partial``: as in :func:`predict_molecules`.
    """
    out = Path(out)
    if out.suffix not in (".csv", ".npy"):
        raise ValueError(f"{out}: the fingerprint file must end in .csv or .npy")
    ensemble = load_molecule_ensemble(model_dir, allow_partial)
    table, inputs = _featurize_file(ensemble, data, smiles_column, descriptor_file, workers)
    positions = inputs.positions
    vectors = ensemble.fingerprints(inputs.batches(batch_size), layer=layer, member=member).numpy()
    index = pd.DataFrame({"row": positions, "smiles": [table.smiles[p] for p in positions]})
    frame = pd.concat(
        [index, pd.DataFrame(vectors, columns=[f"fp_{k}" for k in range(vectors.shape[1])])],
        axis=1,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npy":
        np.save(out, vectors.astype(np.float32))
        index.to_csv(out.with_suffix(".rows.csv"), index=False)
    else:
        frame.to_csv(out, index=False)
    _report_invalid(table, inputs.failures, data, out)
    return frame
