"""Reading a molecule file chunk by chunk: the same rows whatever the chunk size."""

from __future__ import annotations

import gzip
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
    (tmp_path / "m.sdf").write_text(CSV)
    with pytest.raises(DataFileError, match="unknown file type"):
        MoleculeStream(tmp_path / "m.sdf")
    reserved = MoleculeStream(files["m.csv"], reserved=["name"])
    assert reserved.columns == ["row", "line", "smiles", "name_input", "row_input"]
