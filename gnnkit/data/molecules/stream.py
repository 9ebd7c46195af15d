"""Read a molecule file chunk by chunk, for libraries larger than memory.

:func:`~gnnkit.data.molecules.table.read_molecule_table` reads a whole file and checks it;
:class:`MoleculeStream` holds one chunk at a time and never fails on a row: a row without a
SMILES gets an empty one (which the featurizer rejects and reports). Each chunk is a
``pandas.DataFrame`` with

- ``row``: the 0-based data row (blank lines are not rows);
- ``line``: the 1-based line of the file where the row starts;
- ``smiles``: the SMILES, stripped;
- the file's other columns as strings, under their own names (``name`` for the second field of
  a ``.smi`` line); a column whose name is reserved (``row``, ``line``, ``smiles`` and any the
  caller adds) is renamed ``<name>_input``.

Formats: ``.csv``, ``.tsv`` (with a header line), ``.smi`` (``SMILES [name]`` per line, no
header) and SD files (``.sdf``, one row per record, see :mod:`gnnkit.data.molecules.sdf`), each
optionally gzip-compressed (``.gz``). A file it cannot read (not UTF-8 text, truncated or
damaged) is a :class:`~gnnkit.data.molecules.table.DataFileError` naming the line, raised after
a last chunk of the rows before it.

An SD file's chunks have ``smiles`` (canonical, from the record's molecule; ``""`` when RDKit
cannot read it), ``name`` (the title) and every property of the file (found by a quick first
pass over its data header lines, :func:`~gnnkit.data.molecules.sdf.sd_property_names`; ``""``
in records without it), as the whole-file reader gives them. They also have a
:data:`READ_ERROR` column (not among :attr:`MoleculeStream.input_columns`): why RDKit could not
read the record's molecule, ``""`` when it could.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd

from gnnkit.data.molecules.sdf import (
    SD_COLUMNS,
    is_sd_file,
    property_column,
    sd_property_names,
    sd_records,
)
from gnnkit.data.molecules.table import (
    DataFileError,
    _separator,
    smiles_column_index,
    text_lines,
)

#: Columns every chunk has, before the file's other columns.
STREAM_COLUMNS = ("row", "line", "smiles")
SMI_COLUMNS = ("smiles", "name")
#: Column of an SD file's chunks: why RDKit could not read a record's molecule.
READ_ERROR = "read_error"


class MoleculeStream:
    """The rows of a molecule file in chunks of ``chunk_size`` (the last may be shorter).

    Args:
        path: ``.csv``, ``.tsv``, ``.smi`` or ``.sdf``, optionally ``.gz``.
        smiles_column: the SMILES column of a CSV/TSV; it must exist. Without it, the first
            of ``preferred_columns`` in the header, else a conventional name (``smiles``,
            ``SMILES``, …), else the first column. Ignored for ``.smi`` (always the first field)
            and SD files (the record's molecule).
        chunk_size: rows per chunk.
        preferred_columns: SMILES column names to try first (e.g. the model's training column).
        reserved: further output column names that the file's columns must not take.

    Attributes:
        columns: the column names of every chunk (see the module docstring).
        input_columns: the file's columns other than the SMILES, as named in the chunks.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        smiles_column: str | None = None,
        chunk_size: int = 10_000,
        preferred_columns: Sequence[str] = (),
        reserved: Iterable[str] = (),
    ) -> None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        self.path = Path(path)
        if not self.path.exists():
            raise DataFileError(f"{self.path}: no such file")
        self.sd = is_sd_file(self.path)
        self.separator = None if self.sd else _separator(self.path)
        self.chunk_size = chunk_size
        self._properties: list[str] = []
        header = self._read_header()
        self.smiles_index = (
            0
            if self.separator is None
            else smiles_column_index(self.path, header, smiles_column, preferred_columns)
        )
        self.header = header
        taken = {*STREAM_COLUMNS, *reserved, *([READ_ERROR] if self.sd else [])}
        self._other = [i for i in range(len(header)) if i != self.smiles_index]
        self.input_columns = [
            f"{header[i]}_input" if header[i] in taken else header[i] for i in self._other
        ]
        self.columns = [*STREAM_COLUMNS, *self.input_columns]

    def chunk_column(self, name: str) -> str:
        """The name in the chunks of the file's column ``name`` (``smiles`` for the SMILES
        column); a :class:`~gnnkit.data.molecules.table.DataFileError` naming the file's
        columns when it has none of that name."""
        if name not in self.header:
            raise DataFileError(
                f"{self.path}: no column {name!r}; the columns present are "
                f"{', '.join(map(repr, self.header))}"
            )
        index = self.header.index(name)
        if index == self.smiles_index:
            return "smiles"
        return self.input_columns[self._other.index(index)]

    def _read_header(self) -> list[str]:
        """The column names: a CSV/TSV's header line; a ``.smi`` file's :data:`SMI_COLUMNS`,
        after reading its line 1 (so that a file that is not text fails here, not midway); an
        SD file's :data:`~gnnkit.data.molecules.sdf.SD_COLUMNS` and its properties (after
        reading its first record)."""
        if self.sd:
            with closing(sd_records(self.path)) as records:
                if next(records, None) is None:
                    raise DataFileError(f"{self.path}: the file holds no SD records")
            self._properties = sd_property_names(self.path)
            return [*SD_COLUMNS, *map(property_column, self._properties)]
        with closing(text_lines(self.path)) as text:
            if self.separator is None:
                next(text, None)
                return list(SMI_COLUMNS)
            header = next(csv.reader(text, delimiter=self.separator), None)
        if not header:
            raise DataFileError(f"{self.path}: the file is empty (no header line)")
        return [name.strip() for name in header]

    def _rows(self) -> Iterator[tuple[int, list[str], str]]:
        """``(line, fields, read error)`` of every data row."""
        if self.sd:
            for record in sd_records(self.path):
                yield record.line, record.fields(self._properties), record.error
            return
        with closing(text_lines(self.path)) as text:
            for line, fields in self._records(text):
                yield line, fields, ""

    def _records(self, text: Iterator[str]) -> Iterator[tuple[int, list[str]]]:
        """``(line, fields)`` of every data row of a text table (blank lines skipped)."""
        if self.separator is None:
            for line, content in enumerate(text, start=1):
                fields = content.split(None, 1)
                if fields:
                    yield line, [fields[0], fields[1].strip() if len(fields) > 1 else ""]
            return
        reader = csv.reader(text, delimiter=self.separator)
        try:
            next(reader, None)
            start = reader.line_num + 1
            for fields in reader:
                if fields:
                    yield start, fields
                start = reader.line_num + 1
        except csv.Error as error:
            raise DataFileError(f"{self.path}: line {reader.line_num}: {error}") from None

    def __iter__(self) -> Iterator[pd.DataFrame]:
        row = 0
        lines: list[int] = []
        records: list[list[str]] = []
        errors: list[str] = []
        unreadable: DataFileError | None = None
        with closing(self._rows()) as rows:
            try:
                for line, fields, error in rows:
                    lines.append(line)
                    records.append(fields)
                    errors.append(error)
                    if len(records) == self.chunk_size:
                        yield self._frame(row, lines, records, errors)
                        row += len(records)
                        lines, records, errors = [], [], []
            except DataFileError as error:
                unreadable = error  # raised after the rows read before it
        if records:
            yield self._frame(row, lines, records, errors)
        if unreadable is not None:
            raise unreadable

    def _frame(
        self, start: int, lines: list[int], records: list[list[str]], errors: list[str]
    ) -> pd.DataFrame:
        def field(index: int) -> list[str]:
            return [fields[index] if index < len(fields) else "" for fields in records]

        columns: dict[str, object] = {
            "row": np.arange(start, start + len(records), dtype=np.int64),
            "line": np.asarray(lines, dtype=np.int64),
            "smiles": [text.strip() for text in field(self.smiles_index)],
        }
        for name, index in zip(self.input_columns, self._other):
            columns[name] = field(index)
        if self.sd:
            columns[READ_ERROR] = errors
        return pd.DataFrame(columns)
