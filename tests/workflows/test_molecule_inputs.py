"""``gnnkit mol train/predict`` on awkward inputs: duplicate molecules, stale side files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch

from gnnkit.cli.main import main
from gnnkit.models import build_model
from gnnkit.train import Task, TrainedModel, save_checkpoint
from gnnkit.workflows.molecules import (
    MoleculeTrainConfig,
    load_dataset,
    make_splits,
    predict_molecules,
)

SMALL = ["--hidden", "16", "--ffn-hidden", "16", "--batch-size", "16", "--progress", "none"]


@pytest.fixture
def duplicates_csv(tmp_path, monkeypatch) -> Path:
    """40 rows of 10 molecules (each written two ways, as ``C…O`` and ``O…C``, in rows k,
    k + 10, k + 20, k + 30), target ``y`` = the molecule's carbon count."""
    monkeypatch.setenv("GNNKIT_CACHE", str(tmp_path / "cache"))
    carbons = [k + 1 for _ in range(4) for k in range(10)]
    smiles = [
        "C" * n + "O" if row < 10 or 20 <= row < 30 else "O" + "C" * n
        for row, n in enumerate(carbons)
    ]
    path = tmp_path / "dup.csv"
    pd.DataFrame({"smiles": smiles, "y": carbons}).to_csv(path, index=False)
    return path


def molecules_in_several_parts(split, molecule_of_row) -> list[int]:
    parts: dict[int, set[str]] = {}
    for name in ("train", "val", "test"):
        for row in getattr(split, name):
            parts.setdefault(molecule_of_row[row], set()).add(name)
    return [molecule for molecule, names in parts.items() if len(names) > 1]


@pytest.mark.parametrize("folds", [None, 3])
def test_duplicates_stay_in_one_part_of_every_split(duplicates_csv, folds, capsys):
    config = MoleculeTrainConfig(data=str(duplicates_csv), target_columns=["y"], folds=folds)
    dataset = load_dataset(config)
    assert len(dataset) == 40
    splits = make_splits(config, dataset)
    assert len(splits) == (folds or 1)
    for split in splits:
        assert sorted(split.train + split.val + split.test) == list(range(40))
        assert molecules_in_several_parts(split, [row % 10 for row in range(40)]) == []
    assert capsys.readouterr().err.startswith(
        f"warning: {duplicates_csv}: the same molecule (canonical SMILES) in several rows: 10 "
        "molecules in 40 rows, 0 with conflicting targets; e.g. 'CO' in rows 0, 10, 20, 30 "
        "(lines 2, 12, 22, 32); 'CCO' in rows 1, 11, 21, 31 (lines 3, 13, 23, 33);"
    )


def test_cli_train_deduplicate_first_trains_on_one_row_per_molecule(duplicates_csv, tmp_path):
    out = tmp_path / "run"
    arguments = ["mol", "train", "--data", str(duplicates_csv), "--out", str(out), *SMALL]
    assert main([*arguments, "--epochs", "1", "--deduplicate", "first"]) == 0
    (split,) = json.loads((out / "splits.json").read_text())
    assert sorted(split["train"] + split["val"] + split["test"]) == list(range(10))
    assert json.loads((out / "run.json").read_text())["config"]["deduplicate"] == "first"


def test_cli_train_deduplicate_errors(duplicates_csv, tmp_path, capsys):
    arguments = ["mol", "train", "--data", str(duplicates_csv), "--out", str(tmp_path / "run")]
    assert main([*arguments, "--deduplicate", "error"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"gnnkit mol train: error: {duplicates_csv}: the same molecule (canonical SMILES) in "
        "several rows: 10 molecules in 40 rows, 0 with conflicting targets; e.g. 'CO' in rows "
        "0, 10, 20, 30 (lines 2, 12, 22, 32); 'CCO' in rows 1, 11, 21, 31 (lines 3, 13, 23, "
        "33); 'CCCO' in rows 2, 12, 22, 32 (lines 4, 14, 24, 34); remove them, or merge them "
        "with --deduplicate mean or first"
    )
    assert main([*arguments, "--deduplicate", "mean", "--task", "classification"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "gnnkit mol train: error: deduplicate='mean' averages the targets of a molecule's rows, "
        "which suits a regression task, not classification; use 'first' or 'error'"
    )
    assert not (tmp_path / "run").exists()


def test_predict_removes_the_invalid_rows_of_an_earlier_output(tmp_path):
    torch.manual_seed(0)
    model = build_model("dmpnn", {"hidden_channels": 16, "ffn_hidden_channels": 16})
    save_checkpoint(TrainedModel(model, Task.create("regression", 1, ["y"])), tmp_path / "m.pt")
    (tmp_path / "broken.csv").write_text("smiles\nCCO\nC1CC\n")
    (tmp_path / "clean.csv").write_text("smiles\nCCO\nCC\n")
    invalid = tmp_path / "out" / "invalid_smiles.csv"
    predict_molecules(tmp_path / "m.pt", tmp_path / "broken.csv", tmp_path / "out" / "a.csv")
    assert pd.read_csv(invalid).row.tolist() == [1]
    frame = predict_molecules(tmp_path / "m.pt", tmp_path / "clean.csv", tmp_path / "out" / "b.csv")
    assert frame.y.notna().tolist() == [True, True]
    assert not invalid.exists()
