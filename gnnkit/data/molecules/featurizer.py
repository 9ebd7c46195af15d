"""SMILES → directed molecular graph, fast.

Atom features, ``"v2"`` (72 values, the content of chemprop v2's default featurizer):

======  =====  ==============================================================================
slots   count  meaning (one-hot unless stated; the last slot of each block is "other")
======  =====  ==============================================================================
0–37    38     atomic number: 1–36, 53 (iodine), other
38–44   7      total degree (bonds including to hydrogens): 0–5, other
45–50   6      formal charge: −1, −2, +1, +2, 0, other
51–55   5      chiral tag (RDKit ``ChiralType``): unspecified, CW, CCW, other-tetrahedral, other
56–61   6      total hydrogens: 0–4, other
62–69   8      hybridization: S, SP, SP2, SP2D, SP3, SP3D, SP3D2, other
70      1      aromatic (0/1)
71      1      atomic mass / 100 (real)
======  =====  ==============================================================================

``"rich"`` appends 20 values: in a ring (1); size of the smallest ring 3–8, other (7); radical
electrons 0–2, other (4); total valence 0–6, other (8).

Bond features (14):

======  =====  ==============================================================================
0       1      null bond (always 0 for real bonds; kept for compatibility with chemprop)
1–4     4      bond type: single, double, triple, aromatic (all 0 for any other type)
5       1      conjugated
6       1      in a ring
7–13    7      stereo (RDKit ``BondStereo``): none, any, Z, E, cis, trans, other
======  =====  ==============================================================================

Speed: a molecule's atoms and bonds are read with one pass of RDKit calls into integer codes;
the one-hot encoding of a whole chunk of molecules is then a handful of numpy operations.
"""

from __future__ import annotations

import itertools
import multiprocessing
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from rdkit import Chem, rdBase
from rdkit.Chem import rdchem

from gnnkit.data.molecules.conformers import embed_conformers

ATOM_FEATURE_SETS = ("v2", "rich")
V2_ATOM_DIM = 72
RICH_EXTRA_DIM = 20
BOND_DIM = 14

_H = rdchem.HybridizationType
_HYBRIDIZATION_ORDER = [_H.S, _H.SP, _H.SP2, _H.SP2D, _H.SP3, _H.SP3D, _H.SP3D2]
_BOND_TYPE_ORDER = [
    rdchem.BondType.SINGLE,
    rdchem.BondType.DOUBLE,
    rdchem.BondType.TRIPLE,
    rdchem.BondType.AROMATIC,
]


def _lookup(values: Sequence[int], size: int, other: int, offset: int = 0) -> np.ndarray:
    """Table mapping ``value + offset`` (0 ≤ · < size) to its slot; anything else → ``other``."""
    table = np.full(size, other, dtype=np.int64)
    for slot, value in enumerate(values):
        table[value + offset] = slot
    return table


_ATOMIC = _lookup([*range(1, 37), 53], 256, other=37)
_CHARGE_OFFSET = 16
_CHARGE = _lookup([-1, -2, 1, 2, 0], 2 * _CHARGE_OFFSET + 1, other=5, offset=_CHARGE_OFFSET)
_HYBRID = _lookup([int(h) for h in _HYBRIDIZATION_ORDER], 64, other=7)
_BOND_TYPE = _lookup([int(b) for b in _BOND_TYPE_ORDER], 64, other=4)

_ATOM_GETTERS = (
    rdchem.Atom.GetAtomicNum,
    rdchem.Atom.GetTotalDegree,
    rdchem.Atom.GetFormalCharge,
    rdchem.Atom.GetChiralTag,
    rdchem.Atom.GetTotalNumHs,
    rdchem.Atom.GetHybridization,
    rdchem.Atom.GetIsAromatic,
    rdchem.Atom.GetMass,
)
_BOND_GETTERS = (
    rdchem.Bond.GetBeginAtomIdx,
    rdchem.Bond.GetEndAtomIdx,
    rdchem.Bond.GetBondType,
    rdchem.Bond.GetIsConjugated,
    rdchem.Bond.IsInRing,
    rdchem.Bond.GetStereo,
)

#: First slot of each one-hot block of the v2 atom features.
_ATOM_BLOCK_STARTS = (0, 38, 45, 51, 56, 62)


