"""Fine-tuning (``gnnkit mol train --init-from``): new heads, frozen weights, refused sources."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from gnnkit.cli.main import main
from gnnkit.models import build_model
from gnnkit.train import Task, TrainConfig, TrainedModel, load_model
from gnnkit.workflows.molecules import MoleculeTrainConfig, train_molecules
from gnnkit.workflows.molecules.finetune import InitSource, freeze, initialise

SMALL = ["--hidden", "16", "--ffn-hidden", "16", "--batch-size", "16", "--progress", "none"]
SMILES = [
    head + tail
    for head in ("C", "CC", "CCC", "CCCC", "CCCCC", "c1ccccc1")
    for tail in ("", "O", "N", "Cl", "C(=O)O", "OC", "S")
]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    """One file with one target (``atoms``), one with two (``atoms``, ``half``)."""
    folder = tmp_path_factory.mktemp("finetune")
    atoms = [float(sum((c.isalpha() and c.isupper()) or c == "c" for c in s)) for s in SMILES]
    frame = pd.DataFrame({"smiles": SMILES, "atoms": atoms})
    frame.to_csv(folder / "one.csv", index=False)
    frame.assign(half=[a / 2 for a in atoms]).to_csv(folder / "two.csv", index=False)
    return {"one": folder / "one.csv", "two": folder / "two.csv"}


@pytest.fixture(scope="module")
def source(data, tmp_path_factory) -> Path:
    """A one-task D-MPNN with two hidden FFN layers and dropout, trained for 2 epochs."""
    out = tmp_path_factory.mktemp("source") / "run"
    arguments = ["--data", str(data["one"]), "--epochs", "2", "--ffn-layers", "2"]
    assert main(["mol", "train", *arguments, "--dropout", "0.2", *SMALL, "--out", str(out)]) == 0
    return out


def train(data: Path, out: Path, *options: str) -> int:
    arguments = ["--data", str(data), "--epochs", "3", "--max-lr", "1e-2", "--progress", "none"]
    return main(["mol", "train", *arguments, "--batch-size", "16", *options, "--out", str(out)])


def test_one_task_to_two_trains_and_predicts(source, data, tmp_path):
    out = tmp_path / "two"
    assert train(data["two"], out, "--init-from", str(source)) == 0
    tuned = load_model(out / "model.pt")
    assert tuned.task.names == ("atoms", "half")
    original = load_model(source / "model.pt").model.state_dict()
    state = tuned.model.state_dict()
    assert state["head.6.weight"].shape == (2, 16) and original["head.6.weight"].shape == (1, 16)
    assert state["encoder.W_i.weight"].shape == (16, 86)  # the source's width, not the default
    metrics = json.loads((out / "metrics.json").read_text())
    sha = hashlib.sha256((source / "model.pt").read_bytes()).hexdigest()
    assert metrics["init_from"] == {
        "path": str(source / "model.pt"),
        "sha256": sha,
        "frozen": {"encoder": False, "ffn_layers": 0},
        "output_layer_rebuilt": True,
    }
    run = json.loads((out / "run.json").read_text())
    assert run["files"]["init_from"] == {"path": str(source / "model.pt"), "sha256": sha}
    assert run["config"]["ffn_layers"] == 2 and run["config"]["hidden_channels"] == 16
    preds = tmp_path / "preds.csv"
    assert (
        main(
            ["mol", "predict", "--model", str(out), "--data", str(data["one"]), "--out", str(preds)]
        )
        == 0
    )
    frame = pd.read_csv(preds)
    assert list(frame.columns) == ["smiles", "atoms", "atoms_pred", "half"]
    assert np.isfinite(frame[["atoms_pred", "half"]].to_numpy()).all()


def test_frozen_encoder_keeps_the_source_weights_bit_for_bit(source, data, tmp_path):
    out = tmp_path / "frozen"
    options = ["--init-from", str(source), "--freeze-encoder", "--freeze-ffn-layers", "1"]
    assert train(data["one"], out, *options, "--dropout", "0.3") == 0
    before = load_model(source / "model.pt").model.state_dict()
    after = load_model(out / "model.pt").model.state_dict()
    encoder = [key for key in before if key.startswith("encoder.")]
    assert encoder == [
        "encoder.W_i.weight",
        "encoder.W_h.weight",
        "encoder.W_o.weight",
        "encoder.W_o.bias",
    ]
    for key in [*encoder, "head.0.weight", "head.0.bias"]:  # the first FFN layer too
        assert torch.equal(before[key], after[key]), key
    for key in ("head.3.weight", "head.6.weight"):  # the layers that train
        assert not torch.equal(before[key], after[key]), key
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["init_from"]["frozen"] == {"encoder": True, "ffn_layers": 1}
    assert metrics["init_from"]["output_layer_rebuilt"] is False  # same task: kept


def test_ensemble_source_gives_its_first_member(data, tmp_path, capsys):
    config = MoleculeTrainConfig(
        data=str(data["one"]),
        hidden_channels=8,
        ffn_hidden_channels=8,
        ensemble=2,
        train=TrainConfig(epochs=1, warmup_epochs=1, batch_size=16, patience=None, progress="none"),
    )
    train_molecules(config, tmp_path / "ens")
    tuned = MoleculeTrainConfig(
        data=str(data["one"]),
        init_from=str(tmp_path / "ens"),
        freeze_encoder=True,
        train=TrainConfig(epochs=1, warmup_epochs=1, batch_size=16, patience=None, progress="none"),
    )
    metrics = train_molecules(tuned, tmp_path / "tuned")
    first = tmp_path / "ens" / "member_0" / "model.pt"
    assert metrics["init_from"]["path"] == str(first)
    assert (
        f"holds 2 models (an ensemble or folds); fine-tuning starts from the first, {first}"
        in capsys.readouterr().err
    )
    encoder = load_model(tmp_path / "tuned" / "model.pt").model.encoder.state_dict()
    for key, value in load_model(first).model.encoder.state_dict().items():
        assert torch.equal(encoder[key], value)


def test_mismatched_featurizer_is_refused(source, data, tmp_path, capsys):
    model = source / "model.pt"
    options = ["--init-from", str(source), "--atom-features", "rich", "--descriptors", "rdkit2d"]
    assert train(data["one"], tmp_path / "x", *options) == 1
    assert capsys.readouterr().err == (
        f"gnnkit mol train: error: cannot fine-tune from {model}: it was trained on other inputs "
        "than this run makes, so its weights would read misaligned features: atom_features 'v2' "
        "there, 'rich' here (--atom-features); descriptors None there, 'rdkit2d' here "
        "(--descriptors / --descriptors-file)\n"
    )
    assert not (tmp_path / "x").exists()


def test_other_molecules_per_row_are_refused(source, data, tmp_path, capsys):
    frame = pd.read_csv(data["one"]).assign(solvent="O")
    frame.to_csv(tmp_path / "pairs.csv", index=False)
    columns = ["--smiles-columns", "smiles", "solvent", "--target-columns", "atoms"]
    options = ["--init-from", str(source), *columns]
    assert train(tmp_path / "pairs.csv", tmp_path / "x", *options) == 1
    assert capsys.readouterr().err == (
        f"gnnkit mol train: error: cannot fine-tune from {source / 'model.pt'}: it was trained "
        "on other inputs than this run makes, so its weights would read misaligned features: "
        "n_components 1 there, 2 here (--smiles-columns)\n"
    )


def test_conflicting_architecture_and_freezing_are_refused(source, data, tmp_path, capsys):
    model = source / "model.pt"
    assert train(data["one"], tmp_path / "x", "--init-from", str(source), "--hidden", "32") == 1
    assert capsys.readouterr().err == (
        f"gnnkit mol train: error: cannot fine-tune from {model} with another architecture: "
        "hidden_channels=16 there, 32 here (--hidden); the architecture comes from the source "
        "model, so drop these options or give its values\n"
    )
    assert (
        train(data["one"], tmp_path / "x", "--init-from", str(source), "--freeze-ffn-layers", "3")
        == 1
    )
    assert "freeze_ffn_layers=3 (--freeze-ffn-layers) but the head of" in capsys.readouterr().err
    assert train(data["one"], tmp_path / "x", "--freeze-encoder") == 1
    assert capsys.readouterr().err == (
        "gnnkit mol train: error: freeze_encoder (--freeze-encoder) and freeze_ffn_layers "
        "(--freeze-ffn-layers) freeze weights copied from a trained model: give init_from "
        "(--init-from)\n"
    )


def test_resume_keeps_the_source(source, data, tmp_path, capsys):
    out = tmp_path / "r"
    assert train(data["one"], out, "--init-from", str(source), "--freeze-encoder") == 0
    assert train(data["one"], out, "--init-from", str(source), "--freeze-encoder", "--resume") == 0
    assert train(data["one"], out, "--resume") == 1
    err = capsys.readouterr().err
    assert f"cannot resume {out}: it was trained with init from {source / 'model.pt'}" in err


@pytest.mark.parametrize(("task", "rebuilt"), [("regression", False), ("classification", True)])
def test_output_layer_is_rebuilt_when_the_task_kind_changes(task, rebuilt):
    hparams = {"atom_dim": 72, "bond_dim": 14, "hidden_channels": 8, "ffn_hidden_channels": 8}
    torch.manual_seed(0)
    trained = TrainedModel(build_model("dmpnn", hparams), Task.create("regression", 1))
    source = InitSource(Path("source.pt"), "0" * 64, trained)
    torch.manual_seed(1)
    model = build_model("dmpnn", hparams)
    fresh = model.head[-1].weight.clone()
    config = MoleculeTrainConfig(task=task, init_from="source.pt", freeze_ffn_layers=1)
    record = initialise(model, source, config)
    assert record["output_layer_rebuilt"] is rebuilt
    expected = fresh if rebuilt else trained.model.head[-1].weight
    assert torch.equal(model.head[-1].weight, expected)
    assert torch.equal(model.encoder.W_h.weight, trained.model.encoder.W_h.weight)
    assert [p.requires_grad for p in model.head.parameters()] == [False, False, True, True]


def test_freezing_batch_normalisation_is_refused():
    model = nn.Module()
    model.encoder = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    model.head = nn.Sequential(nn.Linear(2, 1))
    with pytest.raises(ValueError, match="cannot freeze a part holding batch normalisation"):
        freeze(model, encoder=True, ffn_layers=0)
