"""Several molecules per row: the joined graphs, their failures, batches and keys."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch

from gnnkit.data.molecules import MoleculeCSVDataset, MoleculeFeaturizer
from gnnkit.data.molecules.collate import MoleculeCollater
from gnnkit.data.molecules.components import MoleculeColumns, reading_columns
from gnnkit.data.molecules.descriptors import rdkit2d_names
from gnnkit.data.molecules.inputs import prediction_inputs

SOLUTES = ["CCO", "c1ccccc1O", "C1CC", "CC(=O)N", "[Na+].[Cl-]"]
SOLVENTS = ["O", "ClC(Cl)Cl", "CCCC", "xyz", "CS(C)=O"]
COLUMNS = {"solute": SOLUTES, "solvent": SOLVENTS}


def test_a_row_is_its_molecules_in_column_order():
    featurizer = MoleculeFeaturizer()
    joined = MoleculeColumns.of(COLUMNS).featurize(featurizer)
    assert joined.positions.tolist() == [0, 1, 4]  # row 2: bad solute, row 3: bad solvent
    start_atom = start_edge = 0
    for row, atoms, edges in zip(joined.positions, joined.num_atoms, joined.num_edges):
        alone = [featurizer.featurize([SOLUTES[row]]), featurizer.featurize([SOLVENTS[row]])]
        assert atoms == sum(int(m.num_atoms[0]) for m in alone)
        x = joined.x[start_atom : start_atom + atoms]
        index = joined.edge_index[:, start_edge : start_edge + edges]
        component = joined.component[start_atom : start_atom + atoms]
        first = int(alone[0].num_atoms[0])
        np.testing.assert_array_equal(x, np.concatenate([m.x for m in alone]))
        np.testing.assert_array_equal(component, [0] * first + [1] * (atoms - first))
        np.testing.assert_array_equal(
            index, np.concatenate([alone[0].edge_index, alone[1].edge_index + first], axis=1)
        )
        assert (component[index[0]] == component[index[1]]).all()  # no edge between molecules
        start_atom, start_edge = start_atom + atoms, start_edge + edges
    assert start_atom == len(joined.x) == len(joined.component)


def test_a_row_fails_naming_each_bad_column():
    failures = dict(MoleculeColumns.of(COLUMNS).featurize(MoleculeFeaturizer()).failures)
    syntax = "SMILES syntax error: RDKit could not parse the string"
    assert failures == {
        2: f"column 'solute' ('C1CC'): {syntax}",
        3: f"column 'solvent' ('xyz'): {syntax}",
    }
    both = MoleculeColumns.of({"a": ["C1CC"], "b": ["xyz"]}).featurize(MoleculeFeaturizer())
    assert both.failures == [(0, f"column 'a' ('C1CC'): {syntax}; column 'b' ('xyz'): {syntax}")]


def test_one_column_is_featurized_as_before():
    featurizer = MoleculeFeaturizer()
    one = MoleculeColumns.of(SOLUTES).featurize(featurizer)
    plain = featurizer.featurize(SOLUTES)
    assert one.component is None
    np.testing.assert_array_equal(one.x, plain.x)
    assert one.failures == plain.failures


def test_training_batches_equal_pyg_batches_and_keep_components():
    graphs = prediction_inputs(COLUMNS, {}).graphs()
    assert [g.smiles for g in graphs] == ["CCO O", "c1ccccc1O ClC(Cl)Cl", "[Na+].[Cl-] CS(C)=O"]
    collate = MoleculeCollater.of(graphs)
    assert collate is not None
    ours, pyg = collate([2, 0]), Batch.from_data_list([graphs[2], graphs[0]])
    for key in ("x", "edge_index", "rev_edge_index", "component", "batch"):
        assert torch.equal(ours[key], pyg[key]), key
    assert ours.component.tolist() == [0, 0, 1, 1, 1, 1, 0, 0, 0, 1]


def test_row_keys_are_the_canonical_molecules_in_order():
    columns = MoleculeColumns.of({"a": ["OCC", "CCO", "O"], "b": ["O", "O", "CCO"]})
    assert columns.keys([0, 1, 2]) == ["CCO O", "CCO O", "O CCO"]
    assert columns.descriptors([0, 2], "rdkit2d", ["HeavyAtomCount"]).tolist() == [
        [3.0, 1.0],
        [1.0, 3.0],
    ]


def test_reading_columns_follow_the_model():
    two = {"smiles_columns": ["solute", "solvent"]}
    assert reading_columns(two) == ("solute", ("solute", "solvent"))
    assert reading_columns(two, smiles_columns=["a", "b"]) == ("a", ("a", "b"))
    assert reading_columns({"smiles_column": "smi"}) == ("smi", ())
    assert reading_columns({"smiles_column": "smi"}, smiles_columns=["x"]) == ("x", ())
    with pytest.raises(ValueError, match=r"reads 2 molecules per row .*'solute', 'solvent'"):
        reading_columns(two, smiles_column="solute")
    with pytest.raises(ValueError, match="reads one molecule per row, but 2 SMILES columns"):
        reading_columns({}, smiles_columns=["a", "b"])


def test_rdkit_descriptors_come_for_every_molecule_of_a_row(tmp_path):
    settings = {"descriptors": "rdkit2d", "descriptor_names": ["HeavyAtomCount", "NumHDonors"]}
    inputs = prediction_inputs({"a": ["CCO", "C1CC"], "b": ["O", "c1ccccc1N"]}, settings)
    # CCO: 3 heavy atoms, 1 donor; water: 1, 0 (RDKit counts OH, not H2O). Row 1 is invalid.
    assert inputs.descriptors.tolist() == [[3.0, 1.0, 1.0, 0.0]]
    data = tmp_path / "pairs.csv"
    data.write_text("a,b,y\nCCO,O,1\nc1ccccc1,CC,2\n")
    dataset = MoleculeCSVDataset(
        data, smiles_columns=["a", "b"], descriptors="rdkit2d", root=tmp_path / "cache"
    )
    assert dataset.task_names == ["y"]
    assert dataset.descriptors.shape == (2, 2 * len(rdkit2d_names()))
    assert dataset.smiles == ["CCO", "c1ccccc1"] and dataset[1].smiles == "c1ccccc1 CC"
    assert dataset[1].component.tolist() == [0] * 6 + [1] * 2
