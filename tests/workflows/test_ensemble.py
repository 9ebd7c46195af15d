"""Ensembles, MC dropout and learned fingerprints (``gnnkit mol train --ensemble``,
``predict --mc-dropout``, ``fingerprint``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rdkit
import torch
from chembl_runs import train_chembl_sample
from torch_geometric.data import Batch

from gnnkit.cli.main import main
from gnnkit.models import build_model
from gnnkit.train import (
    Ensemble,
    Task,
    TrainConfig,
    TrainedModel,
    find_model_files,
    load_ensemble,
    load_model,
)
from gnnkit.workflows.molecules import (
    featurize_for_prediction,
    fingerprint_molecules,
    predict_molecules,
)

NCI = Path(rdkit.__file__).parent / "Data" / "NCI" / "first_5K.smi"
MEMBERS = 3
FEATURIZER = {"atom_features": "v2"}


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory) -> Path:
    """Three D-MPNNs (dropout 0.1) trained on 400 molecules of the embedded ChEMBL series."""
    return train_chembl_sample(
        tmp_path_factory.mktemp("ensemble"),
        400,
        TrainConfig(epochs=15, batch_size=32, max_lr=3e-3, patience=None, progress="none", seed=0),
        hidden_channels=64,
        ffn_hidden_channels=64,
        aggregation="mean",
        dropout=0.1,
        ensemble=MEMBERS,
    )


def nci_smiles(count: int) -> list[str]:
    return [line.split()[0] for line in NCI.read_text().splitlines()[:count]]


def untrained(**hparams: object) -> TrainedModel:
    """A small, freshly initialised D-MPNN regressor."""
    torch.manual_seed(0)
    model = build_model("dmpnn", {"hidden_channels": 16, "ffn_hidden_channels": 8, **hparams})
    return TrainedModel(model, Task.create("regression", 1), None, FEATURIZER)


def penultimate_by_hand(trained: TrainedModel, graphs: list) -> torch.Tensor:
    """The last hidden Linear's output, before its ReLU: chemprop's ``encoding(i=-1)``."""
    linears = [m for m in trained.model.head if isinstance(m, torch.nn.Linear)][:-1]
    with torch.no_grad():
        h = trained.model.eval().molecule_embedding(Batch.from_data_list(graphs))
        for k, linear in enumerate(linears):
            h = (h if k == 0 else h.relu()) @ linear.weight.t() + linear.bias
    return h


def test_ensemble_run_scores_the_mean_of_its_members(ensemble_run):
    metrics = json.loads((ensemble_run / "metrics.json").read_text())
    assert metrics["ensemble"] == MEMBERS and len(metrics["members"]) == MEMBERS
    assert [m["seed"] for m in metrics["members"]] == [0, 1, 2]
    assert metrics["splits"] == {"train": 320, "val": 40, "test": 40}
    files = find_model_files(ensemble_run)
    assert [f.parent.name for f in files] == ["member_0", "member_1", "member_2"]
    # all members share the split: the one splits.json at the top
    assert not (ensemble_run / "member_0" / "splits.json").exists()

    table = pd.read_csv(ensemble_run / "test_predictions.csv")
    graphs, _, _ = featurize_for_prediction(table.id.tolist(), load_model(files[0]).featurizer)
    samples = torch.stack([load_model(f).predict(graphs)[:, 0] for f in files])
    np.testing.assert_allclose(table.pIC50_pred, samples.mean(0), rtol=1e-5)
    np.testing.assert_allclose(table.pIC50_std, samples.std(0, unbiased=False), atol=1e-6)
    rmse = float(np.sqrt(np.mean((table.pIC50_pred - table.pIC50_target) ** 2)))
    assert metrics["test"]["rmse"] == pytest.approx(rmse, rel=1e-5)


def test_ensemble_disagrees_more_far_from_the_training_data(ensemble_run):
    """Members agree on their training molecules (a congeneric ChEMBL sulfonamide series) and
    disagree on NCI molecules, which share almost no substructures with it: mean std 0.085 on
    the training molecules against 0.172 on NCI (2.0×) with these seeds; we ask for ≥ 1.3×."""
    ensemble = load_ensemble(ensemble_run)
    training = pd.read_csv(ensemble_run / "training_smiles.csv").smiles.tolist()
    near, _, _ = featurize_for_prediction(training, ensemble.featurizer)
    far, _, _ = featurize_for_prediction(nci_smiles(300), ensemble.featurizer)
    spread_near = ensemble.predict(near).std.mean().item()
    spread_far = ensemble.predict(far).std.mean().item()
    assert spread_far > 1.3 * spread_near, (spread_near, spread_far)


def test_predict_adds_std_columns_for_an_ensemble(ensemble_run, tmp_path):
    library = tmp_path / "library.csv"
    pd.DataFrame({"smiles": [*nci_smiles(5), "C1CC(("], "name": list("abcdef")}).to_csv(
        library, index=False
    )
    frame = predict_molecules(ensemble_run, library, tmp_path / "preds.csv")
    assert list(frame.columns) == ["smiles", "name", "pIC50", "pIC50_std"]
    assert frame.pIC50_std.iloc[:5].gt(0).all()
    assert frame.iloc[5][["pIC50", "pIC50_std"]].isna().all()
    one = predict_molecules(ensemble_run / "member_1", library, tmp_path / "one.csv")
    assert list(one.columns) == ["smiles", "name", "pIC50"]


def test_mc_dropout_is_seeded_and_needs_dropout(ensemble_run, tmp_path):
    library = tmp_path / "library.csv"
    pd.DataFrame({"smiles": nci_smiles(8)}).to_csv(library, index=False)
    member = ensemble_run / "member_0"
    first = predict_molecules(member, library, tmp_path / "a.csv", mc_dropout=10, seed=3)
    again = predict_molecules(member, library, tmp_path / "b.csv", mc_dropout=10, seed=3)
    other = predict_molecules(member, library, tmp_path / "c.csv", mc_dropout=10, seed=4)
    pd.testing.assert_frame_equal(first, again)
    assert first.pIC50_std.gt(0).all() and not np.allclose(first.pIC50, other.pIC50)
    plain = predict_molecules(member, library, tmp_path / "d.csv")
    # the MC mean stays near the deterministic prediction
    assert np.abs(first.pIC50 - plain.pIC50).max() < 0.5

    no_dropout = load_model(member / "model.pt")
    for module in no_dropout.model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    graphs, _, _ = featurize_for_prediction(nci_smiles(2), no_dropout.featurizer)
    with pytest.raises(ValueError, match=r"the model has no dropout \(trained with dropout 0\)"):
        Ensemble([no_dropout], [Path("m.pt")]).predict(graphs, mc_samples=4)


def test_mc_dropout_samples_the_encoder():
    """Without hidden FFN layers (``--ffn-layers 0``) the only dropout is the encoder's."""
    graphs, _, _ = featurize_for_prediction(nci_smiles(4), FEATURIZER)
    encoder_only = untrained(ffn_layers=0, dropout=0.3)
    torch.manual_seed(1)
    prediction = Ensemble([encoder_only]).predict(graphs, mc_samples=2)
    assert prediction.std.gt(0).all()
    samples = Ensemble([encoder_only]).sample_batch(Batch.from_data_list(graphs), mc_samples=2)
    assert samples.shape == (2, 4, 1) and not torch.allclose(samples[0], samples[1])
    with pytest.raises(ValueError, match=r"member_0: the model has no dropout"):
        Ensemble([untrained(ffn_layers=0, dropout=0.0)]).predict(graphs, mc_samples=2)


