"""Read a table of molecules (CSV, TSV, SMILES file) and check it, row by row."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

#: Cell values read as a missing label.
MISSING_TOKENS = frozenset({"", "nan", "NaN", "NA", "N/A", "na", "None"})
SMILES_COLUMN_GUESSES = ("smiles", "SMILES", "Smiles", "canonical_smiles", "mol", "molecule")


class DataFileError(ValueError):
    """A problem with an input data file; the message names the file, and row and column
    where there is one."""


@dataclass(slots=True)
class MoleculeTable:
    """Parsed contents of a molecule file.

    Attributes:
        path: the file.
        smiles: one SMILES per data row.
        targets: ``[rows, tasks]`` float64, NaN where missing.
        task_names: the target columns.
        weights: ``[rows]`` sample weights or ``None``.
        frame: the file as strings.
        header_lines: lines before the first data row (1 for CSV/TSV, 0 for ``.smi``).
    """

    path: Path
    smiles: list[str]
    targets: np.ndarray
    task_names: list[str]
    weights: np.ndarray | None
    frame: pd.DataFrame
    header_lines: int = 1

    def line_of_row(self, row: int) -> int:
        """1-based file line of 0-based data row ``row``."""
        return row + self.header_lines + 1


def _separator(path: Path) -> str | None:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".tsv", ".tab")):
        return "\t"
    if name.endswith(".csv"):
        return ","
    if name.endswith(".smi"):
        return None
    raise DataFileError(f"{path}: unknown file type; expected .csv, .tsv, .smi (optionally .gz)")


def read_frame(path: str | Path) -> pd.DataFrame:
    """The file as a frame of strings (``.smi``: columns ``smiles`` and ``name``, no header)."""
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: no such file")
    separator = _separator(path)
    try:
        if separator is None:
            frame = pd.read_csv(
                path, sep=r"\s+", header=None, dtype=str, keep_default_na=False, engine="python"
            )
            frame.columns = ["smiles", "name", *(f"column{i}" for i in range(2, frame.shape[1]))][
                : frame.shape[1]
            ]
        else:
            frame = pd.read_csv(path, sep=separator, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as error:
        raise DataFileError(f"{path}: the file is empty") from error
    except pd.errors.ParserError as error:
        raise DataFileError(f"{path}: cannot be read as a table: {error}") from error
    if frame.empty:
        raise DataFileError(f"{path}: the file has no data rows")
    return frame


def _require_columns(path: Path, frame: pd.DataFrame, wanted: list[str]) -> None:
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise DataFileError(
            f"{path}: no column {', '.join(map(repr, missing))}; the columns present are "
            f"{', '.join(map(repr, frame.columns))}"
        )


def parse_numbers(
    path: Path, frame: pd.DataFrame, column: str, header_lines: int = 1
) -> np.ndarray:
    """The column as float64, NaN for missing tokens; a non-numeric cell is an error naming
    its row and column."""
    values = np.empty(len(frame), dtype=np.float64)
    for row, cell in enumerate(frame[column].tolist()):
        text = cell.strip()
        if text in MISSING_TOKENS:
            values[row] = math.nan
            continue
        try:
            values[row] = float(text)
        except ValueError:
            raise DataFileError(
                f"{path}: row {row} (line {row + header_lines + 1}), column {column!r}: "
                f"{cell!r} is not a number"
            ) from None
    return values


def guess_smiles_column(path: Path, frame: pd.DataFrame) -> str:
    """The SMILES column when none is named: a conventional name, else the first column."""
    for name in SMILES_COLUMN_GUESSES:
        if name in frame.columns:
            return name
    return str(frame.columns[0])


def read_molecule_table(
    path: str | Path,
    *,
    smiles_column: str | None = None,
    target_columns: list[str] | None = None,
    weight_column: str | None = None,
) -> MoleculeTable:
    """Read and check a molecule file.

    Without ``target_columns`` every column but the SMILES, weight and (for ``.smi``) name
    columns is a target; ``target_columns=[]`` reads no targets (for prediction).
    """
    path = Path(path)
    frame = read_frame(path)
    header_lines = 0 if _separator(path) is None else 1
    smiles_column = smiles_column or guess_smiles_column(path, frame)
    _require_columns(path, frame, [smiles_column])
    if target_columns is None:
        skip = {smiles_column, weight_column, "name" if _separator(path) is None else None}
        target_columns = [c for c in frame.columns if c not in skip]
    _require_columns(path, frame, [*target_columns, *([weight_column] if weight_column else [])])
    columns = [parse_numbers(path, frame, c, header_lines) for c in target_columns]
    targets = np.stack(columns, axis=1) if columns else np.zeros((len(frame), 0))
    weights = parse_numbers(path, frame, weight_column, header_lines) if weight_column else None
    if weights is not None and not np.isfinite(weights).all():
        row = int(np.flatnonzero(~np.isfinite(weights))[0])
        raise DataFileError(
            f"{path}: row {row} (line {row + header_lines + 1}), column {weight_column!r}: a "
            "sample weight is missing"
        )
    return MoleculeTable(
        path=path,
        smiles=[s.strip() for s in frame[smiles_column].tolist()],
        targets=targets,
        task_names=list(target_columns),
        weights=weights,
        frame=frame,
        header_lines=header_lines,
    )
