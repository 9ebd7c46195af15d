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

Speed: a molecule's atoms and bonds are read with one pass of RDKit calls into integer codes
(:class:`MoleculeCodes`, what worker processes send back); the one-hot encoding of a whole chunk
of molecules is then a handful of numpy operations. A plain SMILES (:func:`is_plain_smiles`: no
stereo marks, isotopes, hydrogen atoms, aromatic bond symbols ``:`` or CXSMILES extension) is
parsed without RDKit's stereo and hydrogen passes and read with fewer calls; its features are
bit-for-bit the same.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from rdkit import Chem, rdBase
from rdkit.Chem import rdchem

from gnnkit.data.molecules.conformers import embed_conformers
from gnnkit.forking import fork_pool

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
#: Standard atomic weight by atomic number (what ``Atom.GetMass`` gives without an isotope).
_ATOMIC_WEIGHT = np.array([Chem.GetPeriodicTable().GetAtomicWeight(z) for z in range(119)])
#: What sends a SMILES to the full parser: a stereo mark, space or ``|``, an isotope, a hydrogen
#: atom (not Hg, He, …), or a ``:`` bond (one outside brackets: ``[CH3:1]`` is an atom map).
_FULL_PARSE = re.compile(r"[@/\\ |]|\[\d|\[H(?![a-z])|:(?![^\[]*\])")

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

