"""The molecule featurizer: every slot, bond-free molecules, failures, workers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rdkit
from rdkit import Chem, rdBase

from gnnkit.data.molecules import FeaturizerConfig, MoleculeFeaturizer
from gnnkit.data.molecules.featurizer import FeaturizedMolecules, is_plain_smiles, reverse_edges

GRAPH_ARRAYS = ("V", "E", "edge_index", "num_atoms", "num_edges")

NCI = Path(rdkit.__file__).parent / "Data" / "NCI" / "first_5K.smi"
#: chemprop 2.3.1's graphs of edge-case SMILES (made by ``tests/fixtures/chemprop_features.py``).
CHEMPROP = Path(__file__).parents[1] / "fixtures" / "chemprop_features.npz"


def hot(row: np.ndarray) -> list[int]:
    return np.flatnonzero(row[:70]).tolist()


def test_methane_atom_slots():
    result = MoleculeFeaturizer().featurize(["C"])
    (x,) = result.x
    # carbon (slot 5), total degree 4 (38+4), charge 0 (45+4), chiral unspecified (51),
    # four hydrogens (56+4), sp3 (62+4)
    assert hot(x) == [5, 42, 49, 51, 60, 66]
    assert x[70] == 0.0
    assert x[71] == pytest.approx(0.12011, abs=1e-5)
    assert result.edge_index.shape == (2, 0)
    assert result.x.shape == (1, 72)


def test_charged_iodine_and_unknown_element_and_aromatic_atom():
    result = MoleculeFeaturizer().featurize(["[I-]", "[U]", "c1ccccc1"])
    iodide, uranium, benzene_carbon = result.x[0], result.x[1], result.x[2]
    assert hot(iodide)[:3] == [36, 38, 45]  # iodine slot, degree 0, charge −1
    assert hot(uranium)[0] == 37  # "other" element
    assert hot(benzene_carbon) == [5, 41, 49, 51, 57, 64]  # degree 3, one H, sp2
    assert benzene_carbon[70] == 1.0


def test_bond_slots_and_directions():
    result = MoleculeFeaturizer().featurize(["c1ccccc1", "C/C=C/C", "CC#N"])
    # benzene: 6 aromatic ring bonds, both directions, identical features
    benzene = result.edge_attr[:12]
    assert (benzene == benzene[0]).all()
    assert np.flatnonzero(benzene[0]).tolist() == [4, 5, 6, 7]  # aromatic, conj., ring, no stereo
    butene_double = result.edge_attr[12 + 2]  # bond 1 of trans-2-butene, first direction
    assert np.flatnonzero(butene_double).tolist() == [2, 10]  # double, not conjugated, E
    nitrile = result.edge_attr[12 + 6 + 2]
    assert np.flatnonzero(nitrile).tolist() == [3, 7]  # triple, stereo none
    first = result.edge_index[:, :2]
    assert first.tolist() == [[0, 1], [1, 0]]
    assert reverse_edges(4).tolist() == [1, 0, 3, 2]


def test_salt_without_bonds_and_counts():
    result = MoleculeFeaturizer().featurize(["[Na+].[Cl-]", "CCO"])
    assert result.num_atoms.tolist() == [2, 3]
    assert result.num_edges.tolist() == [0, 4]
    graphs = list(result.graphs())
    assert graphs[0][2].shape == (2, 0) and graphs[1][2].shape == (2, 4)


def test_rich_features_extend_v2():
    v2 = MoleculeFeaturizer().featurize(["C1CC1C"])
    rich = MoleculeFeaturizer(FeaturizerConfig("rich")).featurize(["C1CC1C"])
    assert rich.x.shape == (4, 92)
    np.testing.assert_array_equal(rich.x[:, :72], v2.x)
    extra = rich.x[:, 72:]
    assert extra[0, 0] == 1 and extra[0, 1] == 1  # ring atom, smallest ring 3
    assert extra[3, 0] == 0 and extra[3, 1:8].sum() == 0  # the methyl is not in a ring
    assert (extra[:, 8] == 1).all()  # no radical electrons
    with pytest.raises(ValueError, match="atom_features must be one of"):
        FeaturizerConfig("fancy")


def test_rejected_smiles_are_reported_with_rdkit_reason():
    result = MoleculeFeaturizer().featurize(["CCO", "C1CC", "", "N(C)(C)(C)(C)C", "c1cccc1"])
    assert result.positions.tolist() == [0]
    reasons = dict(result.failures)
    assert reasons[1].startswith("SMILES syntax error")
    assert reasons[2] == "empty SMILES"
    assert "Explicit valence for atom # 0 N, 5" in reasons[3]
    assert "kekulize" in reasons[4].lower()


def test_nci_file_failures_match_rdkit_and_workers_agree():
    smiles = [line.split()[0] for line in NCI.read_text().splitlines() if line.strip()][:1500]
    with rdBase.BlockLogs():
        rejected = [i for i, s in enumerate(smiles) if Chem.MolFromSmiles(s) is None]
    one = MoleculeFeaturizer().featurize(smiles)
    two = MoleculeFeaturizer().featurize(smiles, workers=2)
    assert [i for i, _ in one.failures] == rejected
    assert len(one) == len(smiles) - len(rejected)
    np.testing.assert_array_equal(one.x, two.x)
    np.testing.assert_array_equal(one.edge_index, two.edge_index)
    np.testing.assert_array_equal(one.positions, two.positions)
    assert one.failures == two.failures


@pytest.mark.parametrize(
    ("smiles", "plain"),
    [
        ("c1ccccc1O", True),
        ("[NH4+].[Cl-]", True),
        ("[Hg+2]", True),  # mercury, not hydrogen
        ("C[C@H](N)C(=O)O", False),  # tetrahedral stereo
        ("F/C=C/F", False),  # double-bond stereo
        ("[13CH4]", False),  # isotope
        ("[H]C", False),  # explicit hydrogen atom, removed by the full parser
        ("CC |$;_AV:x$|", False),  # CXSMILES extension
        ("C:C", False),  # aromatic bond symbol
        ("[CH3:1][OH:2]", True),  # atom maps, not bonds
        ("[C:1]:[C:2]", False),
    ],
)
def test_plain_smiles_detection(smiles: str, plain: bool):
    assert is_plain_smiles(smiles) is plain


@pytest.mark.parametrize(
    "config", [FeaturizerConfig(), FeaturizerConfig("rich"), FeaturizerConfig(add_hydrogens=True)]
)
def test_fast_parse_gives_exactly_the_full_parsers_features(config: FeaturizerConfig):
    """Plain SMILES skip RDKit's stereo and hydrogen passes and some getters; the features must
    be bit-for-bit those of molecules from ``Chem.MolFromSmiles`` read with every getter."""
    nci = [line.split()[0] for line in NCI.read_text().splitlines() if line.strip()][:400]
    with rdBase.BlockLogs():
        mols = [m for m in map(Chem.MolFromSmiles, nci) if m is not None]
    randomised = [s for m in mols[:150] for s in Chem.MolToRandomSmilesVect(m, 2, randomSeed=3)]
    kekule = [Chem.MolToSmiles(m, kekuleSmiles=True) for m in mols[:150]]
    special = [
        "C[C@H](N)C(=O)O", "F/C=C\\F", "[2H]C([2H])([2H])O", "[13CH4]", "C[H]", "[H+]",
        "O=N(=O)c1ccccc1", "[O-][n+]1ccccc1", "c1cc[nH]c1", "C12CC(C1)C2", "[Fe+2].[Cl-].[Cl-]",
        "c1ccc2ccccc2c1", "*c1ccccc1", "CC |$;_AV:x$|",
    ]  # fmt: skip
    smiles = nci + randomised + kekule + special
    featurizer = MoleculeFeaturizer(config)
    fast = featurizer.featurize(smiles)
    with rdBase.BlockLogs():
        full = [Chem.MolFromSmiles(s) for s in smiles]
    if config.add_hydrogens:
        full = [None if m is None else Chem.AddHs(m) for m in full]
    reference = featurizer.featurize_mols([m for m in full if m is not None])
    assert [i for i, _ in fast.failures] == [i for i, m in enumerate(full) if m is None]
    for name in ("x", "edge_index", "edge_attr", "num_atoms", "num_edges"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(reference, name), err_msg=name)


def test_aromatic_bond_symbol_outside_a_ring_leaves_atoms_non_aromatic():
    """``:`` between atoms that no aromatic ring holds gives a bond of aromatic type whose atoms
    RDKit does not flag aromatic: slot 70 stays 0, as from ``Chem.MolFromSmiles``."""
    smiles = ["C:C", "CC(:O):O", "N:C:N", "c1ccccc1C:C"]
    featurizer = MoleculeFeaturizer()
    fast = featurizer.featurize(smiles)
    full = featurizer.featurize_mols([Chem.MolFromSmiles(s) for s in smiles])
    np.testing.assert_array_equal(fast.x, full.x)
    np.testing.assert_array_equal(fast.edge_attr, full.edge_attr)
    assert fast.x[:, 70].tolist() == [0] * 9 + [1] * 6 + [0, 0]
    assert fast.edge_attr[0, 4] == 1.0  # the bond of C:C keeps its aromatic type


def _differing(smiles: list[str], ours: FeaturizedMolecules, reference: dict) -> list[str]:
    """The SMILES whose graph in ``ours`` differs from ``reference`` (``V``, ``E``,
    ``edge_index``, ``num_atoms``, ``num_edges`` of the same molecules)."""
    atom_ends = np.cumsum(reference["num_atoms"])[:-1]
    edge_ends = np.cumsum(reference["num_edges"])[:-1]
    theirs = zip(
        np.split(reference["V"], atom_ends),
        np.split(reference["edge_index"], edge_ends, axis=1),
        np.split(reference["E"], edge_ends),
    )
    return [
        text
        for text, (_, *graph), expected in zip(smiles, ours.graphs(), theirs, strict=True)
        if not all(np.array_equal(a, b) for a, b in zip(graph, expected))
    ]


@pytest.mark.parametrize("path", ["fast", "full"])
@pytest.mark.parametrize("variant", ["plain", "add_h"])
def test_features_equal_chemprops_on_edge_cases(variant: str, path: str):
    """Stereo, charges, ``:`` bonds, isotopes, salts, explicit and added hydrogens, metals,
    radicals, ring closures, ``[nH]``: chemprop 2.3.1's atom and bond features and edges, and
    the SMILES it refuses, exactly (``path``: gnnkit's own parsing, or RDKit's full parser)."""
    fixture = np.load(CHEMPROP)
    reference = {name: fixture[f"{variant}_{name}"] for name in GRAPH_ARRAYS}
    smiles, valid = fixture["smiles"].tolist(), fixture["valid"]
    featurizer = MoleculeFeaturizer(FeaturizerConfig(add_hydrogens=variant == "add_h"))
    accepted = [s for s, ok in zip(smiles, valid) if ok]
    refused = [s for s, ok in zip(smiles, valid) if not ok]
    if path == "fast":
        ours = featurizer.featurize(smiles)
        assert [smiles[i] for i, _ in ours.failures] == refused
    else:
        with rdBase.BlockLogs():
            mols = [Chem.MolFromSmiles(s) for s in accepted]
        ours = featurizer.featurize_mols([Chem.AddHs(m) if variant == "add_h" else m for m in mols])
    differing = _differing(accepted, ours, reference)
    versions = f"fixture: RDKit {fixture['rdkit_version']}, installed: RDKit {rdkit.__version__}"
    assert not differing, f"unlike chemprop's: {differing} ({versions})"
    np.testing.assert_array_equal(ours.num_atoms, reference["num_atoms"])
    np.testing.assert_array_equal(ours.num_edges, reference["num_edges"])
