"""Read SD files (``.sdf``, ``.sdf.gz``) record by record, as rows of a molecule table.

An SD file is a sequence of records, each a molecule block (the title on its first line, then
the atoms and bonds, ending with ``M  END``) followed by data items (``> <NAME>`` and the
value's lines up to a blank line), closed by a ``$$$$`` line. :func:`sd_records` streams them
(through :func:`~gnnkit.data.molecules.lines.text_lines`, so a ``.gz`` is decompressed on the
fly and a file that is not UTF-8 text, or a truncated ``.gz``, is a
:class:`~gnnkit.data.molecules.lines.DataFileError` naming the line) and gives each record as a
row:

- ``smiles``: the canonical SMILES of the molecule RDKit reads from the block (parsed,
  sanitized and with hydrogens removed, as RDKit's ``SDMolSupplier`` does; stereo from the
  block's parities or 3-D coordinates is kept); ``""`` when RDKit cannot read it;
- ``name``: the title line;
- one column per SD property, the value as text (the lines of a multi-line value joined by
  ``\\n``); a property named ``smiles`` or ``name`` becomes ``smiles_input`` or ``name_input``.

gnnkit splits the records itself and parses each block with RDKit's ``MolFromMolBlock``
rather than iterating RDKit's ``ForwardSDMolSupplier``: that keeps the line where each record
starts, the properties of a record whose molecule RDKit cannot read, and RDKit's reason for
rejecting it (``error``, e.g. ``Explicit valence for atom # 1 N, 4, is greater than
permitted``), which the supplier only logs. Coordinates are not kept: the 2-D graph is what the
models read (the EGNN embeds its own ETKDG conformer from the SMILES).
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rdkit import Chem, rdBase

from gnnkit.data.molecules.lines import DAMAGED_FILE_ERRORS, open_bytes, text_lines

SD_SUFFIXES = (".sdf", ".sdf.gz", ".sd", ".sd.gz")
#: Columns of every SD row before its properties.
SD_COLUMNS = ("smiles", "name")
RECORD_END = "$$$$"
BLOCK_END = "M  END"
_TIMESTAMP = re.compile(r"^\[\d\d:\d\d:\d\d\]\s*")
#: A data header line (``> <NAME>`` or ``>  25  <NAME>  (3)``) at the start of a line.
_DATA_HEADER = re.compile(rb"^>[^\n<]*<([^>\n]*)>", re.MULTILINE)
#: The same header in a line of text, so that both readers take the same lines as headers.
_HEADER_LINE = re.compile(_DATA_HEADER.pattern.decode())


def is_sd_file(path: str | Path) -> bool:
    """Whether ``path`` names an SD file (``.sdf`` or ``.sd``, optionally ``.gz``)."""
    return Path(path).name.lower().endswith(SD_SUFFIXES)


@dataclass(slots=True)
class SDRecord:
    """One record of an SD file.

    Attributes:
        index: 0-based record number (the data row).
        line: 1-based line of the file where the record starts (its title line).
        title: the molecule's title (first line of the block, stripped).
        smiles: canonical SMILES of the molecule, ``""`` when RDKit cannot read it.
        error: why RDKit cannot read the molecule (naming the title), ``""`` when it can.
        properties: SD property name → value.
    """

    index: int
    line: int
    title: str
    smiles: str
    error: str
    properties: dict[str, str] = field(default_factory=dict)

    def fields(self, properties: Iterable[str]) -> list[str]:
        """The row as text: SMILES, title, then the named properties (``""`` when absent)."""
        return [self.smiles, self.title, *(self.properties.get(p, "") for p in properties)]


def property_column(name: str) -> str:
    """The column of SD property ``name``: its name, with ``_input`` appended when it is one
    of :data:`SD_COLUMNS`."""
    return f"{name}_input" if name in SD_COLUMNS else name


@contextlib.contextmanager
def rdkit_log() -> Iterator[io.StringIO]:
    """Collect what RDKit logs inside the block (its reasons for rejecting a molecule).

    RDKit's log is routed to Python's ``sys.stderr`` (``rdBase.LogToPythonStderr``; where it
    goes in Jupyter, and the same stream as before in a terminal), which is redirected to the
    yielded buffer for the block.
    """
    rdBase.LogToPythonStderr()
    buffer = io.StringIO()
    with contextlib.redirect_stderr(buffer):
        yield buffer


def _log_reason(text: str) -> str:
    """RDKit's log lines as one reason: timestamps, blank lines and ``****`` rules dropped."""
    lines = [_TIMESTAMP.sub("", line).strip() for line in text.splitlines()]
    return "; ".join(line for line in lines if line and set(line) != {"*"})


