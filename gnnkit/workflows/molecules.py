"""Molecular property prediction end to end: a molecule file → splits → D-MPNN → artefacts.

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
    MoleculeFeaturizer,
    write_invalid_rows,
)
from gnnkit.data.molecules.catalog import resolve_dataset
from gnnkit.data.molecules.dataset import InvalidRow
from gnnkit.data.molecules.descriptors import compute_descriptors, read_descriptor_file
from gnnkit.data.molecules.featurizer import reverse_edges
from gnnkit.data.molecules.graph import MoleculeGraph
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
from gnnkit.models import build_model
from gnnkit.train import TrainConfig, fit, load_model

TASKS = {"regression": "regression", "classification": "binary", "multiclass": "multiclass"}
MODEL_FIELDS = (
    "hidden_channels",
    "depth",
    "dropout",
    "aggregation",
    "ffn_hidden_channels",
    "ffn_layers",
)


@dataclass(slots=True)
class MoleculeTrainConfig:
    """Settings of :func:`train_molecules` (the ``gnnkit mol train`` options).

    Data: ``data`` (a file, a dataset name such as ``esol``, or ``None`` for the embedded
    ChEMBL set), ``smiles_column``, ``target_columns``, ``weight_column``.
    Task and split: ``task`` (regression, classification, multiclass), ``split`` (random,
    scaffold, stratified), ``sizes``, ``splits_file`` (chemprop's ``splits.json``), ``folds``
    (k-fold cross-validation when ≥ 2).
    Model (chemprop's defaults): ``hidden_channels``, ``depth``, ``dropout``, ``aggregation``,
    ``ffn_hidden_channels``, ``ffn_layers``, ``descriptors`` (``rdkit2d`` or ``None``) or
    ``descriptor_file`` (numeric CSV, one row per data row), ``atom_features`` (``v2``, ``rich``).
    Training: ``train`` holds every :class:`~gnnkit.train.TrainConfig` setting (epochs 50,
    batch 64, no early stopping, as chemprop); ``workers`` featurization processes.
    """

    data: str | None = None
    smiles_column: str | None = None
    target_columns: list[str] | None = None
    weight_column: str | None = None
    task: str = "regression"
    split: str = "random"
    sizes: tuple[float, float, float] = (0.8, 0.1, 0.1)
    splits_file: str | None = None
    folds: int | None = None
    hidden_channels: int = 300
    depth: int = 3
    dropout: float = 0.0
    aggregation: str = "norm"
    ffn_hidden_channels: int = 300
    ffn_layers: int = 1
    descriptors: str | None = None
    descriptor_file: str | None = None
    atom_features: str = "v2"
    workers: int = 1
    train: TrainConfig = field(default_factory=lambda: TrainConfig(patience=None))

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)}, got {self.task!r}")
        self.train.task = TASKS[self.task]

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "train"}
        out["sizes"] = list(self.sizes)
        out["train"] = asdict(self.train)
        return out


def load_dataset(config: MoleculeTrainConfig, out_dir: Path) -> MoleculeCSVDataset:
    """The dataset of ``config``; writes ``invalid_smiles.csv`` to ``out_dir`` if rows were
    skipped."""
    spec = resolve_dataset(config.data)
    dataset = MoleculeCSVDataset(
        spec.path,
        smiles_column=config.smiles_column or spec.smiles_column,
        target_columns=config.target_columns or spec.target_columns,
        weight_column=config.weight_column,
        featurizer=FeaturizerConfig(atom_features=config.atom_features),
        descriptors=config.descriptors,
        descriptor_file=config.descriptor_file,
        workers=config.workers,
    )
    if dataset.invalid_rows:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_invalid_rows(dataset.invalid_rows, out_dir / "invalid_smiles.csv")
    return dataset


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
    if config.folds and config.folds >= 2:
        return k_fold_splits(n, config.folds, seed=config.train.seed, labels=labels)
    if config.split == "scaffold":
        return [scaffold_split(dataset._data.smiles, config.sizes, config.train.seed)]
    if config.split == "stratified":
        if labels is None:
            raise ValueError("a stratified split needs a classification or multiclass task")
        return [stratified_split(labels, config.sizes, config.train.seed)]
    if config.split != "random":
        raise ValueError(f"split must be random, scaffold or stratified, got {config.split!r}")
    return [random_split(n, config.sizes, config.train.seed)]


def _stratification_labels(dataset: MoleculeCSVDataset) -> list[tuple]:
    y = dataset._data.y.numpy()
    return [tuple("nan" if np.isnan(v) else int(v) for v in row) for row in y]


def rows_split(split: Split, rows: np.ndarray) -> Split:
    """A split of dataset positions as file rows (what ``splits.json`` stores)."""
    return Split(*[[int(rows[i]) for i in part] for part in (split.train, split.val, split.test)])


def train_molecules(config: MoleculeTrainConfig, out_dir: str | Path) -> dict[str, Any]:
    """Train D-MPNN(s) and write the artefacts; returns the content of ``metrics.json``.

    One split: the run's folder holds the trainer's artefacts plus ``splits.json``. Several
    (k-fold or a ``splits.json`` with several entries): ``fold_k/`` per split and a top-level
    ``metrics.json`` with the mean and standard deviation of every test metric.
    """
    out_dir = Path(out_dir)
    dataset = load_dataset(config, out_dir)
    splits = make_splits(config, dataset)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_splits([rows_split(s, dataset.rows()) for s in splits], out_dir / "splits.json")
    runs = []
    for number, split in enumerate(splits):
        run_dir = out_dir if len(splits) == 1 else out_dir / f"fold_{number}"
        runs.append(_train_one(config, dataset, split, run_dir))
    if len(runs) == 1:
        return runs[0]
    summary = summarise_folds(runs)
    (out_dir / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _train_one(
    config: MoleculeTrainConfig, dataset: MoleculeCSVDataset, split: Split, out_dir: Path
) -> dict[str, Any]:
    parts = {
        name: dataset[part]
        for name, part in zip(("train", "val", "test"), (split.train, split.val, split.test))
    }
    for name, part in parts.items():
        if len(part) == 0:
            raise ValueError(f"the {name} split is empty: use more data or other split sizes")
    task = TASKS[config.task]
    n_tasks = len(dataset.task_names)
    n_classes = config.train.n_classes
    if task == "multiclass" and n_classes is None:
        n_classes = int(np.nanmax(dataset._data.y.numpy())) + 1
    uses_descriptors = config.descriptors is not None or config.descriptor_file is not None
    descriptor_dim = dataset._data.descriptors.size(1) if uses_descriptors else 0
    torch.manual_seed(config.train.seed)
    model = build_model(
        "dmpnn",
        {
            "atom_dim": dataset.featurizer_config.atom_dim,
            "bond_dim": dataset.featurizer_config.bond_dim,
            "out_channels": n_tasks * (n_classes if task == "multiclass" else 1),
            "descriptor_dim": descriptor_dim,
            **{name: getattr(config, name) for name in MODEL_FIELDS},
        },
    )
    if descriptor_dim:
        model.set_descriptor_scaling(torch.cat([g.descriptors for g in parts["train"]]))
    train_config = replace(config.train, task_names=dataset.task_names, n_classes=n_classes)
    result = fit(
        model,
        parts["train"],
        parts["val"],
        parts["test"],
        train_config,
        out_dir,
        featurizer={
            **dataset.featurizer_config.to_dict(),
            "descriptors": config.descriptors or ("file" if config.descriptor_file else None),
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
    """Graphs of the SMILES that parse, their positions, and ``(position, reason)`` of those
    that do not. ``descriptor_rows`` ``[len(smiles), D]`` supplies file descriptors for a model
    trained with a descriptor file."""
    config = FeaturizerConfig(
        atom_features=featurizer.get("atom_features", "v2"),
        add_hydrogens=featurizer.get("add_hydrogens", False),
    )
    featurized = MoleculeFeaturizer(config).featurize(smiles, workers=workers)
    kind = featurizer.get("descriptors")
    descriptors = None
    if kind == "file":
        if descriptor_rows is None:
            raise ValueError(
                "this model was trained with descriptors from a file: pass a descriptor file "
                "(--descriptors-file) with one row per input row"
            )
        descriptors = torch.from_numpy(descriptor_rows[featurized.positions])
    elif kind:
        valid = [smiles[p] for p in featurized.positions.tolist()]
        descriptors = torch.from_numpy(compute_descriptors(valid, kind))
    graphs = []
    for k, (position, x, edge_index, edge_attr) in enumerate(featurized.graphs()):
        graph = MoleculeGraph(
            x=torch.from_numpy(x),
            edge_index=torch.from_numpy(edge_index),
            edge_attr=torch.from_numpy(edge_attr),
            rev_edge_index=torch.from_numpy(reverse_edges(edge_index.shape[1])),
            smiles=smiles[position],
        )
        if descriptors is not None:
            graph.descriptors = descriptors[k : k + 1].float()
        graphs.append(graph)
    return graphs, featurized.positions, featurized.failures


def predict_molecules(
    model_dir: str | Path,
    data: str | Path,
    out: str | Path,
    *,
    smiles_column: str | None = None,
    descriptor_file: str | Path | None = None,
    workers: int = 1,
    batch_size: int = 256,
) -> pd.DataFrame:
    """Predict every row of ``data`` with the model in ``model_dir`` (its ``model.pt``).

    The output CSV keeps the input columns and adds one column per target (named after the
    target, with ``_pred`` appended if the input already has that column; multiclass adds one
    probability column per class). Rows whose SMILES RDKit rejects get empty predictions and are
    listed in ``invalid_smiles.csv`` beside ``out``.
    """
    model_path = Path(model_dir)
    model_path = model_path / "model.pt" if model_path.is_dir() else model_path
    trained = load_model(model_path)
    featurizer = trained.featurizer or {}
    table = read_molecule_table(
        data, smiles_column=smiles_column or featurizer.get("smiles_column"), target_columns=[]
    )
    rows = len(table.smiles)
    descriptor_rows = read_descriptor_file(descriptor_file, rows) if descriptor_file else None
    graphs, positions, failures = featurize_for_prediction(
        table.smiles, featurizer, workers, descriptor_rows
    )
    preds = trained.predict(graphs, batch_size=batch_size).numpy() if graphs else None
    frame = table.frame.copy()
    for name, values in prediction_columns(trained.task, preds, len(positions)).items():
        column = f"{name}_pred" if name in frame.columns else name
        filled = np.full(len(frame), np.nan)
        filled[positions] = values
        frame[column] = filled
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    if failures:
        invalid = [
            InvalidRow(i, table.line_of_row(i), table.smiles[i], reason) for i, reason in failures
        ]
        write_invalid_rows(invalid, out.parent / "invalid_smiles.csv")
        print(
            f"{data}: {len(failures)} of {len(frame)} rows have SMILES that RDKit rejects; their "
            f"predictions are empty (see {out.parent / 'invalid_smiles.csv'})",
            file=sys.stderr,
        )
    return frame


def prediction_columns(task: Any, preds: np.ndarray | None, count: int) -> dict[str, np.ndarray]:
    """Column name → values: one per target, or one per target and class (multiclass)."""
    columns: dict[str, np.ndarray] = {}
    for t, name in enumerate(task.names):
        if task.kind == "multiclass":
            for c in range(task.n_classes):
                columns[f"{name}_class{c}"] = preds[:, t, c] if preds is not None else np.empty(0)
        else:
            columns[name] = preds[:, t] if preds is not None else np.empty(count)
    return columns