@dataclass(frozen=True, slots=True)
class FeaturizerConfig:
    """Featurizer settings, stored as plain data in datasets' cache keys and checkpoints.

    Attributes:
        atom_features: ``"v2"`` or ``"rich"`` (see the module docstring).
        add_hydrogens: make hydrogens explicit atoms of the graph.
        conformers: also embed one ETKDG conformer per molecule, so that graphs carry atom
            positions ``pos`` (:mod:`gnnkit.data.molecules.conformers`); a molecule ETKDG cannot
            embed is a failure with its reason, like a SMILES that RDKit rejects.
        conformer_seed: ETKDG's random seed, ≥ 0 (RDKit's generator gives seeds 0 and 1 the
            same stream).
    """

    atom_features: str = "v2"
    add_hydrogens: bool = False
    conformers: bool = False
    conformer_seed: int = 0

    def __post_init__(self) -> None:
        if self.atom_features not in ATOM_FEATURE_SETS:
            raise ValueError(
                f"atom_features must be one of {ATOM_FEATURE_SETS}, got {self.atom_features!r}"
            )
        if self.conformer_seed < 0:
            raise ValueError(
                f"conformer_seed must be ≥ 0 (RDKit draws a random seed for a negative one, so "
                f"the conformers could not be reproduced), got {self.conformer_seed}"
            )

    @property
    def atom_dim(self) -> int:
        return V2_ATOM_DIM + (RICH_EXTRA_DIM if self.atom_features == "rich" else 0)

    @property
    def bond_dim(self) -> int:
        return BOND_DIM

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(slots=True)
class FeaturizedMolecules:
    """Graphs of a chunk of molecules in flat arrays.

    Attributes:
        x: atom features of all molecules ``[Σ n_atoms, atom_dim]`` (float32).
        edge_index: ``[2, Σ 2 n_bonds]`` with atom indices local to each molecule.
        edge_attr: ``[Σ 2 n_bonds, 14]`` (float32).
        num_atoms, num_edges: per molecule ``[M]``.
        positions: index of each featurized molecule in the input sequence ``[M]``.
        failures: ``(input index, reason)`` of each SMILES that RDKit rejected (or, with
            conformers, whose molecule ETKDG could not embed), in input order.
        pos: with conformers, atom positions ``[Σ n_atoms, 3]`` (float32, Å) in the order of
            ``x``; otherwise ``None``.
    """

    x: np.ndarray
    edge_index: np.ndarray
    edge_attr: np.ndarray
    num_atoms: np.ndarray
    num_edges: np.ndarray
    positions: np.ndarray
    failures: list[tuple[int, str]] = field(default_factory=list)
    pos: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.positions)

    def graphs(self) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
        """Per molecule: (input index, x, edge_index, edge_attr), as views into the arrays."""
        atom_ends = np.cumsum(self.num_atoms)
        edge_ends = np.cumsum(self.num_edges)
        atom_start = edge_start = 0
        for k, position in enumerate(self.positions.tolist()):
            atom_end, edge_end = atom_ends[k], edge_ends[k]
            yield (
                position,
                self.x[atom_start:atom_end],
                self.edge_index[:, edge_start:edge_end],
                self.edge_attr[edge_start:edge_end],
            )
            atom_start, edge_start = atom_end, edge_end


def rejection_reason(smiles: str) -> str:
    """RDKit's explanation of why ``smiles`` is rejected: a syntax error, or the chemistry
    problems it detects (e.g. "Explicit valence for atom # 1 N, 4, is greater than
    permitted")."""
    if not isinstance(smiles, str) or not smiles.strip():
        return "empty SMILES"
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles, sanitize=False)
        problems = Chem.DetectChemistryProblems(mol) if mol is not None else ()
    if mol is None:
        return "SMILES syntax error: RDKit could not parse the string"
    if problems:
        return "; ".join(problem.Message() for problem in problems)
    return "RDKit could not sanitize the molecule"


def parse_smiles(smiles: str, add_hydrogens: bool = False) -> Chem.Mol | None:
    """An RDKit molecule, or ``None`` if RDKit rejects the SMILES (nothing is logged)."""
    if not isinstance(smiles, str) or not smiles:
        return None
    mol = Chem.MolFromSmiles(smiles)
    if mol is not None and add_hydrogens:
        mol = Chem.AddHs(mol)
    return mol


