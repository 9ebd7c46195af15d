"""Molecule-level descriptors concatenated before a model's feed-forward head."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from rdkit import Chem, rdBase
from rdkit.Chem import Descriptors

from gnnkit.data.molecules.table import DataFileError, parse_numbers, read_frame

DESCRIPTOR_SETS = ("rdkit2d",)
#: What a descriptor function may raise on an unusual molecule (the value is then NaN).
DESCRIPTOR_ERRORS = (ValueError, ZeroDivisionError, RuntimeError, OverflowError)


def rdkit2d_names() -> list[str]:
    """Names of RDKit's 2-D descriptors, in the order :func:`compute_descriptors` returns."""
    return [name for name, _ in Descriptors._descList]


def compute_descriptors(smiles: Sequence[str], kind: str = "rdkit2d") -> np.ndarray:
    """``[len(smiles), D]`` float64 descriptors; a value RDKit cannot compute is NaN.

    Raw values: models standardise them with statistics of the training split (the halicin
    recipe), so NaN and ±inf become the training mean there.
    """
    if kind not in DESCRIPTOR_SETS:
        raise ValueError(f"unknown descriptors {kind!r}; expected one of {DESCRIPTOR_SETS}")
    functions = [function for _, function in Descriptors._descList]
    out = np.full((len(smiles), len(functions)), np.nan)
    with rdBase.BlockLogs():
        for row, text in enumerate(smiles):
            mol = Chem.MolFromSmiles(text)
            if mol is None:
                continue
            for column, function in enumerate(functions):
                with contextlib.suppress(
                    ValueError, ZeroDivisionError, RuntimeError, OverflowError
                ):
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
