"""ETKDG conformers: atom order, determinism, failures and their reporting, dataset caching."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from rdkit import Chem
from torch_geometric.loader import DataLoader

from gnnkit.data.molecules import (
    FeaturizerConfig,
    MoleculeCSVDataset,
    MoleculeFeaturizer,
    write_invalid_rows,
)
from gnnkit.data.molecules.conformers import EmbeddingError, embed_conformer, embed_conformers

PARACETAMOL = "CC(=O)Nc1ccc(O)cc1"
#: Trioctanoin (NCI): ETKDG's eigenvector start fails on this long flexible triglyceride.
TRIOCTANOIN = "CCCCCCCC(=O)OCC(COC(=O)CCCCCCC)OC(=O)CCCCCCC"
#: A zinc salen complex (NCI) whose distance bounds RDKit cannot build.
ZINC_COMPLEX = "C1C[N+]2=CC3=CC=CC=C3O[Zn]24OC5=CC=CC=C5C=[N+]14"
ETKDG_FAILURE = r"conformer embedding failed \(ETKDGv3, seed 0\): \d+ failed attempts, most at "


def distances(pos: np.ndarray) -> np.ndarray:
    return np.linalg.norm(pos[:, None] - pos[None], axis=-1)


def test_positions_are_the_heavy_atoms_in_graph_order():
    mol = Chem.MolFromSmiles(PARACETAMOL)
    pos = embed_conformer(mol)
    assert pos.shape == (11, 3) and pos.dtype == np.float32
    d = distances(pos)
    bonded = np.zeros_like(d, dtype=bool)
    for bond in mol.GetBonds():
        bonded[bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()] = True
    bonded |= bonded.T
    # Heavy-atom bonds are 1.2–1.55 Å; every other pair is at least 2.2 Å apart (1–3 pairs).
    assert d[bonded].min() > 1.2 and d[bonded].max() < 1.55
    assert d[~bonded & ~np.eye(11, dtype=bool)].min() > 2.2
    carbonyl = d[1, 2]  # the C=O double bond
    assert carbonyl == pytest.approx(1.22, abs=0.04)


def test_conformers_are_deterministic_given_the_seed():
    mol = Chem.MolFromSmiles(PARACETAMOL)
    first, again = embed_conformer(mol, seed=0), embed_conformer(mol, seed=0)
    assert np.array_equal(first, again)
    assert np.array_equal(embed_conformer(mol, seed=1), first)  # RDKit: seeds 0 and 1 alike
    other = embed_conformer(mol, seed=2)
    assert not np.allclose(first, other, atol=0.1)
    # Another seed, another frame, but the same bond lengths to within ETKDG's tolerance.
    np.testing.assert_allclose(distances(first)[1, 2], distances(other)[1, 2], atol=0.02)


def test_explicit_hydrogens_keep_their_positions():
    mol = Chem.AddHs(Chem.MolFromSmiles("CO"))
    pos = embed_conformer(mol)
    assert pos.shape == (6, 3)
    d = distances(pos)
    hydrogens = [a.GetIdx() for a in mol.GetAtoms() if a.GetSymbol() == "H"]
    heavy_of = {h: mol.GetAtomWithIdx(h).GetNeighbors()[0].GetIdx() for h in hydrogens}
    assert all(0.9 < d[h, heavy] < 1.15 for h, heavy in heavy_of.items())


def test_failures_have_reasons():
    with pytest.raises(EmbeddingError, match=ETKDG_FAILURE + "INITIAL_COORDS$"):
        embed_conformer(Chem.MolFromSmiles(TRIOCTANOIN))
    with pytest.raises(EmbeddingError) as error:
        embed_conformer(Chem.MolFromSmiles(ZINC_COMPLEX))
    assert str(error.value) == (
        "conformer embedding failed (ETKDGv3, seed 0): RDKit error: bad lower bound"
    )
    mols = [Chem.MolFromSmiles(s) for s in ("CCO", TRIOCTANOIN, "C")]
    conformers = embed_conformers(mols)
    assert conformers.embedded == [0, 2] and conformers.pos.shape == (4, 3)
    assert [index for index, _ in conformers.failures] == [1]


def test_featurizer_adds_positions_and_reports_failures_in_input_order():
    smiles = ["CCO", "C1CC", TRIOCTANOIN, PARACETAMOL, "[Na+].[Cl-]"]
    plain = MoleculeFeaturizer().featurize(smiles)
    assert plain.pos is None
    result = MoleculeFeaturizer(FeaturizerConfig(conformers=True)).featurize(smiles)
    assert result.positions.tolist() == [0, 3, 4]
    assert [index for index, _ in result.failures] == [1, 2]
    assert result.failures[0][1] == "SMILES syntax error: RDKit could not parse the string"
    assert result.failures[1][1].startswith("conformer embedding failed (ETKDGv3, seed 0)")
    assert result.pos.shape == (3 + 11 + 2, 3)
    paracetamol = MoleculeFeaturizer().featurize([PARACETAMOL])  # the same graph as in 2-D
    assert np.array_equal(result.x[3:14], paracetamol.x)
    assert np.array_equal(result.pos[3:14], embed_conformer(Chem.MolFromSmiles(PARACETAMOL)))
    parallel = MoleculeFeaturizer(FeaturizerConfig(conformers=True)).featurize(smiles, workers=2)
    assert np.array_equal(parallel.pos, result.pos) and parallel.failures == result.failures


def test_dataset_carries_positions_and_writes_embedding_failures(tmp_path, capsys):
    data = tmp_path / "data.csv"
    data.write_text(f"smiles,y\nCCO,1\n{TRIOCTANOIN},2\nC1CC,3\n{PARACETAMOL},4\n")
    cache = tmp_path / "cache"
    dataset = MoleculeCSVDataset(data, featurizer=FeaturizerConfig(conformers=True), root=cache)
    assert [g.smiles for g in dataset] == ["CCO", PARACETAMOL]
    assert dataset[0].pos.shape == (3, 3) and dataset[1].pos.shape == (11, 3)
    expected = embed_conformer(Chem.MolFromSmiles(PARACETAMOL))
    assert torch.equal(dataset[1].pos, torch.from_numpy(expected))
    batch = next(iter(DataLoader(dataset, batch_size=2)))
    assert batch.pos.shape == (14, 3)
    err = capsys.readouterr().err
    assert "skipped 2 of 4 rows whose SMILES RDKit rejects or whose molecule ETKDG cannot" in err
    write_invalid_rows(dataset.invalid_rows, tmp_path / "invalid_smiles.csv")
    with open(tmp_path / "invalid_smiles.csv", newline="") as handle:
        header, embedding, syntax = list(csv.reader(handle))
    assert header == ["row", "line", "smiles", "reason"]
    assert embedding[:3] == ["1", "3", TRIOCTANOIN]
    assert re.fullmatch(ETKDG_FAILURE + "INITIAL_COORDS", embedding[3])
    assert syntax == ["2", "4", "C1CC", "SMILES syntax error: RDKit could not parse the string"]
    flat = MoleculeCSVDataset(data, root=cache)
    reseeded = MoleculeCSVDataset(
        data, featurizer=FeaturizerConfig(conformers=True, conformer_seed=2), root=cache
    )
    folders = {Path(d.processed_dir) for d in (dataset, flat, reseeded)}
    assert len(folders) == 3 and "pos" not in flat[0]
    assert not torch.equal(reseeded[1].pos, dataset[1].pos)
    with pytest.raises(ValueError, match="conformer_seed must be ≥ 0"):
        FeaturizerConfig(conformers=True, conformer_seed=-1)