#: For a molecule parsed from a plain SMILES (:func:`is_plain_smiles`) and sanitized, fewer
#: RDKit calls suffice: every chiral tag is unspecified (0) and every bond's stereo none (0);
#: masses are standard (NaN here, then looked up by atomic number); and DERIVED entries come
#: from the bonds in bulk (:func:`_derive_plain_codes`): total degree = bonds + hydrogens, an
#: atom is aromatic exactly when one of its bonds is, a bond is in a ring exactly when ring
#: perception lists it. The aromatic rule needs the SMILES to have no ``:`` bond: sanitizing
#: then gives bonds the aromatic type only where aromaticity perception flags the bond and both
#: its atoms, whereas ``C:C`` keeps an aromatic-type bond between atoms that are not aromatic.
DERIVED = -1
_PLAIN_ATOM_SOURCES = (
    rdchem.Atom.GetAtomicNum,
    DERIVED,
    rdchem.Atom.GetFormalCharge,
    0,
    rdchem.Atom.GetTotalNumHs,
    rdchem.Atom.GetHybridization,
    DERIVED,
    np.nan,
)
_PLAIN_BOND_SOURCES = (*_BOND_GETTERS[:4], DERIVED, 0)

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
        component: with several molecules per row (:mod:`~gnnkit.data.molecules.components`),
            where each entry is a row holding its molecules' atoms in column order, the
            column of every atom ``[Σ n_atoms]`` (int64); otherwise ``None``.
    """

    x: np.ndarray
    edge_index: np.ndarray
    edge_attr: np.ndarray
    num_atoms: np.ndarray
    num_edges: np.ndarray
    positions: np.ndarray
    failures: list[tuple[int, str]] = field(default_factory=list)
    pos: np.ndarray | None = None
    component: np.ndarray | None = None

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


@dataclass(slots=True)
class MoleculeCodes:
    """What RDKit says about a chunk's atoms and bonds, as small integers: 22 bytes per atom
    against the features' 288, so worker processes send these and the receiving process
    encodes them (:meth:`MoleculeFeaturizer.encode`).

    Attributes:
        atoms: ``[7, Σ n_atoms]`` int16: atomic number, total degree, formal charge, chiral tag,
            total hydrogens, hybridization, aromatic (0/1).
        mass: ``[Σ n_atoms]`` atomic masses (Da, float64).
        bonds: ``[6, Σ n_bonds]`` int32: begin atom, end atom (local to the molecule), bond
            type, conjugated, in ring, stereo.
        rich: for ``"rich"`` atom features ``[3, Σ n_atoms]`` int16 (:func:`_rich_codes`),
            else ``None``.
        num_atoms, num_bonds: per molecule ``[M]``.
        positions, failures, pos: as in :class:`FeaturizedMolecules`.
    """

    atoms: np.ndarray
    mass: np.ndarray
    bonds: np.ndarray
    rich: np.ndarray | None
    num_atoms: np.ndarray
    num_bonds: np.ndarray
    positions: np.ndarray
    failures: list[tuple[int, str]] = field(default_factory=list)
    pos: np.ndarray | None = None

    @staticmethod
    def concatenate(parts: Sequence[MoleculeCodes]) -> MoleculeCodes:
        """Join chunks read separately (positions are kept as given)."""

        def join(name: str, axis: int = 0) -> np.ndarray | None:
            arrays = [getattr(part, name) for part in parts]
            return None if arrays[0] is None else np.concatenate(arrays, axis=axis)

        return MoleculeCodes(
            atoms=join("atoms", axis=1),
            mass=join("mass"),
            bonds=join("bonds", axis=1),
            rich=join("rich", axis=1),
            num_atoms=join("num_atoms"),
            num_bonds=join("num_bonds"),
            positions=join("positions"),
            failures=[failure for part in parts for failure in part.failures],
            pos=join("pos"),
        )


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


def is_plain_smiles(smiles: str) -> bool:
    """True when ``smiles`` has no stereo mark (``@ / \\``), isotope, hydrogen atom, aromatic
    bond symbol (``:`` outside brackets) or CXSMILES extension (after a space or ``|``).

    Such a molecule has no chiral tags, no bond stereo and standard masses, and parsing it
    unsanitized, then sanitizing, gives exactly the molecule ``Chem.MolFromSmiles`` gives: the
    extra passes of the full parser (removing hydrogen atoms, perceiving stereo) find nothing
    to do, yet cost about a third of its time. Without ``:`` bonds, an atom is aromatic exactly
    when one of its bonds has the aromatic type, which spares reading atoms' aromatic flags.
    """
    return _FULL_PARSE.search(smiles) is None


def parse_smiles(smiles: str, add_hydrogens: bool = False) -> Chem.Mol | None:
    """An RDKit molecule, or ``None`` if RDKit rejects the SMILES (nothing is logged)."""
    if not isinstance(smiles, str) or not smiles:
        return None
    return _parse(smiles, is_plain_smiles(smiles), add_hydrogens)


def _parse(smiles: str, plain: bool, add_hydrogens: bool) -> Chem.Mol | None:
    """:func:`parse_smiles` for a non-empty string whose :func:`is_plain_smiles` is known."""
    if not plain:
        mol = Chem.MolFromSmiles(smiles)
    else:
        mol = Chem.MolFromSmiles(smiles, sanitize=False)
        if mol is not None:
            try:
                Chem.SanitizeMol(mol)
            except Chem.MolSanitizeException:
                mol = None
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

        ``workers > 1`` splits the list over that many processes, which send back
        :class:`MoleculeCodes`; this process encodes them.
        """
        if workers > 1 and len(smiles) >= 2 * workers:
            return self.encode(self._read_parallel(smiles, workers))
        return self.encode(self.read(smiles))

    def featurize_mols(self, mols: Sequence[Chem.Mol]) -> FeaturizedMolecules:
        """Featurize RDKit molecules that are already parsed (none may be ``None``)."""
        mols = list(mols)
        return self.encode(self._read_parsed(mols, [False] * len(mols), list(range(len(mols))), []))

    def read(self, smiles: Sequence[str], start: int = 0) -> MoleculeCodes:
        """Parse ``smiles`` and read their atoms and bonds into codes; positions count from
        ``start``."""
        mols, plain, positions, failures = [], [], [], []
        with rdBase.BlockLogs():
            for offset, text in enumerate(smiles):
                is_text = isinstance(text, str) and bool(text)
                is_plain = is_text and is_plain_smiles(text)
                mol = _parse(text, is_plain, self.config.add_hydrogens) if is_text else None
                if mol is None:
                    failures.append(start + offset)
                else:
                    mols.append(mol)
                    plain.append(is_plain)
                    positions.append(start + offset)
        reasons = [(index, rejection_reason(smiles[index - start])) for index in failures]
        return self._read_parsed(mols, plain, positions, reasons)

    def encode(self, codes: MoleculeCodes) -> FeaturizedMolecules:
        """Codes → features (numpy only, no RDKit calls)."""
        x = _atom_features(codes.atoms[:6], codes.atoms[6], codes.mass)
        if self.config.atom_features == "rich":
            x = np.concatenate([x, _rich_atom_features(codes.rich)], axis=1)
        edge_index, edge_attr = _bond_features(codes.bonds)
        return FeaturizedMolecules(
            x=x,
            edge_index=edge_index,
            edge_attr=edge_attr,
            num_atoms=codes.num_atoms,
            num_edges=2 * codes.num_bonds,
            positions=codes.positions,
            failures=codes.failures,
            pos=codes.pos,
        )

    def _read_parallel(self, smiles: Sequence[str], workers: int) -> MoleculeCodes:
        # Many small chunks, so that no process waits long for the last one.
        bounds = np.linspace(0, len(smiles), 16 * workers + 1).astype(int)
        chunks = [(list(smiles[a:b]), int(a)) for a, b in itertools.pairwise(bounds)]
        with fork_pool(workers) as pool:
            tasks = [(self.config, *chunk) for chunk in chunks]
            parts = pool.starmap(_read_in_worker, tasks, chunksize=1)
        return MoleculeCodes.concatenate(parts)

    def _read_parsed(
        self,
        mols: list[Chem.Mol],
        plain: list[bool],
        positions: list[int],
        failures: list[tuple[int, str]],
    ) -> MoleculeCodes:
        """Read parsed molecules; with conformers, embed them first and add the molecules
        ETKDG cannot embed to ``failures``."""
        if not self.config.conformers:
            return self._read_codes(mols, plain, positions, failures)
        conformers = embed_conformers(mols, self.config.conformer_seed)
        failures = sorted(failures + [(positions[k], why) for k, why in conformers.failures])
        codes = self._read_codes(
            [mols[k] for k in conformers.embedded],
            [plain[k] for k in conformers.embedded],
            [positions[k] for k in conformers.embedded],
            failures,
        )
        codes.pos = conformers.pos
        return codes

    def _read_codes(
        self,
        mols: list[Chem.Mol],
        plain: list[bool],
        positions: list[int],
        failures: list[tuple[int, str]],
    ) -> MoleculeCodes:
        atom_columns: list[list] = [[] for _ in _ATOM_GETTERS]
        bond_columns: list[list] = [[] for _ in _BOND_GETTERS]
        ring_bonds: list[int] = []
        num_atoms = np.empty(len(mols), dtype=np.int64)
        num_bonds = np.empty(len(mols), dtype=np.int64)
        bond_start = 0
        # Column by column with unbound getters: far fewer Python-level calls than a tuple per
        # atom, and RDKit's enums (ints) convert to numpy in bulk.
        for k, (mol, is_plain) in enumerate(zip(mols, plain)):
            num_atoms[k] = mol.GetNumAtoms()
            atoms = list(map(mol.GetAtomWithIdx, range(num_atoms[k])))
            atom_sources = _PLAIN_ATOM_SOURCES if is_plain else _ATOM_GETTERS
            for column, source in zip(atom_columns, atom_sources):
                column.extend(_values(source, atoms))
            num_bonds[k] = mol.GetNumBonds()
            bonds = list(map(mol.GetBondWithIdx, range(num_bonds[k])))
            bond_sources = _PLAIN_BOND_SOURCES if is_plain else _BOND_GETTERS
            for column, source in zip(bond_columns, bond_sources):
                column.extend(_values(source, bonds))
            if is_plain:
                rings = mol.GetRingInfo().BondRings()
                ring_bonds.extend(bond_start + index for ring in rings for index in ring)
            bond_start += num_bonds[k]
        atom_codes = np.asarray(atom_columns[:7], dtype=np.int16).reshape(7, -1)
        bond_codes = np.asarray(bond_columns, dtype=np.int32).reshape(6, -1)
        _derive_plain_codes(atom_codes, bond_codes, num_atoms, num_bonds, ring_bonds)
        mass = np.asarray(atom_columns[7], dtype=np.float64)
        standard = np.isnan(mass)
        mass[standard] = _ATOMIC_WEIGHT[atom_codes[0, standard]]
        return MoleculeCodes(
            atoms=atom_codes,
            mass=mass,
            bonds=bond_codes,
            rich=_rich_codes(mols) if self.config.atom_features == "rich" else None,
            num_atoms=num_atoms,
            num_bonds=num_bonds,
            positions=np.asarray(positions, dtype=np.int64),
            failures=failures,
        )


