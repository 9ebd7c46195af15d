"""``gnnkit mol train/predict`` end to end on small files with known answers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rdkit
from rdkit import Chem, rdBase

from gnnkit.cli.main import main
from gnnkit.data.molecules.descriptors import rdkit2d_names
from gnnkit.data.splits import read_splits
from gnnkit.train import TrainConfig
from gnnkit.workflows.molecules import MoleculeTrainConfig, predict_molecules, train_molecules

NCI = Path(rdkit.__file__).parent / "Data" / "NCI" / "first_5K.smi"
SMALL = ["--hidden", "32", "--ffn-hidden", "32", "--batch-size", "32", "--progress", "none"]


@pytest.fixture(scope="module")
def heavy_atoms_csv(tmp_path_factory) -> Path:
    """300 real NCI molecules; target: heavy-atom count (exactly computable), plus a binary
    task 'large' (> 15 heavy atoms) with every fifth label missing."""
    rows = []
    with rdBase.BlockLogs():
        for line in NCI.read_text().splitlines():
            mol = Chem.MolFromSmiles(line.split()[0])
            if mol is not None and mol.GetNumHeavyAtoms() <= 40:
                rows.append((line.split()[0], mol.GetNumHeavyAtoms()))
            if len(rows) == 300:
                break
    frame = pd.DataFrame(rows, columns=["smiles", "heavy_atoms"])
    frame["large"] = (frame.heavy_atoms > 15).astype(float)
    frame.loc[frame.index % 5 == 0, "large"] = np.nan
    path = tmp_path_factory.mktemp("mol") / "heavy.csv"
    frame.to_csv(path, index=False)
    return path


def test_regression_learns_heavy_atom_count(heavy_atoms_csv, tmp_path):
    config = MoleculeTrainConfig(
        data=str(heavy_atoms_csv),
        target_columns=["heavy_atoms"],
        hidden_channels=64,
        ffn_hidden_channels=64,
        aggregation="sum",
        train=TrainConfig(
            epochs=50, batch_size=32, max_lr=3e-3, patience=None, progress="none", seed=0
        ),
    )
    metrics = train_molecules(config, tmp_path / "run")
    assert metrics["test"]["r2"] > 0.85, metrics["test"]  # 0.91 with this seed
    assert metrics["splits"] == {"train": 240, "val": 30, "test": 30}
    files = {p.name for p in (tmp_path / "run").iterdir()}
    assert {
        "metrics.json",
        "model.pt",
        "splits.json",
        "test_predictions.csv",
        "parity.png",
    } <= files
    (split,) = read_splits(tmp_path / "run" / "splits.json", n=300)
    assert len(split.train) == 240 and len(split.test) == 30


def test_cli_train_predict_and_invalid_rows(heavy_atoms_csv, tmp_path, capsys):
    out = tmp_path / "cls"
    code = main(
        [
            "mol",
            "train",
            "--data",
            str(heavy_atoms_csv),
            "--target-columns",
            "large",
            "--task",
            "classification",
            "--split",
            "stratified",
            "--epochs",
            "3",
            *SMALL,
            "--out",
            str(out),
        ]
    )
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == "binary"
    assert set(metrics["test"]) >= {"roc_auc", "prc_auc", "accuracy", "f1"}
    assert (out / "roc.png").exists()

    new = tmp_path / "new.csv"
    new.write_text("smiles,name\nCCO,ethanol\nC1CC,broken\nc1ccccc1,benzene\n")
    preds = tmp_path / "preds" / "out.csv"
    assert (
        main(["mol", "predict", "--model", str(out), "--data", str(new), "--out", str(preds)]) == 0
    )
    frame = pd.read_csv(preds)
    assert list(frame.columns) == ["smiles", "name", "large"]
    assert frame.name.tolist() == ["ethanol", "broken", "benzene"]
    assert np.isnan(frame.large[1]) and 0 < frame.large[0] < 1 and 0 < frame.large[2] < 1
    invalid = pd.read_csv(preds.parent / "invalid_smiles.csv")
    assert invalid.row.tolist() == [1] and invalid.line.tolist() == [3]
    assert (
        "1 of 3 rows could not be featurized (RDKit rejects the SMILES" in capsys.readouterr().err
    )


def test_k_fold_reports_mean_and_sd(heavy_atoms_csv, tmp_path):
    config = MoleculeTrainConfig(
        data=str(heavy_atoms_csv),
        target_columns=["heavy_atoms"],
        folds=2,
        hidden_channels=16,
        ffn_hidden_channels=16,
        train=TrainConfig(epochs=2, batch_size=64, patience=None, progress="none"),
    )
    summary = train_molecules(config, tmp_path / "cv")
    assert summary["folds"] == 2 and len(summary["per_fold"]) == 2
    rmse = summary["test"]["rmse"]
    values = [fold["test"]["rmse"] for fold in summary["per_fold"]]
    assert rmse["mean"] == pytest.approx(np.mean(values))
    assert rmse["std"] == pytest.approx(np.std(values, ddof=1))
    splits = read_splits(tmp_path / "cv" / "splits.json", n=300)
    assert sorted(splits[0].test + splits[1].test) == list(range(300))
    assert (tmp_path / "cv" / "fold_1" / "model.pt").exists()


def test_splits_file_is_used_as_given(heavy_atoms_csv, tmp_path):
    splits = tmp_path / "splits.json"
    splits.write_text(
        json.dumps(
            [
                {
                    "train": list(range(0, 200)),
                    "val": list(range(200, 250)),
                    "test": list(range(250, 300)),
                }
            ]
        )
    )
    config = MoleculeTrainConfig(
        data=str(heavy_atoms_csv),
        target_columns=["heavy_atoms"],
        splits_file=str(splits),
        hidden_channels=16,
        ffn_hidden_channels=16,
        train=TrainConfig(epochs=2, patience=None, progress="none"),
    )
    metrics = train_molecules(config, tmp_path / "given")
    assert metrics["splits"] == {"train": 200, "val": 50, "test": 50}
    predictions = pd.read_csv(tmp_path / "given" / "test_predictions.csv")
    expected = pd.read_csv(heavy_atoms_csv).smiles[250:300].tolist()
    assert sorted(predictions.iloc[:, 0].tolist()) == sorted(expected)


def test_predict_api_keeps_rows_and_adds_suffix_on_clash(heavy_atoms_csv, tmp_path):
    config = MoleculeTrainConfig(
        data=str(heavy_atoms_csv),
        target_columns=["heavy_atoms"],
        hidden_channels=16,
        ffn_hidden_channels=16,
        train=TrainConfig(epochs=2, patience=None, progress="none"),
    )
    train_molecules(config, tmp_path / "m")
    frame = predict_molecules(tmp_path / "m" / "model.pt", heavy_atoms_csv, tmp_path / "p.csv")
    assert "heavy_atoms_pred" in frame.columns and len(frame) == 300
    assert frame.heavy_atoms_pred.notna().all()


def test_descriptor_file_in_training_and_prediction(heavy_atoms_csv, tmp_path):
    frame = pd.read_csv(heavy_atoms_csv)
    descriptors = tmp_path / "descriptors.csv"
    pd.DataFrame({"size": frame.heavy_atoms * 1.0, "noise": np.arange(len(frame)) % 7}).to_csv(
        descriptors, index=False
    )
    config = MoleculeTrainConfig(
        data=str(heavy_atoms_csv), target_columns=["heavy_atoms"], descriptor_file=str(descriptors),
        hidden_channels=16, ffn_hidden_channels=16,
        train=TrainConfig(epochs=2, patience=None, progress="none"),
    )  # fmt: skip
    train_molecules(config, tmp_path / "d")
    new = tmp_path / "new.csv"
    new.write_text("smiles\nCCO\nCCCCCC\n")
    with pytest.raises(ValueError, match="trained with descriptors from a file"):
        predict_molecules(tmp_path / "d", new, tmp_path / "p.csv")
    short = tmp_path / "short.csv"
    short.write_text("size,noise\n3,0\n")
    with pytest.raises(ValueError, match="1 descriptor rows for 2 data rows"):
        predict_molecules(tmp_path / "d", new, tmp_path / "p.csv", descriptor_file=short)
    matching = tmp_path / "matching.csv"
    matching.write_text("size,noise\n3,0\n6,1\n")
    out = predict_molecules(tmp_path / "d", new, tmp_path / "p.csv", descriptor_file=matching)
    assert out.heavy_atoms.notna().all()


def test_rdkit_descriptors_are_standardised_with_training_statistics(heavy_atoms_csv, tmp_path):
    small = tmp_path / "small.csv"
    pd.read_csv(heavy_atoms_csv).head(60).to_csv(small, index=False)
    config = MoleculeTrainConfig(
        data=str(small), target_columns=["heavy_atoms"], descriptors="rdkit2d",
        hidden_channels=16, ffn_hidden_channels=16,
        train=TrainConfig(epochs=2, patience=None, progress="none"),
    )  # fmt: skip
    train_molecules(config, tmp_path / "r")
    from gnnkit.train import load_model

    trained = load_model(tmp_path / "r" / "model.pt")
    assert trained.featurizer["descriptors"] == "rdkit2d"
    assert trained.featurizer["descriptor_names"] == rdkit2d_names()
    assert trained.featurizer["rdkit_version"] == rdBase.rdkitVersion
    mean = trained.model.descriptor_mean
    assert mean.numel() > 100 and mean.abs().sum() > 0
    preds = predict_molecules(tmp_path / "r", small, tmp_path / "rp.csv")
    assert preds.heavy_atoms_pred.notna().all()
