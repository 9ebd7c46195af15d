"""Two molecules per row (a solute and its solvent) from ``mol train`` to ``predict``,
cross-validation, fingerprints and ``screen``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rdkit
from rdkit import Chem, rdBase

from gnnkit.cli.main import main
from gnnkit.data.molecules import DataFileError
from gnnkit.train import TrainConfig, load_model
from gnnkit.workflows.molecules import (
    MoleculeTrainConfig,
    fingerprint_molecules,
    predict_molecules,
    train_molecules,
)
from gnnkit.workflows.screen import ScreenConfig, screen_library

NCI = Path(rdkit.__file__).parent / "Data" / "NCI" / "first_5K.smi"
SOLVENTS = ["O", "CCO", "c1ccccc1", "CCCCCC", "CC(C)=O", "CS(C)=O", "ClC(Cl)Cl", "CCCCCCCC"]
SMALL = ["--hidden", "16", "--ffn-hidden", "16", "--batch-size", "32", "--progress", "none"]
SYNTAX = "SMILES syntax error: RDKit could not parse the string"


def heavy_atoms(smiles: str) -> int:
    return Chem.MolFromSmiles(smiles).GetNumHeavyAtoms()


@pytest.fixture(scope="module")
def pairs_csv(tmp_path_factory) -> Path:
    """160 rows: an NCI solute, a solvent drawn at random, the solvent's heavy-atom count
    (``solvent_atoms``, which the solute says nothing about) and ``both`` (solute's / 10 +
    solvent's)."""
    rng = np.random.default_rng(0)
    rows = []
    with rdBase.BlockLogs():
        for line in NCI.read_text().splitlines():
            solute = line.split()[0]
            mol = Chem.MolFromSmiles(solute)
            if mol is None or mol.GetNumHeavyAtoms() > 30:
                continue
            solvent = SOLVENTS[rng.integers(len(SOLVENTS))]
            n = heavy_atoms(solvent)
            rows.append((solute, solvent, float(n), mol.GetNumHeavyAtoms() / 10 + n))
            if len(rows) == 160:
                break
    path = tmp_path_factory.mktemp("pairs") / "pairs.csv"
    pd.DataFrame(rows, columns=["solute", "solvent", "solvent_atoms", "both"]).to_csv(
        path, index=False
    )
    return path


def config(data: Path, **settings) -> MoleculeTrainConfig:
    train = settings.pop("train", {})
    return MoleculeTrainConfig(
        data=str(data),
        smiles_columns=["solute", "solvent"],
        hidden_channels=16,
        ffn_hidden_channels=16,
        train=TrainConfig(
            **{"epochs": 3, "batch_size": 32, "patience": None, "progress": "none", **train}
        ),
        **settings,
    )


@pytest.fixture(scope="module")
def run(pairs_csv, tmp_path_factory) -> Path:
    """``mol train --smiles-columns solute solvent`` (one encoder each), 3 epochs."""
    out = tmp_path_factory.mktemp("runs") / "pairs"
    code = main(
        [
            "mol",
            "train",
            "--data",
            str(pairs_csv),
            "--smiles-columns",
            "solute",
            "solvent",
            "--target-columns",
            "both",
            "--epochs",
            "3",
            *SMALL,
            "--out",
            str(out),
        ]
    )
    assert code == 0
    return out


def test_train_records_the_columns_and_predict_reads_them(run, tmp_path, capsys):
    trained = load_model(run / "model.pt")
    assert trained.featurizer["smiles_columns"] == ["solute", "solvent"]
    assert len(trained.model.encoders()) == 2 and trained.model.n_components == 2
    ids = pd.read_csv(run / "test_predictions.csv").id
    assert all(len(text.split(" ")) == 2 for text in ids)  # "<solute> <solvent>"
    training = pd.read_csv(run / "training_smiles.csv")
    assert not set(training.smiles) & set(SOLVENTS)  # the first column's molecules

    new = tmp_path / "new.csv"  # the columns in another order, and two bad rows
    new.write_text("solvent,solute,id\nO,CCO,a\nxyz,CCO,b\nCCO,C1CC,c\nClC(Cl)Cl,CCO,d\n")
    out = tmp_path / "out" / "predictions.csv"
    argv = ["mol", "predict", "--model", str(run), "--data", str(new), "--out", str(out)]
    assert main(argv) == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["solvent", "solute", "id", "both"]
    assert frame.both.isna().tolist() == [False, True, True, False]
    assert frame.both[0] != pytest.approx(frame.both[3])  # the solvent changes the prediction
    invalid = pd.read_csv(out.parent / "invalid_smiles.csv")
    assert invalid.to_dict("list") == {
        "row": [1, 2],
        "line": [3, 4],
        "smiles": ["CCO xyz", "C1CC CCO"],
        "reason": [f"column 'solvent' ('xyz'): {SYNTAX}", f"column 'solute' ('C1CC'): {SYNTAX}"],
    }
    assert "2 of 4 rows could not be featurized" in capsys.readouterr().err

    renamed = tmp_path / "renamed.csv"
    renamed.write_text("a,b\nCCO,O\nCCO,ClC(Cl)Cl\n")
    again = predict_molecules(run, renamed, tmp_path / "again.csv", smiles_columns=["a", "b"])
    np.testing.assert_allclose(again.both, frame.both[[0, 3]], rtol=1e-6)


def test_fingerprints_concatenate_the_molecules(run, tmp_path):
    new = tmp_path / "new.csv"
    new.write_text("solute,solvent\nCCO,O\nCCO,CCO\n")
    frame = fingerprint_molecules(run, new, tmp_path / "fp.csv")
    assert frame.smiles.tolist() == ["CCO O", "CCO CCO"]
    vectors = frame.filter(like="fp_").to_numpy()
    assert vectors.shape == (2, 32)  # two molecules × hidden 16
    np.testing.assert_array_equal(vectors[0, :16], vectors[1, :16])  # the same solute
    assert not np.allclose(vectors[0, 16:], vectors[1, 16:])


def test_explain_refuses_a_model_of_several_molecules(run, tmp_path, capsys):
    new = tmp_path / "new.csv"
    new.write_text("solute,solvent\nCCO,O\n")
    argv = ["mol", "explain", "--model", str(run), "--data", str(new), "--out", str(tmp_path)]
    assert main(argv) == 1
    assert capsys.readouterr().err == (
        f"gnnkit mol explain: error: {run} reads several molecules per row; mol explain "
        "attributes the predictions of models of one molecule per row\n"
    )


def test_wrong_columns_are_one_line_errors(run, pairs_csv, tmp_path, capsys):
    new = tmp_path / "new.csv"
    new.write_text("solute,water\nCCO,O\n")
    argv = ["mol", "predict", "--model", str(run), "--data", str(new), "--out", str(tmp_path)]
    assert main([*argv[:-1], str(tmp_path / "p.csv")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"{new}: no column 'solvent'; the columns present are 'solute', 'water'")
    assert main([*argv[:-1], str(tmp_path / "p.csv"), "--smiles-column", "solute"]) == 1
    assert "the model reads 2 molecules per row (trained on columns 'solute', 'solvent')" in (
        capsys.readouterr().err
    )
    train = ["mol", "train", "--data", str(pairs_csv), "--out", str(tmp_path / "r")]
    assert main([*train, "--smiles-column", "solute", "--shared-encoder"]) == 1
    assert "it needs two or more smiles_columns" in capsys.readouterr().err
    assert main([*train, "--smiles-columns", "solute", "solvent", "--model", "egnn"]) == 1
    assert "several SMILES columns (--smiles-columns) need model='dmpnn'" in (
        capsys.readouterr().err
    )


def test_cross_validation_with_a_shared_encoder(pairs_csv, tmp_path):
    summary = train_molecules(
        config(pairs_csv, target_columns=["both"], folds=2, shared_encoder=True), tmp_path / "cv"
    )
    assert summary["folds"] == 2
    for fold in ("fold_0", "fold_1"):
        trained = load_model(tmp_path / "cv" / fold / "model.pt")
        assert len(trained.model.encoders()) == 1
        assert trained.model.head[0].in_features == 32  # two molecule vectors of 16
    new = tmp_path / "new.csv"
    new.write_text("solute,solvent\nCCO,O\n")
    frame = predict_molecules(tmp_path / "cv", new, tmp_path / "p.csv")
    assert np.isfinite(frame.both[0]) and np.isfinite(frame.both_std[0])


def test_a_target_of_the_second_molecule_alone_is_learned(pairs_csv, tmp_path):
    """The solute says nothing about the solvent's heavy atoms: the second encoder must. The
    same model on the solute alone learns nothing (R² about 0 on the test split)."""
    settings = {
        "target_columns": ["solvent_atoms"],
        "aggregation": "sum",
        "train": {"epochs": 40, "max_lr": 3e-3, "seed": 0},
    }
    metrics = train_molecules(config(pairs_csv, **settings), tmp_path / "pairs")
    assert metrics["train"]["r2"] > 0.8, metrics["train"]  # 0.90 with this seed
    assert metrics["test"]["r2"] > 0.7, metrics["test"]  # 0.86
    alone = config(pairs_csv, **settings)
    alone.smiles_columns = ["solute"]
    control = train_molecules(alone, tmp_path / "solute")
    assert control["test"]["r2"] < 0.3, control["test"]  # -0.06


def test_duplicates_are_rows_holding_the_same_molecules(tmp_path):
    data = tmp_path / "dup.csv"
    data.write_text("solute,solvent,y\nCCO,O,1\nCCO,CCO,2\nc1ccccc1,O,3\nOCC,O,4\n")
    with pytest.raises(DataFileError, match=r"1 molecules in 2 rows.*'CCO O' in rows 0, 3"):
        train_molecules(config(data, deduplicate="error"), tmp_path / "run")


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """60 rows of NCI solutes in four solvents, the bad row 5 (its solvent), an ``id``."""
    solutes = [line.split()[0] for line in NCI.read_text().splitlines()[300:315]]
    rows = [(f"m{k}", s, solvent) for k, s in enumerate(solutes) for solvent in SOLVENTS[:4]]
    rows[5] = ("bad", rows[5][1], "xyz")
    path = tmp_path_factory.mktemp("library") / "lib.csv"
    pd.DataFrame(rows, columns=["id", "solute", "solvent"]).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("predictors", [1, 2])
def test_screen_a_library_of_pairs(run, library, tmp_path, predictors):
    settings = {"progress": False, "workers": 0, "predictors": predictors, "chunk_size": 16}
    result = screen_library(
        run,
        library,
        tmp_path / "hits.csv",
        ScreenConfig(top_k=5, max_train_similarity=1.0, **settings),
    )
    assert result.screened == 60 and result.invalid == 1
    invalid = pd.read_csv(tmp_path / "hits.invalid.csv")
    assert invalid.row.tolist() == [5]
    assert invalid.reason.tolist() == [f"column 'solvent' ('xyz'): {SYNTAX}"]
    hits = result.hits
    assert list(hits.columns[:5]) == ["rank", "row", "smiles", "id", "solvent"]
    reference = predict_molecules(run, library, tmp_path / "all.csv")
    best = reference.both.sort_values(ascending=False).head(5)
    assert hits.row.tolist() == best.index.tolist()
    np.testing.assert_allclose(hits.both, best, rtol=1e-5)
    # The similarity filter reads the first column's molecule (the solute).
    assert set(hits.smiles) <= set(reference.solute)
    assert hits.max_train_similarity.between(0, 1).all()


def test_screen_refuses_a_smi_library_for_pairs(run, tmp_path):
    smi = tmp_path / "lib.smi"
    smi.write_text("CCO ethanol\n")
    with pytest.raises(ValueError, match=r"a \.smi library holds one molecule per line"):
        screen_library(run, smi, tmp_path / "hits.csv", ScreenConfig(progress=False))


def test_resume_accepts_a_run_record_written_before_the_columns_existed():
    current = MoleculeTrainConfig(data="x.csv")
    saved = current.to_dict()
    del saved["smiles_columns"], saved["shared_encoder"]
    assert current.resume_conflicts(saved) == []
    two = MoleculeTrainConfig(data="x.csv", smiles_columns=["a", "b"], shared_encoder=True)
    assert two.resume_conflicts(saved) == [
        "smiles_columns: None -> ['a', 'b']",
        "shared_encoder: False -> True",
    ]
