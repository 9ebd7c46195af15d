"""The UPFD raw-format loader and the download (against a local HTTP server)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import socket
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from gnnkit.data.cascades import (
    CascadeFormatError,
    DownloadError,
    download_upfd,
    load_cascades,
    load_upfd,
    to_data,
)
from gnnkit.data.cascades.upfd import read_sparse_npz

#: graph 0: nodes 0-3, edges listed out of depth order plus a duplicate; graph 1: nodes 4-6,
#: node 6 named by no edge; graph 2: nodes 7-9 with a reversed (second-parent) edge.
EDGES = "2, 3\n0, 1\n0, 2\n0, 1\n4, 5\n7, 8\n8, 9\n9, 8\n"
PROFILE = np.arange(30, dtype=np.float32).reshape(10, 3) * np.array([1, 0, 1], dtype=np.float32)


def write_csr(path: Path, dense: np.ndarray) -> None:
    """Write ``dense`` as SciPy's ``save_npz`` would (CSR), without SciPy."""
    rows, cols = np.nonzero(dense)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=dense.shape[0]))])
    np.savez(
        path,
        format=np.array(b"csr"),
        shape=np.array(dense.shape),
        data=dense[rows, cols],
        indices=cols,
        indptr=indptr,
    )


def write_raw(folder: Path, edges: str = EDGES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "A.txt").write_text(edges)
    np.save(folder / "node_graph_id.npy", np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2]))
    np.save(folder / "graph_labels.npy", np.array([1, 0, 1]))
    for name, index in (("train", [0]), ("val", [1]), ("test", [2])):
        np.save(folder / f"{name}_idx.npy", np.array(index))
    write_csr(folder / "new_profile_feature.npz", PROFILE)
    return folder


def test_upfd_graphs_become_untimed_cascades_with_counted_quirks(tmp_path: Path) -> None:
    data = load_upfd(write_raw(tmp_path / "raw"))
    assert data.classes == ("real", "fake") and not data.timed
    assert [c.label for c in data.cascades] == ["fake", "real", "fake"]
    assert {k: v.tolist() for k, v in data.split.items()} == {"train": [0], "val": [1], "test": [2]}
    np.testing.assert_array_equal(data.cascades[0].parent, [-1, 0, 0, 1])
    np.testing.assert_array_equal(data.cascades[1].parent, [-1, 0, 0])
    np.testing.assert_array_equal(data.cascades[2].parent, [-1, 0, 1])
    counts = {k: v for k, v in data.report.occurrences.items() if v}
    assert counts == {"duplicate_edges": 1, "orphan_parents": 1, "extra_parents": 1}
    assert data.node_feature_names() == ("log_depth", "log_children", "log_subtree", "is_root")
    # PyG's layout (FOLDER/raw) is found too
    assert len(load_upfd(tmp_path)) == 3


def test_upfd_node_features_follow_the_canonical_node_order(tmp_path: Path) -> None:
    data = load_upfd(write_raw(tmp_path), feature="profile")
    assert data.node_feature_names()[-3:] == ("profile_0", "profile_1", "profile_2")
    x = to_data(data.cascades[0], data.classes).x
    assert x.shape == (4, 4 + 3)
    # canonical order of graph 0: root 0, then depth 1 in order of appearance (2, 1), then 3
    np.testing.assert_array_equal(x[:, 4].numpy(), PROFILE[[0, 2, 1, 3], 0])


def test_sparse_reader_matches_scipy(tmp_path: Path) -> None:
    sparse = pytest.importorskip("scipy.sparse")
    dense = np.zeros((4, 5), dtype=np.float32)
    dense[0, 3], dense[2, 1], dense[3, 4] = 1.5, -2.0, 7.0
    sparse.save_npz(tmp_path / "csr.npz", sparse.csr_matrix(dense))
    sparse.save_npz(tmp_path / "coo.npz", sparse.coo_matrix(dense))
    np.testing.assert_array_equal(read_sparse_npz(tmp_path / "csr.npz"), dense)
    np.testing.assert_array_equal(read_sparse_npz(tmp_path / "coo.npz"), dense)
    sparse.save_npz(tmp_path / "csc.npz", sparse.csc_matrix(dense))
    np.testing.assert_array_equal(read_sparse_npz(tmp_path / "csc.npz"), dense)


