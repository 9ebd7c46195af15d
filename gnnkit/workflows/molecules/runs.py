"""A molecule run's folder: its layout, ``run.json`` and the checks before a run starts or
resumes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from gnnkit.data.molecules import MoleculeCSVDataset, write_invalid_rows
from gnnkit.data.splits import Split, write_splits
from gnnkit.train.artefacts import write_json
from gnnkit.train.ensemble import MODEL_FILE, RUN_FILE, read_run_record
from gnnkit.train.trainer import CHECKPOINT_DIR, holds_checkpoints, run_exists_error
from gnnkit.workflows.molecules.config import MoleculeTrainConfig
from gnnkit.workflows.molecules.data import rows_split
from gnnkit.workflows.molecules.finetune import InitSource

TRAINING_SMILES = "training_smiles.csv"
#: Model folders of a run in any layout: one model, ensemble members, folds, both.
RUN_LAYOUTS = ("fold_*", "member_*", "fold_*/member_*")


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
    config: MoleculeTrainConfig,
    dataset: MoleculeCSVDataset,
    n_splits: int,
    source: InitSource | None = None,
) -> dict[str, Any]:
    """What ``run.json`` records: the input files (path and SHA-256; with ``source``, the model
    file fine-tuning starts from too), the settings and the model files of the finished run
    (see :func:`~gnnkit.train.ensemble.planned_model_files`)."""
    descriptors = dataset.settings["descriptor_file_sha256"]
    initial = {"init_from": {"path": str(source.path), "sha256": source.sha256}} if source else {}
    return {
        "files": {
            "data": {"path": str(dataset.path), "sha256": dataset.settings["file_sha256"]},
            "descriptor_file": (
                {"path": str(config.descriptor_file), "sha256": descriptors}
                if descriptors
                else None
            ),
            **initial,
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

    for name in dict.fromkeys([*current, *saved]):
        before, now = saved.get(name), current.get(name)
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
    smiles = dataset.smiles
    rows = dataset.rows()
    pd.DataFrame(
        {"row": [int(rows[p]) for p in positions], "smiles": [smiles[p] for p in positions]}
    ).to_csv(path, index=False)
