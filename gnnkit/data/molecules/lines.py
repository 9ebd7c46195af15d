"""The text lines of a molecule file, decompressed and decoded, with errors that name the
line."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

#: What reading a truncated or damaged ``.gz`` file raises.
DAMAGED_FILE_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)


class DataFileError(ValueError):
    """A problem with an input data file; the message names the file, and row and column
    where there is one."""


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


def open_bytes(path: Path) -> BinaryIO:
    """``path`` opened for reading bytes, decompressed when its name ends in ``.gz``."""
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def text_lines(path: Path) -> Iterator[str]:
    """The lines of ``path`` (decompressed when it ends in ``.gz``) with their line ends.

    A file that is not UTF-8 text (binary data, another encoding) or that ends early or is
    damaged (a truncated ``.gz``) is a :class:`DataFileError` naming the file and the line,
    raised after the lines before it.
    """
    number = 0
    try:
        with open_bytes(path) as handle:
            for number, raw in enumerate(handle, start=1):
                yield _decode(path, number, raw)
    except DAMAGED_FILE_ERRORS as error:
        where = f" after line {number}" if number else ""
        raise DataFileError(
            f"{path}: cannot be read{where} (a truncated or damaged file?): {error}"
        ) from error
