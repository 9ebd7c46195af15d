"""A ``gnnkit mol`` run folder: refused overwrites and resumes, unfinished runs, foreign models."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rdkit
from rdkit import Chem, rdBase

from gnnkit.cli.main import main
from gnnkit.data.molecules import FeaturizerConfig
from gnnkit.models import build_model
from gnnkit.train import Task, TrainConfig, TrainedModel, load_model, save_checkpoint
from gnnkit.workflows.molecules import MoleculeTrainConfig, fingerprint_molecules

NCI = Path(rdkit.__file__).parent / "Data" / "NCI" / "first_5K.smi"
TINY = ["--hidden", "16", "--ffn-hidden", "16", "--epochs", "1", "--progress", "none"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder``: its bytes and modification time."""
    return {
        str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> tuple[Path, Path]:
    """Two files of 40 NCI molecules each, same columns: smiles, y (heavy-atom count)."""
    rows = []
    with rdBase.BlockLogs():
        for line in NCI.read_text().splitlines():
            mol = Chem.MolFromSmiles(line.split()[0])
            if mol is not None and mol.GetNumHeavyAtoms() <= 30:
                rows.append(f"{line.split()[0]},{mol.GetNumHeavyAtoms()}\n")
            if len(rows) == 80:
                break
    folder = tmp_path_factory.mktemp("tables")
    first, second = folder / "a.csv", folder / "b.csv"
    first.write_text("smiles,y\n" + "".join(rows[:40]))
    second.write_text("smiles,y\n" + "".join(rows[40:]))
    return first, second


def train(data: Path, out: Path, *options: str) -> int:
    return main(["mol", "train", "--data", str(data), *TINY, *options, "--out", str(out)])


@pytest.fixture(scope="module")
def run(tables, tmp_path_factory) -> Path:
    """A finished one-model run on the first table."""
    out = tmp_path_factory.mktemp("runs") / "run"
    assert train(tables[0], out) == 0
    return out


def test_refused_trainings_leave_the_run_as_it_was(run, tables, capsys) -> None:
    first, second = tables
    before = snapshot(run)
    capsys.readouterr()
    assert train(second, run) == 1
    assert capsys.readouterr().err == (
        f"gnnkit mol train: error: {run} already holds a run ({run / 'checkpoints'} is not "
        "empty); pass resume=True (--resume) to continue it, or choose another output folder\n"
    )
    assert train(second, run, "--resume") == 1
    assert capsys.readouterr().err == (
        f"gnnkit mol train: error: cannot resume {run}: it was trained with data {first} "
        f"(sha256 {sha256(first)}), not {second} (sha256 {sha256(second)}); resume with the "
        "files it was trained with, or choose another output folder\n"
    )
    assert train(first, run, "--resume", "--target-columns", "y", "--hidden", "32") == 1
    assert capsys.readouterr().err == (
        f"gnnkit mol train: error: cannot resume {run} with different settings: "
        "target_columns: None -> ['y']; hidden_channels: 16 -> 32\n"
    )
    assert snapshot(run) == before


def test_resume_needs_a_run(tables, tmp_path, capsys) -> None:
    out = tmp_path / "none"
    assert train(tables[0], out, "--resume") == 1
    assert capsys.readouterr().err == (
        f"gnnkit mol train: error: resume=True but {out} holds no run to continue (no "
        "checkpoints/ with a checkpoint); start the run without resume\n"
    )
    assert not out.exists()


def test_a_run_without_a_record_is_not_resumed(tables, tmp_path, capsys) -> None:
    old = tmp_path / "old"
    assert train(tables[0], old) == 0
    (old / "run.json").unlink()
    before = snapshot(old)
    capsys.readouterr()
    assert train(tables[0], old, "--resume") == 1
    assert capsys.readouterr().err == (
        f"gnnkit mol train: error: cannot resume {old}: it has no run.json (a run of an older "
        "gnnkit), so the data and settings it was trained with cannot be checked; train it "
        "again in another folder\n"
    )
    assert snapshot(old) == before


def predict(model: Path, data: Path, out: Path, *options: str) -> int:
    return main(
        ["mol", "predict", "--model", str(model), "--data", str(data), "--out", str(out), *options]
    )


def test_an_unfinished_fold_run_is_refused_then_resumed(tables, tmp_path, capsys) -> None:
    first, second = tables
    folds = tmp_path / "cv"
    assert train(first, folds, "--folds", "2") == 0
    shutil.rmtree(folds / "fold_1")  # stopped before the second fold started
    out = tmp_path / "p.csv"
    capsys.readouterr()
    report = f"{folds} is an unfinished run: 1 of 2 models are trained (fold_1/model.pt missing)"
    assert predict(folds, second, out) == 1
    assert capsys.readouterr().err == (
        f"gnnkit mol predict: error: {report}; finish its training with resume=True "
        "(--resume), or pass allow_partial=True (--allow-partial) to use the trained models "
        "only\n"
    )
    assert not out.exists()
    with pytest.raises(FileNotFoundError, match="1 of 2 models are trained"):
        fingerprint_molecules(folds, second, tmp_path / "fp.csv")

    assert predict(folds, second, out, "--allow-partial") == 0
    assert capsys.readouterr().err == (
        f"warning: {report}; using the trained models only\nwrote 40 rows to {out}\n"
    )
    partial = pd.read_csv(out)
    assert list(partial.columns) == ["smiles", "y", "y_pred", "models_used"]
    assert (partial.models_used == 1).all() and np.isfinite(partial.y_pred).all()

    hits = tmp_path / "hits.csv"
    screen = ["mol", "screen", "--model", str(folds), "--library", str(second)]
    screen += ["--out", str(hits), "--no-progress", "--top", "5"]
    assert main(screen) == 1
    assert capsys.readouterr().err.startswith(f"gnnkit mol screen: error: {report}; finish")
    assert not hits.exists()
    assert main([*screen, "--allow-partial"]) == 0
    assert capsys.readouterr().err.startswith(f"warning: {report}; using the trained models only")
    assert (pd.read_csv(hits).models_used == 1).all() and len(pd.read_csv(hits)) == 5

    assert train(first, folds, "--folds", "2", "--resume") == 0
    assert (folds / "fold_1" / "model.pt").is_file()
    assert predict(folds, second, out) == 0
    assert list(pd.read_csv(out).columns) == ["smiles", "y", "y_pred", "y_std"]


def test_mol_predict_refuses_a_cascade_model(tables, tmp_path, capsys) -> None:
    cascade = build_model("bigcn", {"in_channels": 5, "out_channels": 3})
    model = save_checkpoint(
        TrainedModel(cascade, Task.create("multiclass", 1, n_classes=3)), tmp_path / "model.pt"
    )
    assert predict(tmp_path, tables[1], tmp_path / "p.csv") == 1
    refusal = f"{model} is a cascade model (bigcn), not a molecule model (dmpnn, egnn)\n"
    assert capsys.readouterr().err == f"gnnkit mol predict: error: {refusal}"
    screen = ["mol", "screen", "--model", str(tmp_path), "--library", str(tables[1])]
    assert main([*screen, "--out", str(tmp_path / "hits.csv")]) == 1
    assert capsys.readouterr().err == f"gnnkit mol screen: error: {refusal}"


def test_mol_predict_refuses_a_featurizer_that_misfits_the_weights(
    run, tables, tmp_path, capsys
) -> None:
    trained = load_model(run / "model.pt")
    trained.featurizer = {**trained.featurizer, "atom_features": "rich"}
    model = save_checkpoint(trained, tmp_path / "model.pt")
    rich, v2 = FeaturizerConfig(atom_features="rich").atom_dim, FeaturizerConfig().atom_dim
    assert predict(tmp_path, tables[1], tmp_path / "p.csv") == 1
    assert capsys.readouterr().err == (
        f"gnnkit mol predict: error: {model}: its featurizer ('rich' atom features) gives "
        f"{rich} atom features but the weights expect {v2}\n"
    )


def test_an_infinite_target_names_file_row_and_column(tables, tmp_path, capsys) -> None:
    data = tmp_path / "inf.csv"
    lines = tables[0].read_text().splitlines()
    lines[3] = lines[3].split(",")[0] + ",inf"
    data.write_text("\n".join(lines) + "\n")
    assert train(data, tmp_path / "run") == 1
    assert capsys.readouterr().err == (
        f"gnnkit mol train: error: {data}: row 2 (line 4), column 'y': 'inf' is not a finite "
        "number\n"
    )


@pytest.mark.parametrize("folds", [0, -3])
def test_folds_must_be_at_least_one(folds: int) -> None:
    with pytest.raises(ValueError) as error:
        MoleculeTrainConfig(folds=folds)
    assert str(error.value) == (
        f"folds must be at least 1 (1: one split, k >= 2: k-fold), got {folds}"
    )


def test_training_settings_are_checked_before_the_data_are_read() -> None:
    with pytest.raises(ValueError) as error:
        MoleculeTrainConfig(data="no-such-file.csv", train=TrainConfig(epochs=0))
    assert str(error.value) == "epochs must be at least 1, got 0"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"splits_file": "splits.json"},
            "folds (--folds) and splits_file (--splits-file) both choose the splits; give one "
            "(a splits file may hold several splits, trained like folds)",
        ),
        (
            {"split": "scaffold"},
            "k-fold cross-validation (--folds) assigns molecules to folds at random (by class "
            "for classification), so it cannot follow split='scaffold' (--split scaffold); "
            "drop one",
        ),
    ],
)
def test_folds_refuse_another_way_of_splitting(options: dict, message: str) -> None:
    with pytest.raises(ValueError) as error:
        MoleculeTrainConfig(folds=3, **options)
    assert str(error.value) == message
    MoleculeTrainConfig(folds=1, **options)  # one split: the other way decides
