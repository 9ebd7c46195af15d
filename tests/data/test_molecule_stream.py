"""Reading a molecule file chunk by chunk: the same rows whatever the chunk size."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import pandas as pd
import pytest

from gnnkit.data.molecules import DataFileError
from gnnkit.data.molecules.stream import MoleculeStream
from gnnkit.data.molecules.table import read_molecule_table

CSV = 'name,smiles,row\na,CCO,7\n\nb,"c1ccccc1",8\nc,,9\nd\ne,C#N,10,extra\n'
SMI = "CCO ethanol\n\n  c1ccccc1\tbenzene ring \nC#N\n"


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    (tmp_path / "m.csv").write_text(CSV)
    with gzip.open(tmp_path / "m.csv.gz", "wt") as handle:
        handle.write(CSV)
    (tmp_path / "m.tsv").write_text(CSV.replace(",", "\t"))
    (tmp_path / "m.smi").write_text(SMI)
    return {p.name: p for p in tmp_path.iterdir()}


def read(path: Path, chunk_size: int, **kwargs) -> pd.DataFrame:
    return pd.concat(list(MoleculeStream(path, chunk_size=chunk_size, **kwargs)))


@pytest.mark.parametrize("name", ["m.csv", "m.csv.gz", "m.tsv"])
def test_csv_rows_lines_and_columns(files, name):
    stream = MoleculeStream(files[name], chunk_size=2)
    assert stream.columns == ["row", "line", "smiles", "name", "row_input"]
    chunks = list(stream)
    assert [len(c) for c in chunks] == [2, 2, 1]
    frame = pd.concat(chunks)
    assert frame.row.tolist() == [0, 1, 2, 3, 4]
    assert frame.line.tolist() == [2, 4, 5, 6, 7]  # line 3 is blank
    assert frame.smiles.tolist() == ["CCO", "c1ccccc1", "", "", "C#N"]
    assert frame.name.tolist() == ["a", "b", "c", "d", "e"]
    assert frame.row_input.tolist() == ["7", "8", "9", "", "10"]


def test_smi_rows_lines_and_names(files):
    frame = read(files["m.smi"], 1)
    assert list(frame.columns) == ["row", "line", "smiles", "name"]
    assert frame.line.tolist() == [1, 3, 4]
    assert frame.smiles.tolist() == ["CCO", "c1ccccc1", "C#N"]
    assert frame.name.tolist() == ["ethanol", "benzene ring", ""]


@pytest.mark.parametrize("name", ["m.csv", "m.csv.gz", "m.smi"])
def test_chunk_size_does_not_change_the_rows(files, name):
    whole = read(files[name], 1000).reset_index(drop=True)
    for size in (1, 2, 3):
        pd.testing.assert_frame_equal(read(files[name], size).reset_index(drop=True), whole)


def test_same_smiles_as_the_table_reader(tmp_path):
    frame = pd.DataFrame({"id": range(50), "smiles": ["C" * (k % 7 + 1) for k in range(50)]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    table = read_molecule_table(tmp_path / "t.csv", target_columns=[])
    assert read(tmp_path / "t.csv", 7).smiles.tolist() == table.smiles


def test_smiles_column_choice_and_errors(files, tmp_path):
    assert MoleculeStream(files["m.csv"], smiles_column="name").input_columns == [
        "smiles_input",
        "row_input",
    ]
    preferred = MoleculeStream(files["m.csv"], preferred_columns=["absent", "name"])
    assert next(iter(preferred)).smiles.tolist()[0] == "a"
    with pytest.raises(DataFileError, match="no column 'SMILES'"):
        MoleculeStream(files["m.csv"], smiles_column="SMILES")
    with pytest.raises(DataFileError, match="no such file"):
        MoleculeStream(tmp_path / "absent.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataFileError, match="empty"):
        MoleculeStream(tmp_path / "empty.csv")
    (tmp_path / "m.xyz").write_text(CSV)
    with pytest.raises(DataFileError, match="unknown file type"):
        MoleculeStream(tmp_path / "m.xyz")
    reserved = MoleculeStream(files["m.csv"], reserved=["name"])
    assert reserved.columns == ["row", "line", "smiles", "name_input", "row_input"]


def readers(path: Path, **kwargs) -> list:
    """Both readers of ``path``: the chunked stream and the whole-table reader."""
    return [
        lambda: pd.concat(list(MoleculeStream(path, chunk_size=2, **kwargs))),
        lambda: read_molecule_table(path, target_columns=[], **kwargs),
    ]


@pytest.mark.parametrize("smiles_column", [None, "smiles"])
def test_a_file_without_header_is_refused_by_both_readers(tmp_path, smiles_column):
    path = tmp_path / "bare.csv"
    path.write_text("CCO,1.2\nc1ccccc1,0.5\n")
    for read_file in readers(path, smiles_column=smiles_column):
        with pytest.raises(DataFileError) as error:
            read_file()
        assert str(error.value) == (
            f"{path}: line 1 looks like a molecule ('CCO'), not a header; add a header line "
            "naming the columns, e.g. 'smiles'"
        )
    # A header whose first name is no molecule is a header: its first column is the SMILES.
    (tmp_path / "named.csv").write_text("structure,value\nCCO,1.2\n")
    assert read_molecule_table(tmp_path / "named.csv", target_columns=[]).smiles == ["CCO"]
    assert next(iter(MoleculeStream(tmp_path / "named.csv"))).smiles.tolist() == ["CCO"]


def truncated_gzip(path: Path, text: str) -> Path:
    """``text`` gzip-compressed, flushed, and cut off before the end of the stream."""
    compressor = zlib.compressobj(wbits=31)  # the gzip container
    path.write_bytes(compressor.compress(text.encode()) + compressor.flush(zlib.Z_FULL_FLUSH))
    return path


def test_a_truncated_gzip_file_names_the_line_after_the_rows_read(tmp_path):
    path = truncated_gzip(tmp_path / "cut.csv.gz", "smiles,id\nCCO,a\nCC,b\nCCN,c\n")
    message = (
        f"{path}: cannot be read after line 4 (a truncated or damaged file?): Compressed file "
        "ended before the end-of-stream marker was reached"
    )
    chunks = iter(MoleculeStream(path, chunk_size=2))
    assert next(chunks).smiles.tolist() == ["CCO", "CC"]
    assert next(chunks).smiles.tolist() == ["CCN"]  # the rows read before the error
    with pytest.raises(DataFileError) as error:
        next(chunks)
    assert str(error.value) == message
    with pytest.raises(DataFileError) as error:
        read_molecule_table(path, target_columns=[])
    assert str(error.value) == message
    (tmp_path / "plain.csv.gz").write_text(CSV)
    with pytest.raises(DataFileError) as error:
        MoleculeStream(tmp_path / "plain.csv.gz")
    assert str(error.value) == (
        f"{tmp_path / 'plain.csv.gz'}: cannot be read (a truncated or damaged file?): Not a "
        "gzipped file (b'na')"
    )


@pytest.mark.parametrize(
    ("content", "line", "byte"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 1, "byte 1 of the line is 0x89"),
        (b"smiles,name\nCCO,ethanol\nCC,\xe9thane\n", 3, "byte 4 of the line is 0xe9"),
    ],
)
def test_a_file_that_is_not_utf8_text_names_the_file_and_line(tmp_path, content, line, byte):
    path = tmp_path / "library.csv"
    path.write_bytes(content)
    for read_file in readers(path):
        with pytest.raises(DataFileError) as error:
            read_file()
        assert str(error.value) == (
            f"{path}: line {line} is not UTF-8 text ({byte}); a molecule file is UTF-8 text: "
            ".csv, .tsv or .smi, optionally gzip-compressed (.gz)"
        )


def test_a_byte_order_mark_is_not_part_of_the_header(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffsmiles,y\nCCO,1\n".encode())
    table = read_molecule_table(path, smiles_column="smiles", target_columns=["y"])
    assert table.smiles == ["CCO"] and table.task_names == ["y"]
    assert MoleculeStream(path, smiles_column="smiles").input_columns == ["y"]


def test_a_line_the_csv_reader_rejects_names_the_file_and_line(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("smiles\nCCO\n" + "C" * 200_000 + "\nCC\n")
    chunks = iter(MoleculeStream(path, chunk_size=1))
    assert next(chunks).smiles.tolist() == ["CCO"]
    with pytest.raises(DataFileError) as error:
        next(chunks)
    assert str(error.value) == f"{path}: line 3: field larger than field limit (131072)"