def _derive_plain_codes(
    atoms: np.ndarray,
    bonds: np.ndarray,
    num_atoms: np.ndarray,
    num_bonds: np.ndarray,
    ring_bonds: list[int],
) -> None:
    """Fill in the :data:`DERIVED` codes in place: an atom's total degree is the number of its
    bonds plus its hydrogens, it is aromatic when one of its bonds is aromatic, and a bond is
    in a ring when ``ring_bonds`` (indices into the chunk's bonds) lists it.

    Shapes: ``atoms [7, N]``, ``bonds [6, B]``, ``num_atoms``/``num_bonds [M]``.
    """
    atom_offset = np.repeat(np.cumsum(num_atoms) - num_atoms, num_bonds)
    ends = np.concatenate([bonds[0] + atom_offset, bonds[1] + atom_offset])
    count = atoms.shape[1]
    degree, aromatic = atoms[1], atoms[6]
    derived = degree == DERIVED
    bond_count = np.bincount(ends, minlength=count)
    degree[derived] = bond_count[derived] + atoms[4, derived]
    aromatic_bond = np.tile(bonds[2] == int(rdchem.BondType.AROMATIC), 2)
    has_aromatic_bond = np.bincount(ends[aromatic_bond], minlength=count) > 0
    derived = aromatic == DERIVED
    aromatic[derived] = has_aromatic_bond[derived]
    in_ring = bonds[4]
    in_ring[in_ring == DERIVED] = 0
    in_ring[ring_bonds] = 1


