"""The dataset a :class:`~gnnkit.workflows.molecules.config.MoleculeTrainConfig` names and its
splits."""

from __future__ import annotations

import numpy as np

from gnnkit.data.molecules import FeaturizerConfig, MoleculeCSVDataset
from gnnkit.data.molecules.catalog import resolve_dataset
from gnnkit.data.splits import (
    Split,
    k_fold_splits,
    random_split,
    read_splits,
    scaffold_split,
    stratified_split,
)
from gnnkit.workflows.molecules.config import MOLECULE_MODELS, MoleculeTrainConfig


def load_dataset(config: MoleculeTrainConfig) -> MoleculeCSVDataset:
    """The dataset of ``config`` (its skipped rows in ``invalid_rows``)."""
    spec = resolve_dataset(config.data)
    single = (config.smiles_columns or [None])[0] if not config.molecule_columns else None
    return MoleculeCSVDataset(
        spec.path,
        smiles_column=config.smiles_column or single or spec.smiles_column,
        smiles_columns=config.molecule_columns,
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
        class_labels=config.task == "multiclass",
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
    if config.split == "scaffold":  # of the first column's molecule, with several per row
        return [scaffold_split(dataset.smiles, config.sizes, config.train.seed)]
    if config.split == "stratified":
        if labels is None:
            raise ValueError("a stratified split needs a classification or multiclass task")
        return [stratified_split(labels, config.sizes, config.train.seed, groups)]
    if config.split != "random":
        raise ValueError(f"split must be random, scaffold or stratified, got {config.split!r}")
    return [random_split(n, config.sizes, config.train.seed, groups)]


def _stratification_labels(dataset: MoleculeCSVDataset) -> list[tuple]:
    y = dataset.y.numpy()
    return [tuple("nan" if np.isnan(v) else int(v) for v in row) for row in y]


def rows_split(split: Split, rows: np.ndarray) -> Split:
    """A split of dataset positions as file rows (what ``splits.json`` stores)."""
    return Split(*[[int(rows[i]) for i in part] for part in (split.train, split.val, split.test)])


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