@pytest.mark.parametrize("ffn_layers", [1, 2])
def test_penultimate_fingerprint_is_chemprops_encoding(ffn_layers):
    graphs, _, _ = featurize_for_prediction(nci_smiles(6), FEATURIZER)
    trained = untrained(ffn_layers=ffn_layers, dropout=0.3)
    fingerprints = Ensemble([trained]).fingerprints(graphs, layer="penultimate")
    expected = penultimate_by_hand(trained, graphs)
    assert fingerprints.shape == (6, 8) and (fingerprints < 0).any()
    torch.testing.assert_close(fingerprints, expected, rtol=1e-5, atol=1e-6)


def test_penultimate_fingerprint_without_hidden_layers_is_the_aggregate():
    graphs, _, _ = featurize_for_prediction(nci_smiles(3), FEATURIZER)
    ensemble = Ensemble([untrained(ffn_layers=0)])
    torch.testing.assert_close(
        ensemble.fingerprints(graphs, layer="penultimate"),
        ensemble.fingerprints(graphs, layer="aggregate"),
    )


def test_ensemble_members_must_agree():
    model = torch.nn.Linear(1, 1)
    one = TrainedModel(model, Task.create("regression", 1, ["a"]), None, {"kind": "x"})
    other = TrainedModel(model, Task.create("regression", 1, ["b"]), None, {"kind": "x"})
    with pytest.raises(ValueError, match="must share task and featurizer"):
        Ensemble([one, other], [Path("one.pt"), Path("other.pt")])
    with pytest.raises(ValueError, match="at least one model"):
        Ensemble([])