def read_mol_block(block: str) -> tuple[Chem.Mol | None, str]:
    """``(molecule, "")`` for a block RDKit reads, else ``(None, reason)`` with RDKit's
    message (a parse error such as a malformed counts line, or a sanitization error)."""
    with rdBase.BlockLogs():
        mol = Chem.MolFromMolBlock(block)
    if mol is not None:
        return (mol, "") if mol.GetNumAtoms() else (None, "the molecule block holds no atoms")
    with rdkit_log() as log:
        try:
            Chem.MolFromMolBlock(block)
        except Exception as error:  # RDKit raises on some malformed blocks
            print(error, file=log)
    return None, _log_reason(log.getvalue()) or "RDKit could not read the molecule block"


def _properties(lines: list[str]) -> dict[str, str]:
    """The data items after a molecule block: ``> <NAME>`` header lines, each followed by the
    value's lines up to a blank line."""
    properties: dict[str, str] = {}
    name: str | None = None
    value: list[str] = []
    for line in [*lines, ""]:
        if name is None:
            header = _HEADER_LINE.match(line)
            if header:
                name, value = header.group(1), []
        elif line.strip():
            value.append(line.rstrip())
        else:
            properties[name] = "\n".join(value)
            name = None
    return properties


def _record(index: int, line: int, lines: list[str]) -> SDRecord:
    """Parse one record's lines (without its ``$$$$``)."""
    ends = [k for k, text in enumerate(lines) if text.rstrip() == BLOCK_END]
    split = ends[0] + 1 if ends else len(lines)
    mol, reason = read_mol_block("\n".join(lines[:split]) + "\n")
    title = lines[0].strip()
    smiles = Chem.MolToSmiles(mol) if mol is not None else ""
    error = f"SD record {title!r}: {reason}" if mol is None else ""
    return SDRecord(index, line, title, smiles, error, _properties(lines[split:]))


def sd_records(path: str | Path) -> Iterator[SDRecord]:
    """The records of an SD file, in order (see the module docstring); records holding only
    blank lines (e.g. after the last ``$$$$``) are skipped."""
    path = Path(path)
    index = 0
    start = 1
    lines: list[str] = []
    for number, text in enumerate(text_lines(path), start=1):
        text = text.rstrip("\r\n")
        if text.rstrip() == RECORD_END:
            if any(line.strip() for line in lines):
                yield _record(index, start, lines)
                index += 1
            lines, start = [], number + 1
        else:
            lines.append(text)
    if any(line.strip() for line in lines):
        yield _record(index, start, lines)


def sd_property_names(path: str | Path, block_size: int = 1 << 22) -> list[str]:
    """Every property name of an SD file, in the order of first appearance, from one quick
    pass over its data header lines (no molecule is parsed). A file that cannot be read to its
    end gives the names read before: the reader that follows reports the error."""
    path = Path(path)
    names: dict[str, None] = {}
    rest = b""
    with contextlib.suppress(*DAMAGED_FILE_ERRORS, OSError), open_bytes(path) as handle:
        for block in iter(lambda: handle.read(block_size), b""):
            text = rest + block
            cut = text.rfind(b"\n") + 1
            rest = text[cut:]
            for match in _DATA_HEADER.finditer(text, 0, cut):
                names.setdefault(match.group(1).decode("utf-8", "replace"), None)
    for match in _DATA_HEADER.finditer(rest):
        names.setdefault(match.group(1).decode("utf-8", "replace"), None)
    return list(names)
