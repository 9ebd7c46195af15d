"""Batches straight from featurized arrays equal PyG's collation of per-molecule graphs."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor
from torch_geometric.data import Batch

from gnnkit.data.molecules import FeaturizerConfig, MoleculeFeaturizer
from gnnkit.data.molecules.batch import molecule_batches
from gnnkit.data.molecules.inputs import prediction_inputs

SMILES = ["CCO", "c1ccccc1", "[Na+].[Cl-]", "C", "CC(=O)Nc1ccc(O)cc1", "not a smiles", "C#N"]


def same(a: object, b: object) -> bool:
    if isinstance(a, Tensor):
        return (
            a.dtype == b.dtype
            and a.shape == b.shape
            and torch.equal(a.nan_to_num(), b.nan_to_num())
        )
    return a == b


@pytest.mark.parametrize("batch_size", [1, 2, 4, 100])
@pytest.mark.parametrize("settings", [{}, {"descriptors": "rdkit2d"}, {"atom_features": "rich"}])
def test_batches_equal_pyg_collation(batch_size, settings):
    inputs = prediction_inputs(SMILES, settings)
    assert inputs.failures == [(5, "SMILES syntax error: RDKit could not parse the string")]
    graphs = inputs.graphs()
    assert [g.smiles for g in graphs] == [s for s in SMILES if s != "not a smiles"]
    batches = list(inputs.batches(batch_size))
    assert [b.num_graphs for b in batches] == [
        min(batch_size, 6 - start) for start in range(0, 6, batch_size)
    ]
    for k, batch in enumerate(batches):
        reference = Batch.from_data_list(graphs[k * batch_size : (k + 1) * batch_size])
        assert type(batch) is type(reference)
        assert set(batch.keys()) == set(reference.keys()) - {"smiles"}
        for key in batch.keys():
            assert same(batch[key], reference[key]), key
        for ours, theirs in zip(batch.to_data_list(), reference.to_data_list()):
            assert all(same(ours[key], theirs[key]) for key in ours.keys())


def test_conformer_positions_follow_their_atoms():
    inputs = prediction_inputs(["CCO", "c1ccccc1", "[Na+].[Cl-]"], {"conformers": True})
    graphs = inputs.graphs()
    (batch,) = inputs.batches(3)
    assert batch.pos.shape == (11, 3)
    assert torch.equal(batch.pos, Batch.from_data_list(graphs).pos)
    assert [g.pos.shape[0] for g in graphs] == [3, 6, 2]


def test_reverse_edges_point_back_across_the_batch():
    featurized = MoleculeFeaturizer(FeaturizerConfig()).featurize(["CCO", "C1CC1", "CC"])
    (batch,) = molecule_batches(featurized, 3)
    source, target = batch.edge_index
    reverse = batch.rev_edge_index
    assert torch.equal(source[reverse], target) and torch.equal(target[reverse], source)
    assert batch.ptr.tolist() == [0, 3, 6, 8]
    assert batch.batch.tolist() == [0, 0, 0, 1, 1, 1, 2, 2]


def test_batch_size_must_be_positive():
    featurized = MoleculeFeaturizer().featurize(["C"])
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        next(molecule_batches(featurized, 0))
