"""Molecule-level descriptors concatenated before a model's feed-forward head.

RDKit's 2-D descriptors (``"rdkit2d"``) are the list the installed RDKit offers, which changes
between RDKit releases. A model records the names it was trained with, in column order, and the
RDKit version (:func:`descriptor_record`); at prediction time :func:`check_descriptor_record`
checks that the installed RDKit computes them, and the descriptors are computed by those names.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rdkit import Chem, rdBase
from rdkit.Chem import Descriptors

from gnnkit.data.molecules.table import DataFileError, parse_numbers, read_frame

RDKIT2D = "rdkit2d"
DESCRIPTOR_SETS = (RDKIT2D,)
#: What a descriptor function may raise on an unusual molecule (the value is then NaN).
DESCRIPTOR_ERRORS = (ValueError, ZeroDivisionError, RuntimeError, OverflowError)


class DescriptorMismatchError(ValueError):
    """RDKit descriptors a model was trained with that the installed RDKit cannot compute."""


def rdkit2d_names() -> list[str]:
    """Names of the installed RDKit's 2-D descriptors, in its order (:func:`compute_descriptors`
    returns them so by default)."""
    return [name for name, _ in Descriptors.descList]


def descriptor_record(kind: str | None) -> dict[str, Any]:
    """What a checkpoint (and a dataset's cache key) records about molecule descriptors:
    ``descriptors``, the kind (``"rdkit2d"``, ``"file"`` or ``None``), and for RDKit's also
    ``descriptor_names`` in column order and the ``rdkit_version`` that computed them."""
    if kind != RDKIT2D:
        return {"descriptors": kind}
    return {
        "descriptors": kind,
        "descriptor_names": rdkit2d_names(),
        "rdkit_version": rdBase.rdkitVersion,
    }


def check_descriptor_record(featurizer: Mapping[str, Any], width: int | None) -> str | None:
    """Check that the installed RDKit computes the RDKit descriptors of a model's featurizer
    settings (:func:`descriptor_record`); ``width`` is the number of descriptors the model's
    weights take, if known.

    Names in another order, or a subset of the installed list, are fine: they are computed by
    name. A checkpoint of an older gnnkit, without names, gets the installed list.

    Returns:
        A warning when descriptor values may differ from the training ones (another RDKit
        version, or no names stored), else ``None``.

    Raises:
        DescriptorMismatchError: a stored name the installed RDKit lacks, or (no names stored)
            an installed list of another length than ``width``.
    """
    if featurizer.get("descriptors") != RDKIT2D:
        return None
    installed = rdBase.rdkitVersion
    names = featurizer.get("descriptor_names")
    if names is None:
        count = len(rdkit2d_names())
        if width is not None and width != count:
            raise DescriptorMismatchError(
                f"trained with {width} RDKit descriptors whose names it does not store (an "
                f"older gnnkit); the installed RDKit {installed} has {count}: predict with the "
                "RDKit it was trained with, or train it again"
            )
        return (
            "stores no RDKit descriptor names (an older gnnkit): using the installed RDKit "
            f"{installed}'s {count} descriptors"
        )
    trained = featurizer.get("rdkit_version", "unknown")
    missing = missing_descriptors(names)
    if missing:
        raise DescriptorMismatchError(
            f"trained with RDKit {trained} descriptors that the installed RDKit {installed} "
            f"lacks: {', '.join(missing)}; predict with RDKit {trained}, or train it again"
        )
    if trained != installed:
        return (
            f"trained with RDKit {trained}, the installed RDKit is {installed}: RDKit "
            "descriptor values may differ slightly"
        )
    return None


def missing_descriptors(names: Sequence[str]) -> list[str]:
    """The ``names`` that are not 2-D descriptors of the installed RDKit."""
    available = set(rdkit2d_names())
    return [name for name in names if name not in available]


def _descriptor_functions(names: Sequence[str] | None) -> list[Callable[[Chem.Mol], float]]:
    """RDKit's function for each of ``names`` (all of its 2-D descriptors for ``None``)."""
    available = dict(Descriptors.descList)
    if names is None:
        return list(available.values())
    missing = missing_descriptors(names)
    if missing:
        raise DescriptorMismatchError(
            f"the installed RDKit {rdBase.rdkitVersion} has no descriptor {', '.join(missing)}"
        )
    return [available[name] for name in names]


def compute_descriptors(
    smiles: Sequence[str], kind: str = RDKIT2D, names: Sequence[str] | None = None
) -> np.ndarray:
    """``[len(smiles), D]`` float64 descriptors; a value RDKit cannot compute is NaN.

    ``names`` chooses RDKit's descriptors and their order (``None``: all, in RDKit's order).
    Raw values: models standardise them with statistics of the training split (the halicin
    recipe), so NaN and ±inf become the training mean there.
    """
    if kind not in DESCRIPTOR_SETS:
        raise ValueError(f"unknown descriptors {kind!r}; expected one of {DESCRIPTOR_SETS}")
    functions = _descriptor_functions(names)
    out = np.full((len(smiles), len(functions)), np.nan)
    with rdBase.BlockLogs():
        for row, text in enumerate(smiles):
            mol = Chem.MolFromSmiles(text)
            if mol is None:
                continue
            for column, function in enumerate(functions):
                with contextlib.suppress(*DESCRIPTOR_ERRORS):
                    out[row, column] = function(mol)
    return out


def read_descriptor_file(path: str | Path, rows: int) -> np.ndarray:
    """User-supplied descriptors: a CSV/TSV with a header and one numeric row per data row
    (``rows`` of them, in the same order); ``[rows, D]`` float64, blank cells NaN."""
    path = Path(path)
    frame = read_frame(path)
    if len(frame) != rows:
        raise DataFileError(
            f"{path}: {len(frame)} descriptor rows for {rows} data rows; the file needs one row "
            "per row of the data file, in the same order"
        )
    return np.stack([parse_numbers(path, frame, column) for column in frame.columns], axis=1)
