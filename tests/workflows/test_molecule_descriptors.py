"""RDKit descriptors of a checkpoint: stored by name with the RDKit version, checked on load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from rdkit import rdBase

from gnnkit.cli.main import main
from gnnkit.data.molecules import FeaturizerConfig
from gnnkit.data.molecules.descriptors import compute_descriptors, rdkit2d_names
from gnnkit.data.molecules.inputs import prediction_inputs
from gnnkit.models import build_model
from gnnkit.train import CheckpointError, Task, TrainedModel, save_checkpoint
from gnnkit.workflows.molecules import load_molecule_ensemble, predict_molecules

INSTALLED = rdBase.rdkitVersion
OLD = "2020.09.1"
SMILES = ["CCO", "c1ccccc1O"]


def save_model(folder: Path, width: int, **record: object) -> Path:
    """A small untrained D-MPNN taking ``width`` RDKit descriptors, saved with ``record``
    (descriptor names and RDKit version, or nothing: a checkpoint of an older gnnkit)."""
    config = FeaturizerConfig()
    hparams = {"atom_dim": config.atom_dim, "bond_dim": config.bond_dim, "out_channels": 1}
    hparams.update(hidden_channels=8, ffn_hidden_channels=8, descriptor_dim=width)
    torch.manual_seed(0)
    model = build_model("dmpnn", hparams)
    featurizer = {**config.to_dict(), "descriptors": "rdkit2d", "smiles_column": "smiles", **record}
    trained = TrainedModel(model.eval(), Task.create("regression", 1, ["y"]), None, featurizer)
    folder.mkdir()
    return save_checkpoint(trained, folder / "model.pt")


def test_a_descriptor_the_installed_rdkit_lacks_is_refused(tmp_path: Path, capsys):
    names = ["MolWt", "NoSuchDescriptor", "TPSA"]
    path = save_model(tmp_path / "run", 3, descriptor_names=names, rdkit_version=OLD)
    expected = (
        f"{path}: trained with RDKit {OLD} descriptors that the installed RDKit {INSTALLED} "
        f"lacks: NoSuchDescriptor; predict with RDKit {OLD}, or train it again"
    )
    with pytest.raises(CheckpointError) as refused:
        load_molecule_ensemble(tmp_path / "run")
    assert str(refused.value) == expected
    data = tmp_path / "new.csv"
    data.write_text("smiles\nCCO\n")
    command = ["mol", "predict", "--model", str(tmp_path / "run"), "--data", str(data)]
    assert main([*command, "--out", str(tmp_path / "p.csv")]) == 1
    assert capsys.readouterr().err == f"gnnkit mol predict: error: {expected}\n"


def test_descriptors_are_computed_by_name_in_the_stored_order(tmp_path: Path, capsys):
    names = ["TPSA", "MolWt", "NumHDonors"]  # not RDKit's order
    path = save_model(tmp_path / "run", 3, descriptor_names=names, rdkit_version=INSTALLED)
    ensemble = load_molecule_ensemble(tmp_path / "run")
    assert capsys.readouterr().err == ""
    inputs = prediction_inputs(SMILES, ensemble.featurizer)
    everything = compute_descriptors(SMILES)
    columns = [rdkit2d_names().index(name) for name in names]
    np.testing.assert_array_equal(inputs.descriptors.numpy(), everything[:, columns].astype("f4"))
    assert inputs.descriptors[0, 1].item() == pytest.approx(46.069, abs=1e-3)  # ethanol's MolWt
    data = tmp_path / "new.csv"
    pd.DataFrame({"smiles": SMILES}).to_csv(data, index=False)
    predictions = predict_molecules(path.parent, data, tmp_path / "p.csv")
    assert predictions.y.notna().all()


def test_another_rdkit_version_with_the_same_names_warns(tmp_path: Path, capsys):
    names = rdkit2d_names()
    path = save_model(tmp_path / "run", len(names), descriptor_names=names, rdkit_version=OLD)
    load_molecule_ensemble(tmp_path / "run")
    assert capsys.readouterr().err == (
        f"warning: {path}: trained with RDKit {OLD}, the installed RDKit is {INSTALLED}: RDKit "
        "descriptor values may differ slightly\n"
    )


def test_a_checkpoint_without_names_gets_the_installed_list_when_it_fits(tmp_path, capsys):
    count = len(rdkit2d_names())
    fits = save_model(tmp_path / "fits", count)
    load_molecule_ensemble(tmp_path / "fits")
    assert capsys.readouterr().err == (
        f"warning: {fits}: stores no RDKit descriptor names (an older gnnkit): using the "
        f"installed RDKit {INSTALLED}'s {count} descriptors\n"
    )
    narrower = save_model(tmp_path / "narrower", count - 7)
    with pytest.raises(CheckpointError) as refused:
        load_molecule_ensemble(tmp_path / "narrower")
    assert str(refused.value) == (
        f"{narrower}: trained with {count - 7} RDKit descriptors whose names it does not store "
        f"(an older gnnkit); the installed RDKit {INSTALLED} has {count}: predict with the RDKit "
        "it was trained with, or train it again"
    )
