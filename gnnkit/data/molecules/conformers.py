"""One 3-D conformer per molecule from RDKit's ETKDG, for geometric (E(3)-invariant) models.

ETKDG (Riniker & Landrum 2015; version 3: Wang, Witek, Landrum & Riniker 2020) is distance
geometry refined with experimental torsion-angle preferences and basic chemical knowledge (flat
aromatic rings, linear triple bonds). Each molecule is embedded with explicit hydrogens, which
shape the geometry, and the positions of the molecule's own atoms are kept: ``Chem.AddHs``
appends the hydrogens after the existing atoms, so the first ``n`` rows of the conformer are the
atoms of the graph, in the graph's order. A molecule parsed with explicit hydrogens keeps them.

The embedding is seeded and single-threaded, so a molecule and a seed always give the same
coordinates, in any process. No force-field refinement follows (ETKDG's geometry is already
chemically sensible) and no random-coordinate fallback is tried: a molecule that ETKDG cannot
embed is a failure with a reason, so that every geometry a model sees comes from the same method.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from rdkit import Chem, rdBase
from rdkit.Chem import rdDistGeom

METHOD = "ETKDGv3"
_FAILURE_CAUSES = {int(value): name for name, value in rdDistGeom.EmbedFailureCauses.names.items()}


class EmbeddingError(ValueError):
    """ETKDG produced no conformer; the message is the per-molecule reason."""


def etkdg_parameters(seed: int) -> rdDistGeom.EmbedParameters:
    """ETKDG v3 settings: ``seed``, one thread, and a count of failed attempts per cause."""
    params = rdDistGeom.ETKDGv3()
    params.randomSeed = seed
    params.numThreads = 1
    params.trackFailures = True
    return params


def _failure_summary(params: rdDistGeom.EmbedParameters) -> str:
    """Why ETKDG gave up: the stage (RDKit's ``EmbedFailureCauses``) where most attempts failed,
    e.g. ``"830 failed attempts, most at INITIAL_COORDS"``, or no attempt at all."""
    counts = list(params.GetFailureCounts())
    if not any(counts):
        return "no attempt was made (the distance bounds could not be triangle-smoothed)"
    worst = int(np.argmax(counts))
    return f"{sum(counts)} failed attempts, most at {_FAILURE_CAUSES.get(worst, str(worst))}"


def embed_conformer(mol: Chem.Mol, seed: int = 0) -> np.ndarray:
    """Positions of ``mol``'s atoms in one ETKDG conformer.

    Args:
        mol: a sanitized molecule (hydrogens implicit or explicit).
        seed: ETKDG's random seed.

    Returns:
        ``[mol.GetNumAtoms(), 3]`` float32 coordinates in Å, in ``mol``'s atom order.

    Raises:
        EmbeddingError: ETKDG found no conformer, or RDKit raised while building the distance
            bounds; the message reads ``"conformer embedding failed (ETKDGv3, seed 0): …"``.
    """
    with_hydrogens = Chem.AddHs(mol)
    params = etkdg_parameters(seed)
    prefix = f"conformer embedding failed ({METHOD}, seed {seed})"
    try:
        with rdBase.BlockLogs():
            conformer_id = rdDistGeom.EmbedMolecule(with_hydrogens, params)
    except RuntimeError as error:  # RDKit's invariant violations, e.g. "bad lower bound"
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        detail = lines[1] if len(lines) > 1 else (lines[0] if lines else "unknown error")
        raise EmbeddingError(f"{prefix}: RDKit error: {detail}") from None
    if conformer_id < 0:
        raise EmbeddingError(f"{prefix}: {_failure_summary(params)}")
    positions = with_hydrogens.GetConformer(conformer_id).GetPositions()
    return positions[: mol.GetNumAtoms()].astype(np.float32)


@dataclass(slots=True)
class Conformers:
    """Conformers of a list of molecules.

    Attributes:
        pos: positions of the embedded molecules' atoms, concatenated ``[Σ n_atoms, 3]``
            (float32, Å).
        embedded: indices (into the input list) of the embedded molecules ``[M]``.
        failures: ``(input index, reason)`` of each molecule that could not be embedded.
    """

    pos: np.ndarray
    embedded: list[int] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)


def embed_conformers(mols: Sequence[Chem.Mol], seed: int = 0) -> Conformers:
    """One ETKDG conformer per molecule (:func:`embed_conformer`); failures are collected."""
    parts, embedded, failures = [], [], []
    for index, mol in enumerate(mols):
        try:
            parts.append(embed_conformer(mol, seed))
        except EmbeddingError as error:
            failures.append((index, str(error)))
        else:
            embedded.append(index)
    pos = np.concatenate(parts) if parts else np.zeros((0, 3), dtype=np.float32)
    return Conformers(pos, embedded, failures)