def test_malformed_sparse_files_are_named(tmp_path: Path) -> None:
    """Garbage, an unknown format and indices outside the shape are format errors naming the
    file, never a crash or a silently wrong matrix."""
    (tmp_path / "garbage.npz").write_text("not an npz file")
    parts = {"shape": np.array([2, 2]), "data": np.array([1.0])}
    np.savez(tmp_path / "unknown.npz", format=np.array(b"xyz"), **parts)
    outside = {"indices": np.array([5]), "indptr": np.array([0, 1, 1])}
    np.savez(tmp_path / "outside.npz", format=np.array(b"csr"), **parts, **outside)
    for name in ("garbage", "unknown", "outside"):
        path = tmp_path / f"{name}.npz"
        with pytest.raises(CascadeFormatError, match=rf"{name}\.npz: not a readable SciPy sparse"):
            read_sparse_npz(path)


@pytest.mark.parametrize(
    ("edges", "message"),
    [
        ("0, 1\n3, 4\n", r"A\.txt: edge 3, 4 joins graphs 0 and 1"),
        ("0, 1\n0; 2\n", r"A\.txt:2: expected 'source, target'"),
        ("0, 1\n0, 10\n", r"A\.txt:2: node numbers must lie in \[0, 10\)"),
    ],
)
def test_bad_upfd_files_are_named(tmp_path: Path, edges: str, message: str) -> None:
    with pytest.raises(CascadeFormatError, match=message):
        load_upfd(write_raw(tmp_path, edges))


def test_missing_upfd_files_are_listed(tmp_path: Path) -> None:
    folder = write_raw(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"lacks the UPFD file.*new_bert_feature\.npz"):
        load_upfd(folder, feature="bert")
    (folder / "val_idx.npy").unlink()
    with pytest.raises(FileNotFoundError, match=r"val_idx\.npy"):
        load_upfd(folder)
    with pytest.raises(FileNotFoundError, match="holds no UPFD raw files"):
        load_upfd(tmp_path / "elsewhere")


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 from a background thread until the block ends."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.timeout = 5
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_download_unpacks_the_archive_and_is_not_repeated(tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "source")
    site = tmp_path / "site"
    site.mkdir()
    with zipfile.ZipFile(site / "data.zip", "w") as bundle:
        for file in raw.iterdir():
            bundle.write(file, file.name)
    (site / "page.html").write_text("<html>quota exceeded</html>")
    with serve(site) as url:
        folder = download_upfd("politifact", tmp_path / "cache", url=f"{url}/data.zip", timeout=5)
        with pytest.raises(DownloadError, match="did not return a zip archive"):
            download_upfd("gossipcop", tmp_path / "cache", url=f"{url}/page.html", timeout=5)
    assert folder == tmp_path / "cache" / "politifact" / "raw"
    assert len(load_upfd(folder)) == 3
    # already there: no download (the server is gone)
    assert download_upfd("politifact", tmp_path / "cache", url="http://127.0.0.1:1/x") == folder


def test_offline_download_names_the_url_and_the_local_alternative(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/data.zip"
    with pytest.raises(DownloadError) as error:
        download_upfd("politifact", tmp_path, url=url, timeout=5)
    assert url in str(error.value) and "--data upfd:FOLDER" in str(error.value)
    with pytest.raises(ValueError, match="unknown UPFD data set 'twitter'"):
        download_upfd("twitter", tmp_path)


def test_named_upfd_sets_load_from_the_cache(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GNNKIT_CACHE", str(tmp_path))
    write_raw(tmp_path / "upfd" / "gossipcop" / "raw")
    monkeypatch.chdir(tmp_path)
    assert len(load_cascades("upfd:gossipcop")) == 3
