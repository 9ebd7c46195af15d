"""Read a table of molecules (CSV, TSV, SMILES file, SD file) and check it, row by row."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import rdBase

from gnnkit.data.molecules.featurizer import parse_smiles
from gnnkit.data.molecules.lines import DataFileError, text_lines
from gnnkit.data.molecules.sdf import SD_COLUMNS, is_sd_file, property_column, sd_records

#: Cell values read as a missing label.
MISSING_TOKENS = frozenset({"", "nan", "NaN", "NA", "N/A", "na", "None"})
SMILES_COLUMN_GUESSES = ("smiles", "SMILES", "Smiles", "canonical_smiles", "mol", "molecule")


@dataclass(frozen=True, slots=True)
class InvalidRow:
    """A row that could not be featurized (RDKit rejected its SMILES or could not read its SD
    record, or ETKDG could not embed the molecule when conformers are asked for): 0-based data
    row, file line, SMILES, reason."""

    row: int
    line: int
    smiles: str
    reason: str


@dataclass(slots=True)
class MoleculeTable:
    """Parsed contents of a molecule file.

    Attributes:
        path: the file.
        smiles: one SMILES per data row (``""`` for an SD record RDKit cannot read).
        targets: ``[rows, tasks]`` float64, NaN where missing; class indices for text class
            labels.
        task_names: the target columns.
        weights: ``[rows]`` sample weights or ``None``.
        frame: the file as strings.
        header_lines: lines before the first data row (1 for CSV/TSV, 0 for ``.smi``).
        lines: the 1-based line where each row starts, when rows are not single lines (SD
            records); ``None`` otherwise.
        read_errors: row → why its molecule could not be read from the file (SD records).
        class_names: the text class labels of the targets, in class-index order (sorted), or
            ``None`` when the targets are numbers.
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
    lines: list[int] | None = None
    read_errors: dict[int, str] = field(default_factory=dict)
    class_names: list[str] | None = None
    smiles_columns: tuple[str, ...] = ()

    def line_of_row(self, row: int) -> int:
        """1-based file line of 0-based data row ``row`` (where an SD record starts)."""
        return self.lines[row] if self.lines is not None else row + self.header_lines + 1

    def invalid_row(self, row: int, reason: str, text: str | None = None) -> InvalidRow:
        """Row ``row`` reported as invalid, for ``reason`` or, when the file's molecule could
        not be read, the reason it could not; ``text`` (default: its SMILES) names the row's
        molecules (see :meth:`~gnnkit.data.molecules.components.MoleculeColumns.row_text`)."""
        return InvalidRow(
            row,
            self.line_of_row(row),
            self.smiles[row] if text is None else text,
            self.read_errors.get(row, reason),
        )


