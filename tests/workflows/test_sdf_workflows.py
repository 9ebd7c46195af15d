"""``gnnkit mol train/predict/fingerprint/screen`` on an SD file with a record RDKit cannot
read and text class labels."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

from gnnkit.cli.main import main
from gnnkit.train import load_model

CLASSES = ["(A) small", "(B) medium", "(C) large"]
SMALL = ["--hidden", "16", "--ffn-hidden", "16", "--batch-size", "16", "--progress", "none"]
BAD = "SD record 'bad nitrogen': Explicit valence for atom # 0 N, 4, is greater than permitted"


def size_class(mol: Chem.Mol) -> str:
    """The label of a molecule: by heavy atoms, up to 3, up to 6, more."""
    return CLASSES[min(2, (mol.GetNumHeavyAtoms() - 1) // 3)]


@pytest.fixture(scope="module")
def sd_file(tmp_path_factory) -> Path:
    """40 small molecules (title ``m<k>``, property ``SIZE`` a text label, ``logP`` missing
    for every fifth), record 20 one RDKit cannot sanitize; gzip-compressed."""
    folder = tmp_path_factory.mktemp("sdf")
    plain = folder / "library.sdf"
    smiles = [
        head + tail
        for head in ("C", "CC", "CCC", "CCCC", "CCCCC")
        for tail in ("", "O", "N", "Cl", "C(=O)O", "c1ccccc1", "OC", "S")
    ]
    bad = Chem.MolToMolBlock(Chem.MolFromSmiles("C(C)(C)(C)C")).replace(" C ", " N ", 1)
    bad = "bad nitrogen\n" + bad.split("\n", 1)[1] + ">  <SIZE>\n(A) small\n\n$$$$\n"
    with open(plain, "w") as handle:
        for k, text in enumerate(smiles):
            if k == 20:
                handle.write(bad)
            mol = Chem.MolFromSmiles(text)
            mol.SetProp("_Name", f"m{k}")
            mol.SetProp("SIZE", size_class(mol))
            if k % 5:
                mol.SetProp("logP", f"{0.1 * mol.GetNumHeavyAtoms():.1f}")
            handle.write(Chem.MolToMolBlock(mol))
            handle.write("".join(f">  <{p}>\n{mol.GetProp(p)}\n\n" for p in mol.GetPropNames()))
            handle.write("$$$$\n")
    packed = folder / "library.sdf.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    return packed


@pytest.fixture(scope="module")
def trained(sd_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "size"
    arguments = ["--data", str(sd_file), "--target-columns", "SIZE", "--task", "multiclass"]
    code = main(["mol", "train", *arguments, "--epochs", "3", *SMALL, "--out", str(out)])
    assert code == 0
    return out


def test_train_on_sd_file_with_text_labels(trained, sd_file):
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["task"] == "multiclass" and metrics["class_names"] == CLASSES
    assert sum(metrics["splits"].values()) == 40  # 41 records, one unreadable
    invalid = pd.read_csv(trained / "invalid_smiles.csv", keep_default_na=False)
    lines = gzip.decompress(sd_file.read_bytes()).decode().splitlines()
    assert invalid.row.tolist() == [20] and lines[invalid.line[0] - 1] == "bad nitrogen"
    assert invalid.smiles.tolist() == [""] and invalid.reason.tolist() == [BAD]
    model = load_model(trained / "model.pt")
    assert model.task.class_names == tuple(CLASSES) and model.task.n_classes == 3
    tests = pd.read_csv(trained / "test_predictions.csv")
    assert list(tests.columns) == [
        "id",
        "SIZE_target",
        "SIZE_pred",
        *(f"SIZE_prob_{label}" for label in CLASSES),
    ]
    assert set(tests.SIZE_target) <= set(CLASSES) and set(tests.SIZE_pred) <= set(CLASSES)


def test_predict_names_the_classes(trained, sd_file, tmp_path):
    out = tmp_path / "p" / "preds.csv"
    assert (
        main(["mol", "predict", "--model", str(trained), "--data", str(sd_file), "--out", str(out)])
        == 0
    )
    frame = pd.read_csv(out, keep_default_na=False)
    probabilities = [f"SIZE_prob_{label}" for label in CLASSES]
    assert list(frame.columns) == ["smiles", "name", "SIZE", "logP", "SIZE_pred", *probabilities]
    assert frame.name[20] == "bad nitrogen" and frame.smiles[20] == "" and frame.SIZE_pred[20] == ""
    valid = frame.drop(index=20)
    p = valid[probabilities].to_numpy(dtype=float)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    assert valid.SIZE_pred.tolist() == [CLASSES[k] for k in p.argmax(axis=1)]
    assert valid.smiles[0] == "C" and valid.smiles[21] == "CCCC(=O)O"  # record 21, canonical
    invalid = pd.read_csv(out.parent / "invalid_smiles.csv", keep_default_na=False)
    assert invalid.row.tolist() == [20] and invalid.reason.tolist() == [BAD]


def test_fingerprint_of_sd_file(trained, sd_file, tmp_path):
    out = tmp_path / "fp.csv"
    assert (
        main(
            [
                "mol",
                "fingerprint",
                "--model",
                str(trained),
                "--data",
                str(sd_file),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    frame = pd.read_csv(out)
    assert frame.shape == (40, 2 + 16) and 20 not in frame.row.tolist()
    invalid = pd.read_csv(tmp_path / "invalid_smiles.csv", keep_default_na=False)
    assert invalid.reason.tolist() == [BAD]


def test_screen_sd_file_ranks_by_a_named_class(trained, sd_file, tmp_path):
    out = tmp_path / "hits.csv"
    target = "SIZE_prob_(C) large"
    arguments = ["--library", str(sd_file), "--out", str(out), "--top", "5", "--target", target]
    code = main(
        [
            "mol",
            "screen",
            "--model",
            str(trained),
            *arguments,
            "--chunk-size",
            "7",
            "--predictors",
            "1",
            "--workers",
            "0",
            "--no-progress",
        ]
    )
    assert code == 0
    hits = pd.read_csv(out)
    assert list(hits.columns[:6]) == ["rank", "row", "smiles", "name", "SIZE", "logP"]
    assert "SIZE_pred" in hits.columns and "read_error" not in hits.columns
    assert hits[target].is_monotonic_decreasing and len(hits) == 5
    preds = tmp_path / "preds.csv"
    main(["mol", "predict", "--model", str(trained), "--data", str(sd_file), "--out", str(preds)])
    expected = pd.read_csv(preds).dropna(subset=[target]).nlargest(5, target)
    np.testing.assert_allclose(hits[target], expected[target], rtol=1e-5)
    invalid = pd.read_csv(tmp_path / "hits.invalid.csv", keep_default_na=False)
    assert invalid.row.tolist() == [20] and invalid.reason.tolist() == [BAD]
    assert invalid.line[0] == pd.read_csv(trained / "invalid_smiles.csv").line[0]