class MoleculeFeaturizer:
    """Turns SMILES into graphs (:class:`FeaturizedMolecules`); see the module docstring for
    the meaning of every feature slot.

    Args:
        config: which atom features, and whether to make hydrogens explicit atoms.
    """

    def __init__(self, config: FeaturizerConfig | None = None) -> None:
        self.config = config or FeaturizerConfig()

    @property
    def atom_dim(self) -> int:
        return self.config.atom_dim

    @property
    def bond_dim(self) -> int:
        return self.config.bond_dim

    def __repr__(self) -> str:
        return (
            f"MoleculeFeaturizer(atom_features={self.config.atom_features!r}, "
            f"add_hydrogens={self.config.add_hydrogens}, conformers={self.config.conformers}, "
            f"atom_dim={self.atom_dim}, bond_dim={self.bond_dim})"
        )

    def featurize(self, smiles: Sequence[str], workers: int = 1) -> FeaturizedMolecules:
        """Featurize every SMILES; rejected ones are listed in ``failures`` with RDKit's reason.

        ``workers > 1`` splits the list over that many processes.
        """
        if workers > 1 and len(smiles) >= 2 * workers:
            return self._featurize_parallel(smiles, workers)
        return self._featurize_chunk(smiles, 0)

    def featurize_mols(self, mols: Sequence[Chem.Mol]) -> FeaturizedMolecules:
        """Featurize RDKit molecules that are already parsed (none may be ``None``)."""
        return self._encode_parsed(list(mols), list(range(len(mols))), [])

    def _featurize_parallel(self, smiles: Sequence[str], workers: int) -> FeaturizedMolecules:
        bounds = np.linspace(0, len(smiles), 4 * workers + 1).astype(int)
        chunks = [(list(smiles[a:b]), int(a)) for a, b in itertools.pairwise(bounds)]
        context = multiprocessing.get_context("fork")
        with context.Pool(workers) as pool:
            parts = pool.starmap(_featurize_in_worker, [(self.config, *c) for c in chunks])
        return concatenate(parts)

    def _featurize_chunk(self, smiles: Sequence[str], start: int) -> FeaturizedMolecules:
        mols, positions, failures = [], [], []
        with rdBase.BlockLogs():
            for offset, text in enumerate(smiles):
                mol = parse_smiles(text, self.config.add_hydrogens)
                if mol is None:
                    failures.append(start + offset)
                else:
                    mols.append(mol)
                    positions.append(start + offset)
        reasons = [(index, rejection_reason(smiles[index - start])) for index in failures]
        return self._encode_parsed(mols, positions, reasons)

    def _encode_parsed(
        self, mols: list[Chem.Mol], positions: list[int], failures: list[tuple[int, str]]
    ) -> FeaturizedMolecules:
        """Encode parsed molecules; with conformers, embed them first and add the molecules
        ETKDG cannot embed to ``failures``."""
        if not self.config.conformers:
            return self._encode(mols, np.asarray(positions, dtype=np.int64), failures)
        conformers = embed_conformers(mols, self.config.conformer_seed)
        failures = sorted(failures + [(positions[k], why) for k, why in conformers.failures])
        featurized = self._encode(
            [mols[k] for k in conformers.embedded],
            np.asarray([positions[k] for k in conformers.embedded], dtype=np.int64),
            failures,
        )
        featurized.pos = conformers.pos
        return featurized

    def _encode(
        self, mols: list[Chem.Mol], positions: np.ndarray, failures: list[tuple[int, str]]
    ) -> FeaturizedMolecules:
        rich = self.config.atom_features == "rich"
        atom_columns: list[list] = [[] for _ in _ATOM_GETTERS]
        bond_columns: list[list] = [[] for _ in _BOND_GETTERS]
        num_atoms = np.empty(len(mols), dtype=np.int64)
        num_bonds = np.empty(len(mols), dtype=np.int64)
        # Column by column with unbound getters: far fewer Python-level calls than a tuple per
        # atom, and RDKit's enums (ints) convert to numpy in bulk.
        for k, mol in enumerate(mols):
            num_atoms[k] = mol.GetNumAtoms()
            atoms = list(map(mol.GetAtomWithIdx, range(num_atoms[k])))
            for column, getter in zip(atom_columns, _ATOM_GETTERS):
                column.extend(map(getter, atoms))
            num_bonds[k] = mol.GetNumBonds()
            bonds = list(map(mol.GetBondWithIdx, range(num_bonds[k])))
            for column, getter in zip(bond_columns, _BOND_GETTERS):
                column.extend(map(getter, bonds))
        x = _atom_features(
            np.asarray(atom_columns[:6], dtype=np.int64).reshape(6, -1),
            np.asarray(atom_columns[6], dtype=np.float32),
            np.asarray(atom_columns[7], dtype=np.float64),
        )
        if rich:
            x = np.concatenate([x, _rich_atom_features(mols)], axis=1)
        edge_index, edge_attr = _bond_features(
            np.asarray(bond_columns, dtype=np.int64).reshape(6, -1)
        )
        return FeaturizedMolecules(
            x=x,
            edge_index=edge_index,
            edge_attr=edge_attr,
            num_atoms=num_atoms,
            num_edges=2 * num_bonds,
            positions=positions,
            failures=failures,
        )


def _one_hot_rows(count: int, width: int, slots: list[np.ndarray]) -> np.ndarray:
    out = np.zeros((count, width), dtype=np.float32)
    rows = np.arange(count)
    for columns in slots:
        out[rows, columns] = 1.0
    return out


