"""Read a table of molecules (CSV, TSV, SMILES file) and check it, row by row."""

from __future__ import annotations

import gzip
import io
import math
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import rdBase

from gnnkit.data.molecules.featurizer import parse_smiles

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
        smiles_columns: with several molecules per row, the SMILES columns in order (``smiles``
            holds the first; see :mod:`~gnnkit.data.molecules.components`); else empty.
    """

    path: Path
    smiles: list[str]
    targets: np.ndarray
    task_names: list[str]
    weights: np.ndarray | None
    frame: pd.DataFrame
    header_lines: int = 1
    smiles_columns: tuple[str, ...] = ()

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


def _decode(path: Path, number: int, raw: bytes) -> str:
    """Line ``number`` as text (without the byte-order mark of line 1); a line that is not
    UTF-8 is an error naming the file, the line and the first byte that is not."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataFileError(
            f"{path}: line {number} is not UTF-8 text (byte {error.start + 1} of the line is "
            f"0x{raw[error.start]:02x}); a molecule file is UTF-8 text: .csv, .tsv or .smi, "
            "optionally gzip-compressed (.gz)"
        ) from None
    return text.removeprefix("\ufeff") if number == 1 else text


def text_lines(path: Path) -> Iterator[str]:
    """The lines of ``path`` (decompressed when it ends in ``.gz``) with their line ends.

    A file that is not UTF-8 text (binary data, another encoding) or that ends early or is
    damaged (a truncated ``.gz``) is a :class:`DataFileError` naming the file and the line,
    raised after the lines before it.
    """
    number = 0
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                yield _decode(path, number, raw)
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        where = f" after line {number}" if number else ""
        raise DataFileError(
            f"{path}: cannot be read{where} (a truncated or damaged file?): {error}"
        ) from error


def read_frame(path: str | Path) -> pd.DataFrame:
    """The file as a frame of strings (``.smi``: columns ``smiles`` and ``name``, no header),
    read by :func:`text_lines`."""
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: no such file")
    separator = _separator(path)
    text = io.StringIO("".join(text_lines(path)))
    try:
        if separator is None:
            frame = pd.read_csv(
                text, sep=r"\s+", header=None, dtype=str, keep_default_na=False, engine="python"
            )
            frame.columns = ["smiles", "name", *(f"column{i}" for i in range(2, frame.shape[1]))][
                : frame.shape[1]
            ]
        else:
            frame = pd.read_csv(text, sep=separator, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as error:
        raise DataFileError(f"{path}: the file is empty") from error
    except pd.errors.ParserError as error:
        raise DataFileError(f"{path}: cannot be read as a table: {error}") from error
    if frame.empty:
        raise DataFileError(f"{path}: the file has no data rows")
    return frame


def _require_columns(path: Path, columns: Sequence[str], wanted: list[str]) -> None:
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise DataFileError(
            f"{path}: no column {', '.join(map(repr, missing))}; the columns present are "
            f"{', '.join(map(repr, columns))}"
        )


def parse_numbers(
    path: Path, frame: pd.DataFrame, column: str, header_lines: int = 1
) -> np.ndarray:
    """The column as float64, NaN for missing tokens; a non-numeric or infinite cell is an
    error naming its row and column."""
    values = np.empty(len(frame), dtype=np.float64)
    for row, cell in enumerate(frame[column].tolist()):
        text = cell.strip()
        if text in MISSING_TOKENS:
            values[row] = math.nan
            continue
        try:
            value: float | None = float(text)
        except ValueError:
            value = None
        if value is None or math.isinf(value):
            reason = "is not a number" if value is None else "is not a finite number"
            raise DataFileError(
                f"{path}: row {row} (line {row + header_lines + 1}), column {column!r}: "
                f"{cell!r} {reason}"
            )
        values[row] = value
    return values


def _is_molecule(cell: str) -> bool:
    """Whether RDKit parses ``cell`` as a molecule (nothing is logged)."""
    with rdBase.BlockLogs():
        return parse_smiles(cell.strip()) is not None


def smiles_column_index(
    path: Path,
    header: Sequence[str],
    smiles_column: str | None = None,
    preferred: Sequence[str] = (),
) -> int:
    """The position in ``header`` (a file's column names) of its SMILES column.

    ``smiles_column`` must be in the header. Without it: the first of ``preferred``, then of
    the conventional names (:data:`SMILES_COLUMN_GUESSES`), in the header, else the first
    column. When none of the names asked for is in the header and its first cell parses as a
    molecule, the file has no header line (its first molecule was read as one): that is an
    error, as the molecule would be lost and every row number shifted.
    """
    wanted = [smiles_column] if smiles_column is not None else [*preferred, *SMILES_COLUMN_GUESSES]
    found = [name for name in wanted if name in header]
    if found:
        return list(header).index(found[0])
    if _is_molecule(header[0]):
        raise DataFileError(
            f"{path}: line 1 looks like a molecule ({header[0].strip()!r}), not a header; add a "
            "header line naming the columns, e.g. 'smiles'"
        )
    if smiles_column is not None:
        _require_columns(path, header, [smiles_column])
    return 0


def read_molecule_table(
    path: str | Path,
    *,
    smiles_column: str | None = None,
    target_columns: list[str] | None = None,
    weight_column: str | None = None,
    smiles_columns: Sequence[str] = (),
) -> MoleculeTable:
    """Read and check a molecule file.

    Without ``target_columns`` every column but the SMILES, weight and (for ``.smi``) name
    columns is a target; ``target_columns=[]`` reads no targets (for prediction).
    ``smiles_columns`` (two or more, instead of ``smiles_column``) reads several molecules
    per row, the first column's into ``smiles``.
    """
    path = Path(path)
    if len(smiles_columns) > 1:
        smiles_column = smiles_columns[0]
    frame = read_frame(path)
    header_lines = 0 if _separator(path) is None else 1
    header = list(frame.columns)
    smiles_column = header[smiles_column_index(path, header, smiles_column)]
    _require_columns(path, header, list(smiles_columns))
    if target_columns is None:
        skip = {smiles_column, weight_column, "name" if _separator(path) is None else None}
        skip.update(smiles_columns)
        target_columns = [c for c in frame.columns if c not in skip]
    _require_columns(path, header, [*target_columns, *([weight_column] if weight_column else [])])
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
        smiles_columns=tuple(smiles_columns) if len(smiles_columns) > 1 else (),
    )
