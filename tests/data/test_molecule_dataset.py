"""MoleculeCSVDataset: parsing, missing labels, bad input, the cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rdkit
import torch
from rdkit import Chem, rdBase
from torch_geometric.loader import DataLoader

from gnnkit.data.molecules import (
    DataFileError,
    FeaturizerConfig,
    MoleculeCSVDataset,
    write_invalid_rows,
)

NCI = Path(rdkit.__file__).parent / "Data" / "NCI" / "first_5K.smi"


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_targets_missing_labels_weights_and_graph_fields(tmp_path, cache, capsys):
    csv = write(
        tmp_path / "data.csv",
        "smiles,logS,tox,w\nCCO,-0.5,1,1.0\nc1ccccc1,,0,2.0\n[Na+].[Cl-],1.5,,0.5\n",
    )
    dataset = MoleculeCSVDataset(csv, target_columns=["logS", "tox"], weight_column="w", root=cache)
    assert len(dataset) == 3 and dataset.task_names == ["logS", "tox"]
    ethanol, benzene, salt = dataset[0], dataset[1], dataset[2]
    assert ethanol.smiles == "CCO" and ethanol.row.item() == 0
    assert ethanol.y.tolist() == [[-0.5, 1.0]]
    assert torch.isnan(benzene.y[0, 0]) and benzene.y_mask.tolist() == [[False, True]]
    assert salt.edge_index.shape == (2, 0) and salt.x.shape == (2, 72)
    assert salt.weight.tolist() == [0.5]
    assert torch.equal(ethanol.edge_index[:, ethanol.rev_edge_index], ethanol.edge_index.flip(0))
    batch = next(iter(DataLoader(dataset, batch_size=3)))
    assert torch.equal(batch.edge_index[:, batch.rev_edge_index], batch.edge_index.flip(0))
    assert capsys.readouterr().err == ""


def test_default_columns_and_tsv(tmp_path, cache):
    tsv = write(tmp_path / "data.tsv", "name\tSMILES\tactivity\nethanol\tCCO\t3\n")
    dataset = MoleculeCSVDataset(
        tsv, smiles_column="SMILES", target_columns=["activity"], root=cache
    )
    assert dataset[0].smiles == "CCO"
    guessed = MoleculeCSVDataset(write(tmp_path / "b.csv", "smiles,a,b\nCC,1,2\n"), root=cache)
    assert guessed.task_names == ["a", "b"]


def test_invalid_rows_are_skipped_and_reported(tmp_path, cache, capsys):
    csv = write(tmp_path / "data.csv", "smiles,y\nCCO,1\nC1CC,2\nN(C)(C)(C)(C)C,3\nCC,4\n")
    dataset = MoleculeCSVDataset(csv, root=cache)
    assert [g.smiles for g in dataset] == ["CCO", "CC"]
    assert dataset.rows().tolist() == [0, 3]
    assert [(r.row, r.line, r.smiles) for r in dataset.invalid_rows] == [
        (1, 3, "C1CC"),
        (2, 4, "N(C)(C)(C)(C)C"),
    ]
    assert "syntax error" in dataset.invalid_rows[0].reason
    assert "valence" in dataset.invalid_rows[1].reason
    assert "skipped 2 of 4 rows" in capsys.readouterr().err
    write_invalid_rows(dataset.invalid_rows, tmp_path / "invalid_smiles.csv")
    lines = (tmp_path / "invalid_smiles.csv").read_text().splitlines()
    assert lines[0] == "row,line,smiles,reason" and lines[1].startswith("1,3,C1CC,SMILES syntax")


def test_all_rows_invalid_is_an_error(tmp_path, cache):
    csv = write(tmp_path / "bad.csv", "smiles,y\nC1CC,1\nxyz,2\n")
    with pytest.raises(DataFileError, match=r"bad.csv: none of the 2 SMILES could be parsed"):
        MoleculeCSVDataset(csv, root=cache)


def test_missing_column_lists_the_columns_present(tmp_path, cache):
    csv = write(tmp_path / "data.csv", "smiles,logS\nCCO,1\n")
    with pytest.raises(DataFileError) as error:
        MoleculeCSVDataset(csv, target_columns=["solubility"], root=cache)
    assert str(error.value) == (
        f"{csv}: no column 'solubility'; the columns present are 'smiles', 'logS'"
    )


def test_non_numeric_target_names_row_and_column(tmp_path, cache):
    csv = write(tmp_path / "data.csv", "smiles,logS\nCCO,1\nCC,high\n")
    with pytest.raises(DataFileError) as error:
        MoleculeCSVDataset(csv, root=cache)
    assert str(error.value) == f"{csv}: row 1 (line 3), column 'logS': 'high' is not a number"


def test_empty_files_are_errors(tmp_path, cache):
    with pytest.raises(DataFileError, match="the file is empty"):
        MoleculeCSVDataset(write(tmp_path / "empty.csv", ""), root=cache)
    with pytest.raises(DataFileError, match="the file has no data rows"):
        MoleculeCSVDataset(write(tmp_path / "header.csv", "smiles,y\n"), root=cache)
    with pytest.raises(DataFileError, match="unknown file type"):
        MoleculeCSVDataset(write(tmp_path / "data.xlsx", "x"), root=cache)


def test_cache_is_reused_and_keyed_by_content_and_settings(tmp_path, cache, monkeypatch):
    csv = write(tmp_path / "data.csv", "smiles,y\nCCO,1\nCC,2\n")
    first = MoleculeCSVDataset(csv, root=cache)
    calls = []
    monkeypatch.setattr(MoleculeCSVDataset, "process", lambda self: calls.append(1))
    again = MoleculeCSVDataset(csv, root=cache)
    assert calls == [] and again.processed_dir == first.processed_dir
    assert torch.equal(again[1].x, first[1].x)
    monkeypatch.undo()
    rich = MoleculeCSVDataset(csv, featurizer=FeaturizerConfig("rich"), root=cache)
    assert rich.processed_dir != first.processed_dir and rich[0].x.shape[1] == 92
    write(csv, "smiles,y\nCCO,1\nCC,3\n")
    changed = MoleculeCSVDataset(csv, root=cache)
    assert changed.processed_dir != first.processed_dir and changed[1].y.item() == 3.0
    assert torch.load(Path(first.processed_paths[0]), weights_only=True)["smiles"] == ["CCO", "CC"]


def test_rdkit_nci_file_with_real_failures(tmp_path, cache, capsys):
    with rdBase.BlockLogs():
        smiles = [line.split()[0] for line in NCI.read_text().splitlines() if line.strip()]
        rejected = [i for i, s in enumerate(smiles) if Chem.MolFromSmiles(s) is None]
    dataset = MoleculeCSVDataset(NCI, target_columns=[], root=cache, workers=2)
    assert [r.row for r in dataset.invalid_rows] == rejected
    assert [r.line for r in dataset.invalid_rows] == [i + 1 for i in rejected]  # no header
    assert len(dataset) == len(smiles) - len(rejected) > 4900
    assert all(
        "valence" in r.reason or "kekulize" in r.reason.lower() for r in dataset.invalid_rows
    )
    assert f"skipped {len(rejected)} of {len(smiles)} rows" in capsys.readouterr().err


def test_descriptors_are_stored_per_molecule(tmp_path, cache):
    csv = write(tmp_path / "data.csv", "smiles,y\nCCO,1\nc1ccccc1O,2\n")
    dataset = MoleculeCSVDataset(csv, descriptors="rdkit2d", root=cache)
    descriptors = dataset[1].descriptors
    assert descriptors.shape[0] == 1 and descriptors.shape[1] > 100
    from rdkit.Chem import Descriptors

    names = [name for name, _ in Descriptors.descList]
    assert descriptors[0, names.index("MolWt")].item() == pytest.approx(94.113, abs=1e-3)
    with pytest.raises(ValueError, match="unknown descriptors 'morgan'"):
        MoleculeCSVDataset(csv, descriptors="morgan", root=cache)
    assert np.isfinite(dataset.descriptors.numpy()).mean() > 0.95


#: Ethanol in rows 0, 2 and 4 (conflicting targets), benzene in rows 1 and 5 (the same ones).
DUPLICATES = "smiles,a,b\nCCO,1,\nc1ccccc1,2,5\nOCC,3,7\nCC,4,1\nC(C)O,,9\nc1ccccc1,2,5\n"


def found_duplicates(path: Path) -> str:
    return (
        f"{path}: the same molecule (canonical SMILES) in several rows: 2 molecules in 5 rows, "
        "1 with conflicting targets; e.g. 'CCO' in rows 0, 2, 4 (lines 2, 4, 6); 'c1ccccc1' in "
        "rows 1, 5 (lines 3, 7)"
    )


def test_duplicate_molecules_merged_by_mean_or_first(tmp_path, cache, capsys):
    csv = write(tmp_path / "dup.csv", DUPLICATES)
    mean = MoleculeCSVDataset(csv, root=cache, deduplicate="mean")
    assert mean.rows().tolist() == [0, 1, 3]
    assert mean.molecule_keys == ["CCO", "c1ccccc1", "CC"]
    assert mean.y.tolist() == [[2.0, 8.0], [2.0, 5.0], [4.0, 1.0]]
    assert mean.y_mask.all()
    assert [graph.smiles for graph in mean] == ["CCO", "c1ccccc1", "CC"]
    batch = next(iter(DataLoader(mean, batch_size=3)))
    assert torch.equal(batch.edge_index[:, batch.rev_edge_index], batch.edge_index.flip(0))
    assert capsys.readouterr().err == (
        f"{found_duplicates(csv)}; merged into one row per molecule, with the mean of the rows' "
        "targets\n"
    )
    first = MoleculeCSVDataset(csv, root=cache, deduplicate="first")
    assert first.rows().tolist() == [0, 1, 3]
    assert first[0].y_mask.tolist() == [[True, False]] and first[0].y[0, 0].item() == 1.0
    assert capsys.readouterr().err.endswith("with the first row's targets\n")


def test_duplicate_molecules_kept_with_a_warning_or_refused(tmp_path, cache, capsys):
    csv = write(tmp_path / "dup.csv", DUPLICATES)
    keep = MoleculeCSVDataset(csv, root=cache, deduplicate="keep")
    assert len(keep) == 6 and keep[2].y.tolist() == [[3.0, 7.0]]
    assert keep.molecule_keys == ["CCO", "c1ccccc1", "CCO", "CC", "CCO", "c1ccccc1"]
    assert capsys.readouterr().err == (
        f"warning: {found_duplicates(csv)}; each molecule's rows are kept in one part of every "
        "split (--deduplicate mean or first merges them, error refuses the file)\n"
    )
    with pytest.raises(DataFileError) as error:
        MoleculeCSVDataset(csv, root=cache, deduplicate="error")
    assert str(error.value) == (
        f"{found_duplicates(csv)}; remove them, or merge them with --deduplicate mean or first"
    )
    unchecked = MoleculeCSVDataset(csv, root=cache)
    assert len(unchecked) == 6 and unchecked.molecule_keys is None
    assert capsys.readouterr().err == ""
    with pytest.raises(ValueError, match="deduplicate must be one of keep, mean, first, error"):
        MoleculeCSVDataset(csv, root=cache, deduplicate="last")
