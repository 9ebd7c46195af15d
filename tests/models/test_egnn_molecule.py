"""The molecular EGNN: its pair graph, E(3) and permutation invariance, training end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from rdkit import Chem
from torch_geometric.data import Batch

from gnnkit.cli.main import build_parser
from gnnkit.cli.mol import config_from_args
from gnnkit.data.molecules import FeaturizerConfig, MoleculeFeaturizer, MoleculeGraph
from gnnkit.data.molecules.conformers import embed_conformer
from gnnkit.data.molecules.featurizer import reverse_edges
from gnnkit.models import build_model
from gnnkit.models.egnn import complete_graph, pair_features
from gnnkit.symmetry import check_euclidean, check_permutation
from gnnkit.train import TrainConfig, load_model
from gnnkit.workflows.molecules import (
    MoleculeTrainConfig,
    featurize_for_prediction,
    predict_molecules,
    train_molecules,
)

SMILES = ["CCO", "c1ccccc1C(=O)O", "[Na+].[Cl-]", "CCN(CC)CC", "C"]
TRIOCTANOIN = "CCCCCCCC(=O)OCC(COC(=O)CCCCCCC)OC(=O)CCCCCCC"  # ETKDG cannot embed it


def graphs(smiles: list[str]) -> list[MoleculeGraph]:
    result, _, failures = featurize_for_prediction(smiles, {"conformers": True})
    assert failures == []
    return result


def model(**overrides) -> torch.nn.Module:
    torch.manual_seed(0)
    hparams = {"out_channels": 2, "hidden_channels": 16, "depth": 2, "ffn_hidden_channels": 8}
    return build_model("egnn", {**hparams, **overrides}).eval()


def test_complete_graph_within_each_molecule():
    pairs = complete_graph(torch.tensor([0, 0, 0, 1, 1, 2]), num_graphs=3)
    assert pairs.tolist() == [[1, 2, 0, 2, 0, 1, 4, 3], [0, 0, 1, 1, 2, 2, 3, 4]]
    bonds = torch.tensor([[0, 1, 3, 4], [1, 0, 4, 3]])
    attr = torch.tensor([[0.0, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]])
    features = pair_features(pairs, 6, bonds, attr)
    # columns 0, 2, 6, 7 — (1→0), (0→1), (4→3), (3→4) — are bonds; the rest get the null bond
    assert features.tolist() == [
        [0, 1, 0], [1, 0, 0], [0, 1, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 0, 1], [0, 0, 1],
    ]  # fmt: skip


@pytest.mark.parametrize("sizes", [[3, 0, 1, 4], [0, 0], [1], [2, 5, 0]])
def test_complete_graph_is_every_pair_of_distinct_nodes(sizes):
    batch = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    expected = sorted(
        (target, source)
        for target in range(batch.numel())
        for source in range(batch.numel())
        if source != target and batch[source] == batch[target]
    )
    source, target = complete_graph(batch, num_graphs=len(sizes))
    assert list(zip(target.tolist(), source.tolist())) == expected


@pytest.mark.parametrize("update_coordinates", [False, True])
def test_prediction_is_e3_invariant(update_coordinates, scatter_backend):
    batch = Batch.from_data_list(graphs(SMILES))
    certificate = check_euclidean(model(update_coordinates=update_coordinates), batch)
    assert certificate.passed and certificate.kind == "invariant"
    assert certificate.symmetry == "E(3)" and certificate.max_error < 1e-12


def test_prediction_depends_on_the_geometry():
    batch = Batch.from_data_list(graphs(SMILES))
    net = model(aggregation="sum")
    stretched = batch.clone()
    stretched.pos = 1.2 * batch.pos
    with torch.no_grad():
        change = (net(stretched) - net(batch)).abs().max().item()
    assert change > 1e-4  # so the invariance certificate is not vacuous


def test_permutation_certificate(scatter_backend):
    batch = Batch.from_data_list(graphs(SMILES))
    certificate = check_permutation(model(), batch, edge_pointer_keys=["rev_edge_index"])
    assert certificate.passed and certificate.kind == "invariant"
    assert certificate.max_error < 1e-5


def test_renumbered_atoms_with_their_positions_give_the_same_prediction():
    mol = Chem.MolFromSmiles("CC(=O)Nc1ccc(O)cc1")
    order = np.random.default_rng(0).permutation(mol.GetNumAtoms()).tolist()
    renumbered = Chem.RenumberAtoms(mol, order)  # new atom k is old atom order[k]
    pos = embed_conformer(mol)
    featurizer = MoleculeFeaturizer()
    molecules = []
    for molecule, positions in ((mol, pos), (renumbered, pos[order])):
        f = featurizer.featurize_mols([molecule])
        molecules.append(
            MoleculeGraph(
                x=torch.from_numpy(f.x),
                edge_index=torch.from_numpy(f.edge_index),
                edge_attr=torch.from_numpy(f.edge_attr),
                rev_edge_index=torch.from_numpy(reverse_edges(f.edge_index.shape[1])),
                pos=torch.from_numpy(positions),
            )
        )
    assert not torch.equal(molecules[0].x, molecules[1].x)
    net = model(hidden_channels=32, depth=3)
    with torch.no_grad():
        a, b = (net(Batch.from_data_list([g])) for g in molecules)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_molecule_embedding_and_errors():
    net = model(aggregation="mean")
    batch = Batch.from_data_list(graphs(["CCO", "CCCCCC"]))
    with torch.no_grad():
        atoms = net.atom_states(batch)
        embedding = net.molecule_embedding(batch)
    assert embedding.shape == (2, 16)
    torch.testing.assert_close(embedding[1], atoms[batch.batch == 1].mean(0))
    with torch.no_grad():
        torch.testing.assert_close(net(batch), net.head(embedding))
    del batch.pos
    with pytest.raises(ValueError, match="needs atom positions `pos`"):
        net(batch)
    with pytest.raises(ValueError, match="aggregation must be one of"):
        build_model("egnn", {"aggregation": "max"})


def test_config_and_cli_choose_the_model_and_its_defaults():
    egnn = MoleculeTrainConfig(model="egnn")
    assert (egnn.hidden_channels, egnn.depth) == (128, 4)
    assert (MoleculeTrainConfig().hidden_channels, MoleculeTrainConfig().depth) == (300, 3)
    args = build_parser().parse_args(["mol", "train", "--model", "egnn", "--depth", "2"])
    config = config_from_args(args)
    assert (config.model, config.hidden_channels, config.depth) == ("egnn", 128, 2)
    with pytest.raises(ValueError, match="model 'egnn' takes no molecule descriptors"):
        MoleculeTrainConfig(model="egnn", descriptors="rdkit2d")
    with pytest.raises(ValueError, match="model must be one of dmpnn, egnn"):
        MoleculeTrainConfig(model="schnet")


def test_train_and_predict_end_to_end(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GNNKIT_CACHE", str(tmp_path / "cache"))
    smiles = [
        "CCO", "CCN", "CCC", "CCCl", "c1ccccc1", "c1ccncc1", "CC(=O)O", "CC(=O)N", "CCOC",
        "CCCO", "CCCN", "CCCC", "CC(C)C", "c1ccccc1O", "c1ccccc1N", "c1ccccc1C", "CC(C)O",
        "OCCO", "NCCN", "CCOCC", "C1CCCCC1", "C1CCNCC1", "C1CCOC1", "CC#N", "CCC#N",
        "CC(=O)C", "CCC(=O)C", "COC(=O)C", "CCCCO", "CCCCN", "c1ccc2ccccc2c1", "Cc1ccncc1",
        TRIOCTANOIN, "CC(C)(C)O", "OC(=O)c1ccccc1", "CCCCCC", "CCCCCCO", "ClCCl", "CCBr",
    ]  # fmt: skip
    heavy = [Chem.MolFromSmiles(s).GetNumHeavyAtoms() for s in smiles]
    data = tmp_path / "tiny.csv"
    pd.DataFrame({"smiles": smiles, "heavy": heavy}).to_csv(data, index=False)
    config = MoleculeTrainConfig(
        data=str(data),
        model="egnn",
        hidden_channels=16,
        depth=2,
        ffn_hidden_channels=16,
        train=TrainConfig(epochs=2, batch_size=16, patience=None, progress="none", seed=0),
    )
    metrics = train_molecules(config, tmp_path / "run")
    assert metrics["splits"] == {"train": 30, "val": 4, "test": 4}
    assert np.isfinite(metrics["test"]["rmse"])
    invalid = pd.read_csv(tmp_path / "run" / "invalid_smiles.csv")
    assert invalid.row.tolist() == [32] and invalid.smiles.tolist() == [TRIOCTANOIN]
    assert invalid.reason[0].startswith("conformer embedding failed (ETKDGv3, seed 0): ")

    trained = load_model(tmp_path / "run" / "model.pt")
    assert trained.featurizer["conformers"] is True and trained.featurizer["conformer_seed"] == 0
    assert type(trained.model).__name__ == "MoleculeEGNN"
    new = tmp_path / "new.csv"
    new.write_text(f"smiles\n{smiles[0]}\nC1CC\n{TRIOCTANOIN}\n{smiles[4]}\n")
    frame = predict_molecules(tmp_path / "run", new, tmp_path / "out" / "p.csv")
    assert frame.heavy.notna().tolist() == [True, False, False, True]
    reasons = pd.read_csv(tmp_path / "out" / "invalid_smiles.csv").reason.tolist()
    assert reasons[0] == "SMILES syntax error: RDKit could not parse the string"
    assert reasons[1].startswith("conformer embedding failed (ETKDGv3, seed 0): ")
    # Prediction embeds the same conformers as training: the test predictions are reproduced.
    tested = pd.read_csv(tmp_path / "run" / "test_predictions.csv")
    tested[["id"]].rename(columns={"id": "smiles"}).to_csv(tmp_path / "tested.csv", index=False)
    again = predict_molecules(tmp_path / "run", tmp_path / "tested.csv", tmp_path / "q.csv")
    np.testing.assert_allclose(again.heavy, tested.heavy_pred, rtol=1e-5, atol=1e-6)


def test_featurizer_config_round_trips_through_the_checkpoint_dict():
    config = FeaturizerConfig(conformers=True, conformer_seed=3)
    assert config.to_dict() == {
        "atom_features": "v2",
        "add_hydrogens": False,
        "conformers": True,
        "conformer_seed": 3,
    }