def _values(source: Callable | object, items: list) -> Iterable:
    """``source`` of each item: a getter's answers, or a constant repeated."""
    return map(source, items) if callable(source) else itertools.repeat(source, len(items))


def _rich_codes(mols: list[Chem.Mol]) -> np.ndarray:
    """Smallest ring size (0: in no ring), radical electrons, total valence → ``[3, N]``."""
    codes = []
    for mol in mols:
        ring_info = mol.GetRingInfo()
        for atom in mol.GetAtoms():
            smallest = ring_info.MinAtomRingSize(atom.GetIdx())
            codes.append((smallest, atom.GetNumRadicalElectrons(), atom.GetTotalValence()))
    return np.asarray(codes, dtype=np.int16).reshape(-1, 3).T


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


def _rich_atom_features(codes: np.ndarray) -> np.ndarray:
    """:func:`_rich_codes` ``[3, N]`` → in ring, smallest ring size (3–8, other), radical
    electrons (0–2, other), total valence (0–6, other) ``[N, 20]``."""
    smallest, radicals, valence = codes.astype(np.int64)
    in_ring = smallest > 0
    ring_slot = np.where((smallest >= 3) & (smallest <= 8), smallest - 3, 6)
    slots = [
        1 + ring_slot,
        8 + np.where(radicals <= 2, radicals, 3),
        12 + np.where(valence <= 6, valence, 7),
    ]
    out = _one_hot_rows(codes.shape[1], RICH_EXTRA_DIM, slots)
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


def _read_in_worker(config: FeaturizerConfig, smiles: list[str], start: int) -> MoleculeCodes:
    return MoleculeFeaturizer(config).read(smiles, start)
