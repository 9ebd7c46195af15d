"""Tanimoto similarity of Morgan fingerprints to a reference set, e.g. a model's training data.

A screen's hit that is nearly a training molecule is rarely news; the similarity to the nearest
training molecule tells how novel it is (Stokes et al. 2020 kept halicin because it was unlike
known antibiotics). Fingerprints are RDKit's Morgan bit vectors, radius 2 and 2,048 bits (ECFP4
in all but name); similarities are RDKit's ``BulkTanimotoSimilarity``.
"""

from __future__ import annotations

from collections.abc import Sequence

from rdkit import DataStructs, rdBase
from rdkit.Chem import rdFingerprintGenerator
from rdkit.DataStructs import ExplicitBitVect

from gnnkit.data.molecules.featurizer import parse_smiles

MORGAN_RADIUS = 2
MORGAN_BITS = 2048


class NearestNeighbours:
    """The most similar reference molecule of any query molecule.

    Args:
        smiles: the reference molecules; those RDKit rejects are left out.
    """

    def __init__(self, smiles: Sequence[str]) -> None:
        self._generator = rdFingerprintGenerator.GetMorganGenerator(
            radius=MORGAN_RADIUS, fpSize=MORGAN_BITS
        )
        self.smiles: list[str] = []
        self.fingerprints: list[ExplicitBitVect] = []
        for text in smiles:
            fingerprint = self.fingerprint(text)
            if fingerprint is not None:
                self.smiles.append(text)
                self.fingerprints.append(fingerprint)
        if not self.fingerprints:
            raise ValueError("no reference molecule could be parsed")

    def __len__(self) -> int:
        return len(self.fingerprints)

    def fingerprint(self, smiles: str) -> ExplicitBitVect | None:
        """The Morgan fingerprint (radius 2, 2,048 bits), or ``None`` if RDKit rejects
        ``smiles``."""
        with rdBase.BlockLogs():
            mol = parse_smiles(smiles)
        return None if mol is None else self._generator.GetFingerprint(mol)

    def nearest(self, smiles: str) -> tuple[float, str]:
        """``(similarity, reference SMILES)`` of the most similar reference molecule (the first
        in reference order on ties); ``(nan, "")`` if RDKit rejects ``smiles``."""
        fingerprint = self.fingerprint(smiles)
        if fingerprint is None:
            return float("nan"), ""
        similarities = DataStructs.BulkTanimotoSimilarity(fingerprint, self.fingerprints)
        best = max(range(len(similarities)), key=similarities.__getitem__)
        return similarities[best], self.smiles[best]
