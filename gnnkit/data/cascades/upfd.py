"""Read the UPFD raw format (Dou et al., SIGIR 2021), as PyG's ``UPFD`` reads it, and download
the public files.

A raw folder holds

``A.txt``
    one edge a line, ``source, target`` (global node numbers, parent → child);
``node_graph_id.npy``
    ``[num_nodes]``: the graph of every node; a graph's first node is its news (root) node;
``graph_labels.npy``
    ``[num_graphs]``: 0 real, 1 fake (FakeNewsNet);
``train_idx.npy``, ``val_idx.npy``, ``test_idx.npy``
    the split that ships with the data;
``new_{profile,spacy,bert,content}_feature.npz``
    ``[num_nodes, F]`` node features as a SciPy sparse matrix (10, 300, 768 and 310 columns).

UPFD graphs carry no re-post times, so their cascades are untimed. Trees are built with the
rules of :mod:`gnnkit.data.cascades.tree` and the quirks counted in the report.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
from scipy import sparse

from gnnkit.choices import UPFD_FEATURES
from gnnkit.data.cascades.cascade import Cascade
from gnnkit.data.cascades.dataset import CascadeSet
from gnnkit.data.cascades.report import LoadReport
from gnnkit.data.cascades.tree import build_tree
from gnnkit.data.cascades.twitter import CascadeFormatError
from gnnkit.errors import DownloadError

UPFD_CLASSES: tuple[str, ...] = ("real", "fake")
#: Google Drive ids of the public raw files, as in ``torch_geometric.datasets.UPFD``.
UPFD_FILE_IDS: dict[str, str] = {
    "politifact": "1toou2GO0agoY_OS54LaCWEECQfe93nuq",
    "gossipcop": "1DkMAzC7XUUciAxsSujRJt3sq1MqaVI3g",
}
UPFD_URL = "https://drive.usercontent.google.com/download?id={}&confirm=t"
REQUIRED_FILES: tuple[str, ...] = (
    "A.txt",
    "node_graph_id.npy",
    "graph_labels.npy",
    "train_idx.npy",
    "val_idx.npy",
    "test_idx.npy",
)


def raw_folder(directory: str | os.PathLike) -> Path:
    """The folder holding ``A.txt``: ``directory`` itself or its ``raw/`` (PyG's layout)."""
    directory = Path(directory)
    for candidate in (directory, directory / "raw"):
        if (candidate / "A.txt").is_file():
            return candidate
    raise FileNotFoundError(
        f"{directory} holds no UPFD raw files (A.txt, node_graph_id.npy, graph_labels.npy, "
        "*_idx.npy, new_<feature>_feature.npz), neither directly nor in raw/"
    )


def read_sparse_npz(path: Path) -> np.ndarray:
    """A SciPy ``save_npz`` file (any format SciPy writes) as a dense float32 array
    ``[rows, columns]``, duplicates summed.

    Raises:
        CascadeFormatError: naming the file, when it is not such a file, or its indices lie
            outside its shape (checked by the conversion to COO, before anything is written).
    """
    try:
        matrix = sparse.load_npz(path).tocoo()
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise CascadeFormatError(
            f"{path}: not a readable SciPy sparse matrix (save_npz) file: {error}"
        ) from error
    return matrix.toarray().astype(np.float32, copy=False)


def read_edges(path: Path, num_nodes: int) -> np.ndarray:
    """``A.txt`` as ``[E, 2]`` int64, checking every line."""
    edges = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.replace(",", " ").split()
        try:
            source, target = (int(p) for p in parts)
        except ValueError:
            raise CascadeFormatError(
                f"{path}:{number}: expected 'source, target' node numbers, got {line!r}"
            ) from None
        if not (0 <= source < num_nodes and 0 <= target < num_nodes):
            raise CascadeFormatError(
                f"{path}:{number}: node numbers must lie in [0, {num_nodes}), got {line!r}"
            )
        edges.append((source, target))
    return np.asarray(edges, dtype=np.int64).reshape(-1, 2)


def _group(items: np.ndarray, group: np.ndarray, count: int) -> list[np.ndarray]:
    """``items`` split by ``group`` (``0 .. count - 1``), keeping their order within a group."""
    order = np.argsort(group, kind="stable")
    return np.split(items[order], np.cumsum(np.bincount(group, minlength=count))[:-1])


def load_upfd(directory: str | os.PathLike, feature: str | None = None) -> CascadeSet:
    """Load a UPFD raw folder; ``feature`` (``profile``, ``spacy``, ``bert``, ``content``)
    appends those node features to the structural ones, ``None`` uses structure alone."""
    raw = raw_folder(directory)
    missing = [name for name in REQUIRED_FILES if not (raw / name).is_file()]
    if feature is not None:
        if feature not in UPFD_FEATURES:
            raise ValueError(f"unknown UPFD feature {feature!r}; choose from {UPFD_FEATURES}")
        missing += [f"new_{feature}_feature.npz"] * (
            not (raw / f"new_{feature}_feature.npz").is_file()
        )
    if missing:
        raise FileNotFoundError(f"{raw} lacks the UPFD file(s) {', '.join(missing)}")
    graph_of = np.load(raw / "node_graph_id.npy").astype(np.int64)
    labels = np.load(raw / "graph_labels.npy").astype(np.int64)
    if graph_of.ndim != 1 or graph_of.min(initial=0) < 0 or graph_of.max(initial=-1) >= labels.size:
        raise CascadeFormatError(
            f"{raw / 'node_graph_id.npy'}: graph ids must lie in [0, {labels.size}) "
            f"({labels.size} labels in graph_labels.npy)"
        )
    if not np.isin(labels, (0, 1)).all():
        raise CascadeFormatError(f"{raw / 'graph_labels.npy'}: labels must be 0 (real) or 1 (fake)")
    edges = read_edges(raw / "A.txt", graph_of.size)
    crossing = np.flatnonzero(graph_of[edges[:, 0]] != graph_of[edges[:, 1]])
    if crossing.size:
        source, target = edges[crossing[0]]
        raise CascadeFormatError(
            f"{raw / 'A.txt'}: edge {source}, {target} joins graphs {graph_of[source]} and "
            f"{graph_of[target]} ({crossing.size} such edges)"
        )
    features = read_sparse_npz(raw / f"new_{feature}_feature.npz") if feature else None
    if features is not None and features.shape[0] != graph_of.size:
        raise CascadeFormatError(
            f"{raw}/new_{feature}_feature.npz has {features.shape[0]} rows for "
            f"{graph_of.size} nodes"
        )
    report = LoadReport(str(raw))
    node_groups = _group(np.arange(graph_of.size), graph_of, labels.size)
    edge_groups = _group(edges, graph_of[edges[:, 0]], labels.size)
    cascades = []
    for graph, (nodes, pairs) in enumerate(zip(node_groups, edge_groups)):
        if nodes.size == 0:
            raise CascadeFormatError(f"{raw / 'node_graph_id.npy'}: graph {graph} has no nodes")
        keys, parent, counts = build_tree(int(nodes[0]), [tuple(p) for p in pairs.tolist()])
        order = np.asarray(keys)
        unlisted = np.setdiff1d(nodes, order)  # nodes no edge names: attached to the root
        if unlisted.size:
            counts["orphan_parents"] += int(unlisted.size)
            order = np.concatenate([order, unlisted])
            parent = np.concatenate([parent, np.zeros(unlisted.size, dtype=np.int64)])
        report.add(counts)
        cascades.append(
            Cascade.from_tree(
                str(graph),
                parent,
                label=UPFD_CLASSES[labels[graph]],
                features=features[order] if features is not None else None,
            )
        )
    report.cascades = len(cascades)
    split = {
        name: np.load(raw / f"{name}_idx.npy").astype(np.int64) for name in ("train", "val", "test")
    }
    extra = (
        tuple(f"{feature}_{i}" for i in range(features.shape[1])) if features is not None else ()
    )
    return CascadeSet(cascades, UPFD_CLASSES, report, split, extra)


def download_upfd(
    name: str, root: str | os.PathLike, *, url: str | None = None, timeout: float = 60.0
) -> Path:
    """Download and unpack UPFD ``name`` (``politifact`` or ``gossipcop``) into
    ``root/name/raw`` unless it is there already; returns that folder.

    Raises:
        DownloadError: the URL could not be fetched or did not hold a zip archive; the message
            names the URL and how to use a local copy instead.
    """
    if name not in UPFD_FILE_IDS:
        raise ValueError(f"unknown UPFD data set {name!r}; choose from {sorted(UPFD_FILE_IDS)}")
    raw = Path(root) / name / "raw"
    if (raw / "A.txt").is_file():
        return raw
    url = url or UPFD_URL.format(UPFD_FILE_IDS[name])
    advice = (
        f"download {url} yourself (a zip of the raw files), unpack it into a folder and pass "
        "--data upfd:FOLDER (or load_upfd(FOLDER))"
    )
    raw.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=raw.parent) as scratch:
        archive = Path(scratch) / "data.zip"
        try:
            with (
                urllib.request.urlopen(url, timeout=timeout) as response,
                archive.open("wb") as out,
            ):
                shutil.copyfileobj(response, out)
        except (urllib.error.URLError, OSError) as error:
            raise DownloadError(
                f"could not download UPFD {name} from {url} ({error}); {advice}"
            ) from error
        if not zipfile.is_zipfile(archive):
            raise DownloadError(f"{url} did not return a zip archive; {advice}")
        with zipfile.ZipFile(archive) as bundle:
            bundle.extractall(scratch)
        found = next(Path(scratch).rglob("A.txt"), None)
        if found is None:
            raise DownloadError(f"the archive from {url} holds no A.txt; {advice}")
        for item in found.parent.iterdir():
            if item != archive:
                shutil.move(str(item), raw / item.name)
    return raw
