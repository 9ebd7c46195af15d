"""``--precision int8``: close to fp32, CPU only, fp32 untouched, no deprecation warnings."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rdkit
import torch
from rdkit import Chem, rdBase
from scipy.stats import spearmanr
from torch import nn

from gnnkit.cli.main import main
from gnnkit.train import TrainConfig, load_ensemble, set_precision
from gnnkit.train.precision import check_precision, int8_layers
from gnnkit.workflows.molecules import (
    MoleculeTrainConfig,
    fingerprint_molecules,
    predict_molecules,
    train_molecules,
)
from gnnkit.workflows.screen import ScreenConfig, screen_library
from gnnkit.workflows.screen.plan import default_device

NCI = Path(rdkit.__file__).parent / "Data" / "NCI" / "first_5K.smi"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """A D-MPNN (hidden 64, two FFN layers, 10 epochs) trained to count the heavy atoms of 240
    NCI molecules (a target it learns within seconds, so its predictions spread)."""
    root = tmp_path_factory.mktemp("precision")
    with rdBase.BlockLogs():
        mols = [Chem.MolFromSmiles(line.split()[0]) for line in NCI.read_text().splitlines()]
    smiles = [Chem.MolToSmiles(mol) for mol in mols[100:400] if mol is not None][:240]
    counts = [Chem.MolFromSmiles(s).GetNumHeavyAtoms() for s in smiles]
    pd.DataFrame({"smiles": smiles, "heavy_atoms": counts}).to_csv(root / "heavy.csv", index=False)
    config = MoleculeTrainConfig(
        data=str(root / "heavy.csv"),
        hidden_channels=64,
        ffn_hidden_channels=64,
        ffn_layers=2,
        train=TrainConfig(epochs=10, batch_size=32, patience=None, progress="none", seed=0),
    )
    train_molecules(config, root / "run")
    return root / "run"


@pytest.fixture(scope="module")
def molecules(tmp_path_factory) -> Path:
    """60 NCI molecules as a ``smiles`` CSV."""
    smiles = [line.split()[0] for line in NCI.read_text().splitlines()[:60]]
    path = tmp_path_factory.mktemp("nci") / "nci60.csv"
    pd.DataFrame({"smiles": smiles}).to_csv(path, index=False)
    return path


def test_int8_follows_fp32_without_warnings(run, molecules, tmp_path):
    fp32 = predict_molecules(run, molecules, tmp_path / "fp32.csv").heavy_atoms.dropna()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        int8 = predict_molecules(run, molecules, tmp_path / "int8.csv", precision="int8")
    assert [str(w.message) for w in caught] == []
    int8 = int8.heavy_atoms.dropna()
    assert len(int8) == len(fp32) >= 50
    assert spearmanr(fp32, int8).statistic >= 0.98
    assert np.abs(fp32 - int8).max() <= 0.05 * (fp32.max() - fp32.min())
    assert not np.array_equal(fp32, int8)  # the int8 layers did run


def test_int8_swaps_the_message_and_head_layers_only(run):
    model = load_ensemble(run).members[0].model
    assert int8_layers(model) == {"encoder.W_h", "encoder.W_o", "head.0", "head.3", "head.6"}
    model = set_precision(load_ensemble(run), "int8").members[0].model
    assert type(model.encoder.W_i) is nn.Linear
    for name in ("W_h", "W_o"):
        assert not isinstance(getattr(model.encoder, name), nn.Linear)
    assert not any(isinstance(layer, nn.Linear) for layer in model.head)


def test_fp32_leaves_the_model_as_trained(run, molecules, tmp_path):
    plain, kept = load_ensemble(run), set_precision(load_ensemble(run), "fp32")
    for a, b in zip(
        plain.members[0].model.state_dict().values(), kept.members[0].model.state_dict().values()
    ):
        assert torch.equal(a, b)
    assert type(kept.members[0].model.encoder.W_h) is nn.Linear
    first = predict_molecules(run, molecules, tmp_path / "a.csv")
    second = predict_molecules(run, molecules, tmp_path / "b.csv", precision="fp32")
    assert first.equals(second)


def test_int8_is_refused_on_a_gpu(run, molecules, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"^--precision int8 runs on the CPU only, not on cuda"):
        check_precision("int8", "cuda:0")
    with pytest.raises(ValueError, match="--precision must be one of fp32, int8, got 'fp16'"):
        check_precision("fp16", "cpu")
    check_precision("fp32", "cuda")
    with pytest.raises(ValueError, match="--precision int8 runs on the CPU only"):
        screen_library(
            run,
            molecules,
            tmp_path / "hits.csv",
            ScreenConfig(device="cuda", precision="int8", progress=False),
        )
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert default_device(ScreenConfig(precision="int8")) == "cpu"
    assert default_device(ScreenConfig()) == "cuda"
    with pytest.raises(ValueError, match="precision must be one of"):
        ScreenConfig(precision="int4")


def test_int8_supports_the_dmpnn_only():
    with pytest.raises(ValueError, match="D-MPNN models only, not Sequential"):
        int8_layers(nn.Sequential(nn.Linear(2, 2)))


def test_cli_takes_the_precision(run, molecules, tmp_path, capsys):
    common = ["--model", str(run), "--precision", "int8"]
    preds = tmp_path / "preds.csv"
    assert main(["mol", "predict", *common, "--data", str(molecules), "--out", str(preds)]) == 0
    fingerprints = tmp_path / "fp.npy"
    assert (
        main(["mol", "fingerprint", *common, "--data", str(molecules), "--out", str(fingerprints)])
        == 0
    )
    reference = fingerprint_molecules(run, molecules, tmp_path / "fp32.npy")
    assert np.load(fingerprints).shape == (len(reference), 64)
    hits = tmp_path / "hits.csv"
    screen = ["--library", str(molecules), "--out", str(hits), "--top", "5", "--no-progress"]
    assert main(["mol", "screen", *common, *screen, "--workers", "0"]) == 0
    top = pd.read_csv(preds).nlargest(5, "heavy_atoms")
    assert pd.read_csv(hits).heavy_atoms.tolist() == pytest.approx(
        top.heavy_atoms.tolist(), abs=1e-5
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["mol", "predict", "--model", str(run), "--data", str(molecules), "--out",
              str(preds), "--precision", "fp16"])  # fmt: skip
    assert exit_info.value.code == 2
    assert "invalid choice: 'fp16'" in capsys.readouterr().err


def test_int8_predictor_processes_match_one_process(run, molecules, tmp_path):
    """Forked predictor processes inherit the quantized model and write the same hits."""
    settings = {"top_k": 10, "chunk_size": 16, "progress": False, "precision": "int8"}
    screen_library(run, molecules, tmp_path / "one.csv", ScreenConfig(workers=0, **settings))
    screen_library(run, molecules, tmp_path / "two.csv", ScreenConfig(predictors=2, **settings))
    assert (tmp_path / "two.csv").read_text() == (tmp_path / "one.csv").read_text()