def _separator(path: Path) -> str | None:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".tsv", ".tab")):
        return "\t"
    if name.endswith(".csv"):
        return ","
    if name.endswith(".smi"):
        return None
    raise DataFileError(
        f"{path}: unknown file type; expected .csv, .tsv, .smi, .sdf (optionally .gz)"
    )


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
    path: Path,
    frame: pd.DataFrame,
    column: str,
    header_lines: int = 1,
    lines: Sequence[int] | None = None,
) -> np.ndarray:
    """The column as float64, NaN for missing tokens; a non-numeric or infinite cell is an
    error naming its row, line (``lines[row]`` when given, else after ``header_lines``) and
    column."""
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
            line = lines[row] if lines is not None else row + header_lines + 1
            raise DataFileError(
                f"{path}: row {row} (line {line}), column {column!r}: {cell!r} {reason}"
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


def parse_class_labels(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Text class labels of ``columns`` as class indices ``[rows, len(columns)]`` (NaN for
    missing tokens) and the class names: every label of the columns, sorted (Python's string
    order, so ``(A) low``, ``(B) medium``, ``(C) high`` keep their prefixes' order); label
    ``k`` of the sorted list is class ``k`` in every column."""
    cells = [[cell.strip() for cell in frame[column].tolist()] for column in columns]
    names = sorted({cell for column in cells for cell in column if cell not in MISSING_TOKENS})
    index = {name: k for k, name in enumerate(names)}
    labels = np.array(
        [[index.get(cell, math.nan) for cell in column] for column in cells], dtype=np.float64
    )
    return labels.T.reshape(len(frame), len(columns)), names


def _has_text(frame: pd.DataFrame, columns: Sequence[str]) -> bool:
    """Whether a cell of ``columns`` is neither a number nor a missing token."""
    for column in columns:
        for cell in frame[column].tolist():
            text = cell.strip()
            if text in MISSING_TOKENS:
                continue
            try:
                float(text)
            except ValueError:
                return True
    return False


def _sd_table(path: Path) -> MoleculeTable:
    """An SD file's records as a table: :data:`~gnnkit.data.molecules.sdf.SD_COLUMNS`, then
    every property in the order of its first appearance (see :mod:`gnnkit.data.molecules.sdf`);
    targets are filled in by :func:`read_molecule_table`."""
    records = list(sd_records(path))
    if not records:
        raise DataFileError(f"{path}: the file holds no SD records")
    properties = list(dict.fromkeys(name for record in records for name in record.properties))
    frame = pd.DataFrame(
        [record.fields(properties) for record in records],
        columns=[*SD_COLUMNS, *map(property_column, properties)],
        dtype=str,
    )
    return MoleculeTable(
        path=path,
        smiles=frame["smiles"].tolist(),
        targets=np.zeros((len(frame), 0)),
        task_names=[],
        weights=None,
        frame=frame,
        lines=[record.line for record in records],
        read_errors={record.index: record.error for record in records if record.error},
    )


def _text_table(path: Path, smiles_column: str | None) -> tuple[MoleculeTable, str]:
    """A CSV/TSV/``.smi`` file as a table of strings, and its SMILES column; targets are
    filled in by :func:`read_molecule_table`."""
    frame = read_frame(path)
    header = list(frame.columns)
    smiles_column = header[smiles_column_index(path, header, smiles_column)]
    table = MoleculeTable(
        path=path,
        smiles=[s.strip() for s in frame[smiles_column].tolist()],
        targets=np.zeros((len(frame), 0)),
        task_names=[],
        weights=None,
        frame=frame,
        header_lines=0 if _separator(path) is None else 1,
    )
    return table, smiles_column


def read_molecule_table(
    path: str | Path,
    *,
    smiles_column: str | None = None,
    target_columns: list[str] | None = None,
    weight_column: str | None = None,
    class_labels: bool = False,
    smiles_columns: Sequence[str] = (),
) -> MoleculeTable:
    """Read and check a molecule file: CSV, TSV, ``.smi`` or SD (``.sdf``), optionally ``.gz``.

    Without ``target_columns`` every column but the SMILES, weight and name (``.smi``, SD)
    columns is a target; ``target_columns=[]`` reads no targets (for prediction). An SD file's
    molecules come from its records (``smiles_column`` does not apply) and its properties are
    the columns. With ``class_labels`` (multiclass tasks), targets with a cell that is not a
    number are read as text class labels (see :func:`parse_class_labels`).
    ``smiles_columns`` (two or more, instead of ``smiles_column``) reads several molecules per
    row of a CSV/TSV, the first column's into ``smiles``.
    """
    path = Path(path)
    sd = is_sd_file(path)
    several = len(smiles_columns) > 1
    if several and sd:
        raise DataFileError(
            f"{path}: an SD record holds one molecule; --smiles-columns needs a CSV"
        )
    if several:
        smiles_column = smiles_columns[0]
    table, smiles_column = (_sd_table(path), "smiles") if sd else _text_table(path, smiles_column)
    frame, header = table.frame, list(table.frame.columns)
    _require_columns(path, header, list(smiles_columns))
    table.smiles_columns = tuple(smiles_columns) if several else ()
    if target_columns is None:
        named = sd or _separator(path) is None  # SD and .smi files have a name column
        skip = {smiles_column, weight_column, "name" if named else None, *smiles_columns}
        target_columns = [c for c in header if c not in skip]
    _require_columns(path, header, [*target_columns, *([weight_column] if weight_column else [])])

    def numbers(column: str) -> np.ndarray:
        return parse_numbers(path, frame, column, table.header_lines, table.lines)

    if class_labels and _has_text(frame, target_columns):
        table.targets, table.class_names = parse_class_labels(frame, target_columns)
    else:
        columns = [numbers(c) for c in target_columns]
        table.targets = np.stack(columns, axis=1) if columns else np.zeros((len(frame), 0))
    table.task_names = list(target_columns)
    table.weights = numbers(weight_column) if weight_column else None
    if table.weights is not None and not np.isfinite(table.weights).all():
        row = int(np.flatnonzero(~np.isfinite(table.weights))[0])
        raise DataFileError(
            f"{path}: row {row} (line {table.line_of_row(row)}), column {weight_column!r}: a "
            "sample weight is missing"
        )
    return table
