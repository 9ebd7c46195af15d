"""Reading SD files: records, properties, RDKit's reasons, and both table readers."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

from gnnkit.data.molecules.lines import DataFileError
from gnnkit.data.molecules.sdf import read_mol_block, sd_property_names, sd_records
from gnnkit.data.molecules.stream import READ_ERROR, MoleculeStream
from gnnkit.data.molecules.table import parse_class_labels, read_molecule_table

LABELS = ["(C) high", "(A) low", "(B) medium"]
SMILES = ["CCO", "c1ccccc1O", "CC(=O)O", "N[C@@H](C)C(=O)O", "CCCl"]
#: A molecule block whose first atom, a nitrogen, has four carbon neighbours and no charge.
BAD_VALENCE = "Explicit valence for atom # 0 N, 4, is greater than permitted"


def write_sd(path: Path) -> Path:
    """Five molecules written by RDKit (titles ``mol0…``, properties ``SOL`` as text labels,
    ``logS`` missing in record 2, a two-line ``note`` in record 1), then a record RDKit
    cannot sanitize (title ``bad nitrogen``) and one with a garbled counts line."""
    with Chem.SDWriter(str(path)) as writer:
        for k, smiles in enumerate(SMILES):
            mol = Chem.MolFromSmiles(smiles)
            mol.SetProp("_Name", f"mol{k}")
            mol.SetProp("SOL", LABELS[k % 3])
            if k != 2:
                mol.SetProp("logS", str(-0.5 * k))
            if k == 1:
                mol.SetProp("note", "first line\nsecond line")
            writer.write(mol)
    block = Chem.MolToMolBlock(Chem.MolFromSmiles("C(C)(C)(C)C")).replace(" C ", " N ", 1)
    bad = "bad nitrogen\n" + block.split("\n", 1)[1] + ">  <SOL>\n(A) low\n\n$$$$\n"
    garbled = "garbled\n  RDKit\n\nnot a counts line\nM  END\n$$$$\n\n"
    with open(path, "a") as handle:
        handle.write(bad + garbled)
    return path


@pytest.fixture
def sd_file(tmp_path) -> Path:
    return write_sd(tmp_path / "m.sdf")


def test_records_match_rdkit_and_give_reasons(sd_file):
    records = list(sd_records(sd_file))
    assert [r.index for r in records] == list(range(7))
    assert [r.title for r in records] == [*(f"mol{k}" for k in range(5)), "bad nitrogen", "garbled"]
    supplier = Chem.SDMolSupplier(str(sd_file))
    for record, mol in zip(records[:5], supplier):
        assert record.smiles == Chem.MolToSmiles(mol) and record.error == ""
        assert record.properties == mol.GetPropsAsDict(
            includePrivate=False, autoConvertStrings=False
        )
    assert records[3].smiles == "C[C@H](N)C(=O)O"  # stereo from the block's parities
    assert records[1].properties["note"] == "first line\nsecond line"
    lines = sd_file.read_text().splitlines()
    assert all(lines[r.line - 1] == r.title for r in records)
    assert (
        records[5].smiles == "" and records[5].error == f"SD record 'bad nitrogen': {BAD_VALENCE}"
    )
    # RDKit's own words, naming the line of the block
    assert records[6].error == "SD record 'garbled': Cannot convert 'not' to unsigned int on line 4"


def test_read_mol_block_reports_rdkit_reason_without_logging(capfd):
    block = Chem.MolToMolBlock(Chem.MolFromSmiles("C(C)(C)(C)C")).replace(" C ", " N ", 1)
    assert read_mol_block(block) == (None, BAD_VALENCE)
    assert capfd.readouterr().err == ""


def test_table_of_an_sd_file(sd_file):
    table = read_molecule_table(sd_file, target_columns=["logS"])
    assert list(table.frame.columns) == ["smiles", "name", "SOL", "logS", "note"]
    assert table.smiles[:2] == ["CCO", "Oc1ccccc1"] and table.smiles[5:] == ["", ""]
    np.testing.assert_array_equal(
        table.targets[:, 0], [0.0, -0.5, np.nan, -1.5, -2.0, np.nan, np.nan]
    )
    assert table.line_of_row(0) == 1 and table.line_of_row(5) == table.lines[5] > 1
    invalid = table.invalid_row(5, "empty SMILES")
    assert (invalid.row, invalid.smiles) == (5, "")
    assert invalid.reason == f"SD record 'bad nitrogen': {BAD_VALENCE}"
    assert table.invalid_row(0, "why").reason == "why"  # a molecule RDKit read
    default = read_molecule_table(sd_file, weight_column=None, class_labels=True)
    assert default.task_names == ["SOL", "logS", "note"]  # the properties, not name or smiles


def test_text_labels_need_a_multiclass_task(sd_file):
    with pytest.raises(
        DataFileError, match=r"row 0 \(line 1\), column 'SOL': '\(C\) high' is not a number"
    ):
        read_molecule_table(sd_file, target_columns=["SOL"])
    table = read_molecule_table(sd_file, target_columns=["SOL"], class_labels=True)
    assert table.class_names == ["(A) low", "(B) medium", "(C) high"]  # sorted
    np.testing.assert_array_equal(table.targets[:, 0], [2, 0, 1, 2, 0, 0, np.nan])


def test_class_labels_are_shared_and_numbers_stay_numbers(tmp_path):
    frame = pd.DataFrame({"a": ["x", "y", ""], "b": ["z", "x", "y"]})
    labels, names = parse_class_labels(frame, ["a", "b"])
    assert names == ["x", "y", "z"]
    np.testing.assert_array_equal(labels, [[0, 2], [1, 0], [np.nan, 1]])
    (tmp_path / "n.csv").write_text("smiles,c\nC,0\nCC,2\nCCC,1\n")
    table = read_molecule_table(tmp_path / "n.csv", target_columns=["c"], class_labels=True)
    assert table.class_names is None and table.targets[:, 0].tolist() == [0, 2, 1]


def test_stream_matches_the_table_and_carries_read_errors(sd_file, tmp_path):
    packed = tmp_path / "m.sdf.gz"
    packed.write_bytes(gzip.compress(sd_file.read_bytes()))
    table = read_molecule_table(packed, target_columns=[])
    stream = MoleculeStream(packed, chunk_size=3)
    assert stream.input_columns == ["name", "SOL", "logS", "note"]  # all, as the table has
    assert sd_property_names(sd_file) == ["SOL", "logS", "note"]
    chunks = list(stream)
    assert [len(c) for c in chunks] == [3, 3, 1]
    whole = pd.concat(chunks, ignore_index=True)
    assert whole.smiles.tolist() == table.smiles and whole.line.tolist() == table.lines
    assert whole[READ_ERROR].tolist()[:5] == [""] * 5
    assert whole[READ_ERROR][5] == table.read_errors[5]
    pd.testing.assert_frame_equal(
        whole[["smiles", "name", "SOL", "logS", "note"]], table.frame, check_dtype=False
    )


def test_truncated_and_empty_sd_files(sd_file, tmp_path):
    packed = gzip.compress(sd_file.read_bytes())
    (tmp_path / "cut.sdf.gz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(DataFileError, match=r"cut\.sdf\.gz: cannot be read after line"):
        read_molecule_table(tmp_path / "cut.sdf.gz", target_columns=[])
    (tmp_path / "empty.sdf").write_text("\n")
    with pytest.raises(DataFileError, match=r"empty\.sdf: the file holds no SD records"):
        read_molecule_table(tmp_path / "empty.sdf", target_columns=[])
    with pytest.raises(DataFileError, match=r"empty\.sdf: the file holds no SD records"):
        MoleculeStream(tmp_path / "empty.sdf")


def test_both_readers_take_the_same_lines_as_data_headers(tmp_path):
    block = Chem.MolToMolBlock(Chem.MolFromSmiles("CCO"))
    path = tmp_path / "h.sdf"
    path.write_text(f"{block}> <logS\n-1.5\n\n>  25  <note>  (3)\nkept\n\n$$$$\n")
    table = read_molecule_table(path, target_columns=[])
    assert list(table.frame.columns) == ["smiles", "name", "note"]
    assert table.frame.note.tolist() == ["kept"]
    assert sd_property_names(path) == ["note"]
