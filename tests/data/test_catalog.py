"""Named datasets: the embedded ChEMBL set and the MoleculeNet download path."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest

from gnnkit.data.molecules import DataFileError, MoleculeCSVDataset, catalog
from gnnkit.data.molecules.catalog import RemoteDataset, download, resolve_dataset


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GNNKIT_CACHE", str(tmp_path / "cache"))


def test_embedded_chembl_set_needs_no_network():
    spec = resolve_dataset(None)
    assert spec == resolve_dataset("chembl")
    lines = spec.path.read_text().splitlines()
    assert lines[0] == "smiles,chembl_id,pIC50"
    assert len(lines) == 1018  # 1,017 molecules
    assert lines[1] == "O=S(=O)(Nc1cccs1)c2ccc(Oc3ccccc3c4ccccc4)c(c2)C#N,CHEMBL1520012,5.48"
    dataset = MoleculeCSVDataset(spec.path, target_columns=spec.target_columns, verbose=False)
    assert len(dataset) == 1017 and dataset.invalid_rows == []
    values = dataset.y.flatten()
    assert 3.0 < values.min() < values.max() < 11.0


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def local_server(tmp_path):
    """An HTTP server on 127.0.0.1 serving tmp_path/www; stops after the test."""
    root = tmp_path / "www"
    root.mkdir()
    handler = lambda *a, **k: _QuietHandler(*a, directory=str(root), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_checks_rows_and_records_digest(local_server, monkeypatch, tmp_path):
    root, address = local_server
    (root / "tiny.csv").write_text("smiles,logS\nCCO,1.0\nCC,2.0\nc1ccccc1,3.0\n")
    remote = RemoteDataset(f"{address}/tiny.csv", "smiles", ["logS"], "regression", rows=3)
    monkeypatch.setitem(catalog.MOLECULENET, "tiny", remote)
    path = download("tiny")
    assert path.read_text().startswith("smiles,logS")
    assert Path(str(path) + ".sha256").read_text().strip() == catalog._digest(path)
    spec = resolve_dataset("tiny")
    assert spec.path == path and spec.target_columns == ["logS"]

    (root / "short.csv").write_text((root / "tiny.csv").read_text())
    wrong = RemoteDataset(f"{address}/short.csv", "smiles", ["logS"], "regression", rows=5)
    monkeypatch.setitem(catalog.MOLECULENET, "wrong", wrong)
    with pytest.raises(DataFileError, match="expected 5 data rows for wrong, got 3"):
        download("wrong")
    assert not list((tmp_path / "cache" / "downloads").glob("*.part"))


def test_offline_download_names_the_url_and_the_local_alternative(monkeypatch):
    closed = RemoteDataset("http://127.0.0.1:9/esol.csv", "smiles", ["y"], "regression", rows=1)
    monkeypatch.setitem(catalog.MOLECULENET, "esol", closed)
    with pytest.raises(DataFileError) as error:
        resolve_dataset("esol")
    message = str(error.value)
    assert "cannot download the esol dataset from http://127.0.0.1:9/esol.csv" in message
    assert "--data esol.csv --smiles-column 'smiles'" in message


def test_every_moleculenet_entry_names_its_public_file():
    expected = {"esol", "freesolv", "lipophilicity", "bbbp", "tox21", "hiv"}
    assert expected <= set(catalog.MOLECULENET)
    for remote in catalog.MOLECULENET.values():
        assert remote.url.startswith("https://") and remote.rows > 0 and remote.target_columns
    assert len(catalog.MOLECULENET["tox21"].target_columns) == 12
