"""Read and write the Twitter15/16 cascade format (Ma, Gao & Wong, ACL 2017).

A data set is a folder with

``label.txt``
    one line ``label:source_id``; labels are ``non-rumor``, ``false``, ``true``,
    ``unverified``. Training needs it; prediction reads every tree and takes the labels it
    gives, where it is present.
``tree/<source_id>.txt``
    one edge a line, ``['uid', 'tweet_id', 'delay_minutes']->['uid', 'tweet_id',
    'delay_minutes']``. The line whose parent is ``['ROOT', 'ROOT', '0.0']`` names the source
    post (normally the first line). A node is identified by its whole triple: a retweet carries
    the source's tweet id, so tweet ids repeat. Every node keeps its ``uid`` (its post's
    author).
``source_tweets.txt`` (optional)
    one line ``source_id<TAB>text`` per source post. Identical repeated lines are merged; a
    repeat with another text keeps the first (``conflicting_texts``), and texts of cascades
    the data does not hold (``unknown_text_ids``) and cascades without a text
    (``missing_texts``, whose text stays ``None``) are counted in the report.

Real files are irregular; :mod:`gnnkit.data.cascades.tree` lists the rule applied to each quirk
and :class:`~gnnkit.data.cascades.report.LoadReport` counts them. A line that does not parse,
a user or post id that is not a run of letters, digits, ``_``, ``.`` or ``-``, a tree without a
ROOT line or with two, a bad label line and, for training, a ``label.txt`` without labels
raise :class:`CascadeFormatError` naming the file and line. Every file may start with a UTF-8
byte order mark.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np

from gnnkit.data.cascades.cascade import Cascade
from gnnkit.data.cascades.dataset import CascadeSet
from gnnkit.data.cascades.report import LoadReport
from gnnkit.data.cascades.tree import build_tree, repair_delays

TWITTER_CLASSES: tuple[str, ...] = ("non-rumor", "false", "true", "unverified")
LABEL_FILE = "label.txt"
TREE_DIR = "tree"
TEXT_FILE = "source_tweets.txt"
#: Reads every file, skipping a UTF-8 byte order mark where one starts it.
ENCODING = "utf-8-sig"

_NODE = r"\[\s*'([^']*)'\s*,\s*'([^']*)'\s*,\s*'([^']*)'\s*\]"
_EDGE = re.compile(rf"^\s*{_NODE}\s*->\s*{_NODE}\s*$")
_ID = re.compile(r"[A-Za-z0-9_.-]+")

Node = tuple[str, str, str]


class CascadeFormatError(ValueError):
    """A cascade file that does not follow its format; the message names file and line."""


def read_labels(path: Path) -> dict[str, str]:
    """``source_id → label`` from a ``label.txt``, in file order."""
    labels: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding=ENCODING).splitlines(), start=1):
        if not line.strip():
            continue
        label, sep, source_id = line.strip().partition(":")
        if not sep or not source_id:
            raise CascadeFormatError(f"{path}:{number}: expected 'label:source_id', got {line!r}")
        if label not in TWITTER_CLASSES:
            raise CascadeFormatError(
                f"{path}:{number}: unknown label {label!r}; expected one of "
                f"{', '.join(TWITTER_CLASSES)}"
            )
        if source_id in labels:
            raise CascadeFormatError(f"{path}:{number}: source {source_id} is labelled twice")
        labels[source_id] = label
    return labels


def _delay(path: Path, number: int, value: str) -> float:
    try:
        delay = float(value)
    except ValueError:
        raise CascadeFormatError(f"{path}:{number}: delay {value!r} is not a number") from None
    if not math.isfinite(delay):
        raise CascadeFormatError(f"{path}:{number}: delay {value!r} is not finite")
    return delay


def check_id(path: Path, number: int, kind: str, value: str) -> str:
    """``value`` if it is a well-formed user or post id, else :class:`CascadeFormatError`."""
    if _ID.fullmatch(value) is None:
        raise CascadeFormatError(
            f"{path}:{number}: malformed {kind} {value!r}: expected letters, digits, '_', '.' "
            "or '-'"
        )
    return value


def read_tree(path: Path, source_id: str, label: str | None) -> tuple[Cascade, dict[str, int]]:
    """One ``tree/<source_id>.txt`` file as a cascade (every node with its user id), with its
    quirk counts."""
    root: Node | None = None
    root_line = 0
    edges: list[tuple[Node, Node]] = []
    delays: dict[Node, float] = {}
    for number, line in enumerate(path.read_text(encoding=ENCODING).splitlines(), start=1):
        if not line.strip():
            continue
        match = _EDGE.match(line)
        if match is None:
            raise CascadeFormatError(
                f"{path}:{number}: expected \"['uid', 'tweet_id', 'delay']->['uid', 'tweet_id', "
                f"'delay']\", got {line[:120]!r}"
            )
        fields = match.groups()
        parent, child = fields[:3], fields[3:]
        for node in (parent, child):
            if node[0] != "ROOT" and node not in delays:
                check_id(path, number, "user id", node[0])
                check_id(path, number, "post id", node[1])
                delays[node] = _delay(path, number, node[2])
        if parent[:2] == ("ROOT", "ROOT"):
            if root is not None:
                raise CascadeFormatError(
                    f"{path}:{number}: a second ROOT line (the first is line {root_line})"
                )
            root, root_line = child, number
        else:
            edges.append((parent, child))
    if root is None:
        raise CascadeFormatError(f"{path}: no line with parent ['ROOT', 'ROOT', '0.0']")
    nodes, parent, counts = build_tree(root, edges)
    delay, timing = repair_delays(parent, np.array([delays[node] for node in nodes]))
    counts |= timing
    counts["root_id_mismatch"] = int(root[1] != source_id)
    users = np.array([node[0] for node in nodes], dtype=object)
    return Cascade.from_tree(source_id, parent, delay, label, users=users), counts


def read_texts(path: Path, known: set[str], report: LoadReport) -> dict[str, str]:
    """``source_id → text`` from a ``source_tweets.txt``, counting its quirks (see the module
    docstring) in ``report``; ``known`` holds the ids of the loaded cascades."""
    texts: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding=ENCODING).splitlines(), start=1):
        if not line.strip():
            continue
        source_id, sep, text = line.partition("\t")
        if not sep:
            raise CascadeFormatError(f"{path}:{number}: expected 'source_id<TAB>text', no tab")
        check_id(path, number, "post id", source_id.strip())
        source_id, text = source_id.strip(), text.strip()
        if source_id not in known:
            report.add({"unknown_text_ids": 1})
        elif source_id not in texts:
            texts[source_id] = text
        elif texts[source_id] == text:
            report.add({"duplicate_texts": 1})
        else:
            report.add({"conflicting_texts": 1})
    return texts


def _read_counted(path: Path, source_id: str, label: str | None, report: LoadReport) -> Cascade:
    """:func:`read_tree`, its quirks added to ``report``."""
    cascade, counts = read_tree(path, source_id, label)
    report.add(counts)
    return cascade


def _folder_labels(directory: Path, require_labels: bool) -> dict[str, str]:
    """The labels of ``label.txt`` in ``directory``: needed, and not empty, when
    ``require_labels``; else ``{}`` when the folder has none."""
    label_path = directory / LABEL_FILE
    if not require_labels and not label_path.exists():
        return {}
    labels = read_labels(label_path)
    if require_labels and not labels:
        raise CascadeFormatError(
            f"{label_path}: no 'label:source_id' line; training and evaluation need the label "
            "of every cascade"
        )
    return labels


def _attach_texts(path: Path, cascades: list[Cascade], report: LoadReport) -> None:
    """Give every cascade its source text from ``path`` (``source_tweets.txt``)."""
    texts = read_texts(path, {c.source_id for c in cascades}, report)
    for cascade in cascades:
        cascade.text = texts.get(cascade.source_id)
        if cascade.text is None:
            report.add({"missing_texts": 1})


def load_twitter(directory: str | os.PathLike, *, require_labels: bool = True) -> CascadeSet:
    """Load a Twitter15/16 folder (``label.txt`` and ``tree/``).

    For training (``require_labels``), the cascades are those of ``label.txt``, in its order:
    cascades whose tree file is missing are skipped, and so are tree files that ``label.txt``
    does not name; both are counted and listed in the report. For prediction
    (``require_labels=False``), ``label.txt`` is optional: its cascades come first, with their
    labels, then every other tree file, in name order, without a label (``None``). Source texts
    are read from ``source_tweets.txt`` when the folder has one (``CascadeSet.has_text``).
    """
    directory = Path(directory)
    tree_dir = directory / TREE_DIR
    needed = (directory / LABEL_FILE, tree_dir) if require_labels else (tree_dir,)
    for path in needed:
        if not path.exists():
            raise FileNotFoundError(
                f"{path} does not exist; a Twitter15/16 folder holds {LABEL_FILE} and "
                f"{TREE_DIR}/<source_id>.txt"
            )
    labels = _folder_labels(directory, require_labels)
    report = LoadReport(str(directory))
    cascades = []
    for source_id, label in labels.items():
        path = tree_dir / f"{source_id}.txt"
        if path.is_file():
            cascades.append(_read_counted(path, source_id, label, report))
        else:
            report.add({"missing_tree_files": 1})
            report.skipped[source_id] = f"{path} is missing"
    for path in sorted(tree_dir.glob("*.txt")):
        if path.stem in labels:
            continue
        if require_labels:
            report.add({"unlabelled_tree_files": 1})
            report.skipped[path.stem] = f"{path} has no label in {LABEL_FILE}"
        else:
            cascades.append(_read_counted(path, path.stem, None, report))
    if not cascades:
        named = f" named in {LABEL_FILE}" if require_labels else ""
        raise CascadeFormatError(f"{directory}: no cascade to load: no tree file{named}")
    report.cascades = len(cascades)
    text_path = directory / TEXT_FILE
    if text_path.is_file():
        _attach_texts(text_path, cascades, report)
    return CascadeSet(cascades, TWITTER_CLASSES, report)


def _node(cascade: Cascade, i: int) -> str:
    tweet = cascade.source_id if i == 0 else f"{cascade.source_id}-{i}"
    user = cascade.users[i] if cascade.users is not None else str(i)
    delay = 0.0 if cascade.delay is None else float(cascade.delay[i])
    return f"['{user}', '{tweet}', '{delay!r}']"


def write_twitter(cascades: CascadeSet, directory: str | os.PathLike) -> Path:
    """Write labelled, timed cascades in the Twitter15/16 format (re-post ids
    ``<source_id>-<node>``; user ids are the cascades' own, or node numbers when they have none)
    and, when the cascades have source texts, ``source_tweets.txt``; :func:`load_twitter`
    reads them back unchanged."""
    directory = Path(directory)
    unknown = set(cascades.classes) - set(TWITTER_CLASSES)
    if unknown:
        raise ValueError(f"the Twitter format has no labels {sorted(unknown)}")
    if not cascades.timed:
        raise ValueError("the Twitter format needs re-post delays")
    tree_dir = directory / TREE_DIR
    tree_dir.mkdir(parents=True, exist_ok=True)
    label_lines = []
    for cascade in cascades.cascades:
        if cascade.label is None:
            raise ValueError(f"cascade {cascade.source_id} has no label")
        label_lines.append(f"{cascade.label}:{cascade.source_id}\n")
        lines = [f"['ROOT', 'ROOT', '0.0']->{_node(cascade, 0)}\n"]
        lines += [
            f"{_node(cascade, int(p))}->{_node(cascade, i)}\n"
            for i, p in enumerate(cascade.parent[1:], start=1)
        ]
        (tree_dir / f"{cascade.source_id}.txt").write_text("".join(lines))
    (directory / LABEL_FILE).write_text("".join(label_lines))
    texts = [f"{c.source_id}\t{c.text}\n" for c in cascades.cascades if c.text is not None]
    if texts:
        (directory / TEXT_FILE).write_text("".join(texts), encoding="utf-8")
    return directory
