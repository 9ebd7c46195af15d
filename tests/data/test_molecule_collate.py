"""Training batches from arrays equal PyG's collation, and training gives the same losses."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch
from test_molecule_batch import same
from torch_geometric.data import Batch, Data
from torch_geometric.loader import DataLoader

from gnnkit.data.molecules import FeaturizerConfig, MoleculeCSVDataset
from gnnkit.data.molecules.collate import MoleculeCollater
from gnnkit.models import build_model
from gnnkit.train import TrainConfig, fit
from gnnkit.train import data as train_data
from gnnkit.train.data import train_loader

SMILES = ["CCO", "c1ccccc1", "[Na+].[Cl-]", "C", "CC(=O)Nc1ccc(O)cc1", "C#N", "OCC(O)CO", "CN"]


def dataset(tmp_path: Path, **settings: object) -> MoleculeCSVDataset:
    rows = [f"{s},{k * 0.5 if k % 3 else ''},{k % 2},{1 + k / 10}" for k, s in enumerate(SMILES)]
    csv = tmp_path / "data.csv"
    csv.write_text("smiles,a,b,w\n" + "\n".join(rows) + "\n")
    return MoleculeCSVDataset(
        csv, target_columns=["a", "b"], weight_column="w", root=tmp_path / "cache", **settings
    )


@pytest.mark.parametrize(
    "settings",
    [{}, {"descriptors": "rdkit2d"}, {"featurizer": FeaturizerConfig(conformers=True)}],
    ids=["plain", "descriptors", "conformers"],
)
def test_batches_equal_pyg_collation(tmp_path, settings):
    graphs = dataset(tmp_path, **settings)[torch.tensor([6, 0, 3, 5, 1, 7, 2, 4])]
    collate = MoleculeCollater.of(graphs)
    assert collate is not None
    for positions in ([0, 1, 2], [7, 2, 5, 0, 3], [4], list(range(8))):
        batch = collate(positions)
        reference = Batch.from_data_list([graphs[p] for p in positions])
        assert type(batch) is type(reference) and batch.num_graphs == reference.num_graphs
        assert set(batch.keys()) == set(reference.keys())
        for key in reference.keys():
            assert same(batch[key], reference[key]), key
        for key in ("batch", "ptr"):
            assert same(batch[key], reference[key]), key
        for ours, theirs in zip(batch.to_data_list(), reference.to_data_list()):
            assert all(same(ours[key], theirs[key]) for key in theirs.keys())


def test_loader_batches_follow_the_sampler(tmp_path):
    graphs = dataset(tmp_path)
    ours = list(train_loader(graphs, 3, seed=4))
    theirs = list(DataLoader(graphs, batch_size=3, sampler=train_loader(graphs, 3, seed=4).sampler))
    assert len(ours) == len(theirs) == 3
    for batch, reference in zip(ours, theirs):
        assert all(same(batch[key], reference[key]) for key in reference.keys())


def test_other_graphs_keep_pyg_collation(tmp_path):
    plain = [Data(x=torch.ones(2, 1), edge_index=torch.tensor([[0], [1]]), y=torch.ones(1, 1))]
    assert MoleculeCollater.of(plain) is None
    molecules = list(dataset(tmp_path))
    assert MoleculeCollater.of(molecules) is not None
    for key, value in [
        ("score", 1.5),
        ("atom_index", torch.tensor([[0]])),
        ("flag", torch.ones(2)),
    ]:
        changed = [graph.clone() for graph in molecules]
        for graph in changed:
            graph[key] = value
        assert MoleculeCollater.of(changed) is None, key
    assert isinstance(train_loader(plain, 2, seed=0), DataLoader)


def train_losses(graphs, out: Path) -> pd.Series:
    torch.manual_seed(0)
    model = build_model(
        "dmpnn",
        {
            "atom_dim": graphs[0].x.size(1),
            "out_channels": 2,
            "hidden_channels": 16,
            "depth": 2,
            "dropout": 0.1,
        },
    )
    config = TrainConfig(epochs=3, batch_size=3, patience=None, progress="none")
    fit(model, graphs, graphs, graphs, config, out)
    return pd.read_csv(out / "epochs.csv")["train_loss"]


def test_training_losses_unchanged(tmp_path, monkeypatch):
    graphs = dataset(tmp_path)
    arrays = train_losses(graphs, tmp_path / "arrays")
    monkeypatch.setattr(train_data, "molecule_collater", lambda graphs: None)
    pyg = train_losses(graphs, tmp_path / "pyg")
    assert arrays.tolist() == pyg.tolist()


def test_loaders_pin_memory_when_asked(tmp_path):
    plain = [Data(x=torch.ones(2, 1), edge_index=torch.tensor([[0], [1]]), y=torch.ones(1, 1))]
    for graphs in (dataset(tmp_path), plain):
        assert train_loader(graphs, 2, seed=0, pin_memory=True).pin_memory
        assert not train_loader(graphs, 2, seed=0).pin_memory