def _atom_features(codes: np.ndarray, aromatic: np.ndarray, mass: np.ndarray) -> np.ndarray:
    """``codes`` ``[6, N]`` (atomic number, degree, charge, chiral tag, Hs, hybridization),
    ``aromatic`` ``[N]`` and ``mass`` ``[N]`` → v2 features ``[N, 72]``."""
    atomic, degree, charge, chiral, hydrogens, hybridization = codes
    slots = [
        _ATOMIC[np.clip(atomic, 0, 255)],
        np.where((degree >= 0) & (degree <= 5), degree, 6),
        _CHARGE[np.clip(charge + _CHARGE_OFFSET, 0, 2 * _CHARGE_OFFSET)],
        np.where(chiral <= 3, chiral, 4),
        np.where(hydrogens <= 4, hydrogens, 5),
        _HYBRID[np.clip(hybridization, 0, 63)],
    ]
    count = codes.shape[1]
    x = _one_hot_rows(count, V2_ATOM_DIM, [s + b for s, b in zip(slots, _ATOM_BLOCK_STARTS)])
    x[:, 70] = aromatic
    x[:, 71] = 0.01 * mass
    return x


def _rich_atom_features(mols: list[Chem.Mol]) -> np.ndarray:
    """In ring, smallest ring size (3–8, other), radical electrons (0–2, other), total valence
    (0–6, other) → ``[N, 20]``."""
    codes = []
    for mol in mols:
        ring_info = mol.GetRingInfo()
        for atom in mol.GetAtoms():
            index = atom.GetIdx()
            smallest = ring_info.MinAtomRingSize(index)
            codes.append((smallest, atom.GetNumRadicalElectrons(), atom.GetTotalValence()))
    codes_array = np.asarray(codes, dtype=np.int64).reshape(-1, 3)
    smallest, radicals, valence = codes_array.T
    in_ring = smallest > 0
    ring_slot = np.where((smallest >= 3) & (smallest <= 8), smallest - 3, 6)
    slots = [
        1 + ring_slot,
        8 + np.where(radicals <= 2, radicals, 3),
        12 + np.where(valence <= 6, valence, 7),
    ]
    out = _one_hot_rows(len(codes_array), RICH_EXTRA_DIM, slots)
    out[~in_ring, 1:8] = 0.0
    out[:, 0] = in_ring
    return out


def _bond_features(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``codes`` ``[6, B]`` (begin, end, type, conjugated, in ring, stereo) → edge_index
    ``[2, 2B]`` and edge features ``[2B, 14]`` (each bond twice, both directions)."""
    begin, end, bond_type, conjugated, in_ring, stereo = codes
    count = codes.shape[1]
    edge_index = np.empty((2, 2 * count), dtype=np.int64)
    edge_index[0, 0::2] = begin
    edge_index[1, 0::2] = end
    edge_index[0, 1::2] = end
    edge_index[1, 1::2] = begin
    features = np.zeros((count, BOND_DIM), dtype=np.float32)
    rows = np.arange(count)
    type_slot = _BOND_TYPE[np.clip(bond_type, 0, 63)]
    known = type_slot < 4
    features[rows[known], 1 + type_slot[known]] = 1.0
    features[:, 5] = conjugated
    features[:, 6] = in_ring
    features[rows, 7 + np.where(stereo <= 5, stereo, 6)] = 1.0
    return edge_index, np.repeat(features, 2, axis=0)


def reverse_edges(num_edges: int) -> np.ndarray:
    """The reverse of each directed edge under the bond-pair layout: ``e ↦ e XOR 1``."""
    return np.arange(num_edges, dtype=np.int64) ^ 1


def concatenate(parts: Sequence[FeaturizedMolecules]) -> FeaturizedMolecules:
    """Join chunks featurized separately (positions are kept as given)."""
    return FeaturizedMolecules(
        x=np.concatenate([p.x for p in parts]),
        edge_index=np.concatenate([p.edge_index for p in parts], axis=1),
        edge_attr=np.concatenate([p.edge_attr for p in parts]),
        num_atoms=np.concatenate([p.num_atoms for p in parts]),
        num_edges=np.concatenate([p.num_edges for p in parts]),
        positions=np.concatenate([p.positions for p in parts]),
        failures=[f for p in parts for f in p.failures],
        pos=np.concatenate([p.pos for p in parts]) if parts[0].pos is not None else None,
    )


def _featurize_in_worker(
    config: FeaturizerConfig, smiles: list[str], start: int
) -> FeaturizedMolecules:
    return MoleculeFeaturizer(config)._featurize_chunk(smiles, start)