def test_find_model_files_errors_name_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"empty: no model\.pt there nor in member"):
        find_model_files(tmp_path / "empty")


def test_fingerprints_are_the_molecule_embeddings(ensemble_run, tmp_path):
    library = tmp_path / "library.csv"
    smiles = [*nci_smiles(4), "not-a-smiles", "CCO"]
    pd.DataFrame({"smiles": smiles}).to_csv(library, index=False)

    frame = fingerprint_molecules(ensemble_run, library, tmp_path / "fp.csv", member=2)
    written = pd.read_csv(tmp_path / "fp.csv")
    assert written.row.tolist() == [0, 1, 2, 3, 5] and written.smiles[4] == "CCO"
    assert written.shape[1] == 2 + 64
    trained = load_model(ensemble_run / "member_2" / "model.pt")
    graphs, _, _ = featurize_for_prediction([smiles[i] for i in written.row], trained.featurizer)
    batch = Batch.from_data_list(graphs)
    with torch.no_grad():
        expected = trained.model.molecule_embedding(batch).numpy()
    np.testing.assert_allclose(frame.filter(like="fp_").to_numpy(), expected, atol=1e-5)
    assert pd.read_csv(tmp_path / "invalid_smiles.csv").smiles.tolist() == ["not-a-smiles"]

    code = main(
        [
            "mol",
            "fingerprint",
            "--model",
            str(ensemble_run),
            "--data",
            str(library),
            "--out",
            str(tmp_path / "fp.npy"),
            "--layer",
            "penultimate",
        ]
    )
    assert code == 0
    matrix = np.load(tmp_path / "fp.npy")
    assert matrix.shape == (5, 64) and matrix.dtype == np.float32
    first = load_model(ensemble_run / "member_0" / "model.pt")
    np.testing.assert_allclose(matrix, penultimate_by_hand(first, graphs).numpy(), atol=1e-5)
    assert pd.read_csv(tmp_path / "fp.rows.csv").row.tolist() == [0, 1, 2, 3, 5]
    with pytest.raises(ValueError, match=r"fp\.txt: the fingerprint file must end in \.csv"):
        fingerprint_molecules(ensemble_run, library, tmp_path / "fp.txt")


def test_cli_ensemble_predict_reports_std(ensemble_run, tmp_path, capsys):
    library = tmp_path / "library.csv"
    pd.DataFrame({"smiles": nci_smiles(3)}).to_csv(library, index=False)
    out = tmp_path / "preds.csv"
    arguments = ["--model", str(ensemble_run), "--data", str(library), "--out", str(out)]
    code = main(["mol", "predict", *arguments])
    assert code == 0
    assert pd.read_csv(out).columns.tolist() == ["smiles", "pIC50", "pIC50_std"]
