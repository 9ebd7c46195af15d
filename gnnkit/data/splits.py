"""Train/validation/test splits: random, scaffold, stratified, k-fold, and chemprop's file format.

Indices are positions in the list being split (for a molecule file: 0-based data rows). The
random, stratified and k-fold splits take optional ``groups``, one key per item: items with the
same key (e.g. the rows of one molecule) always land in the same part. A ``splits.json`` is
chemprop's format: a list of ``{"train": [...], "val": [...], "test": [...]}``.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rdkit import Chem, rdBase
from rdkit.Chem.Scaffolds import MurckoScaffold


@dataclass(slots=True)
class Split:
    """Index lists of one split."""

    train: list[int]
    val: list[int]
    test: list[int]

    def to_dict(self) -> dict[str, list[int]]:
        return {"train": list(self.train), "val": list(self.val), "test": list(self.test)}

    def check_disjoint(self) -> None:
        """Raise ``ValueError`` if an index is in two parts."""
        parts = {"train": set(self.train), "val": set(self.val), "test": set(self.test)}
        for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
            shared = parts[a] & parts[b]
            if shared:
                raise ValueError(f"indices in both {a} and {b}: {sorted(shared)[:10]}")


def _check_sizes(sizes: Sequence[float]) -> tuple[float, float, float]:
    if len(sizes) != 3 or any(s < 0 for s in sizes) or not math.isclose(sum(sizes), 1.0):
        raise ValueError(
            f"split sizes must be three non-negative fractions summing to 1, got {sizes}"
        )
    return float(sizes[0]), float(sizes[1]), float(sizes[2])


def _counts(n: int, sizes: tuple[float, float, float]) -> tuple[int, int]:
    """Train and validation counts of ``n`` items; the test part takes the rest, and with a
    test fraction of 0 the validation part does (so no item is ever left out)."""
    train = min(round(sizes[0] * n), n)
    val = n - train if sizes[2] == 0 else min(round(sizes[1] * n), n - train)
    return train, val


def _units(n: int, groups: Sequence[Hashable] | None) -> list[list[int]]:
    """The items ``range(n)`` as units that no split divides: one per item, or (with
    ``groups``) per key, holding its items in order; units in the order of their first item."""
    if groups is None:
        return [[index] for index in range(n)]
    if len(groups) != n:
        raise ValueError(f"groups must hold one key per item: {len(groups)} keys for {n} items")
    members: dict[Hashable, list[int]] = defaultdict(list)
    for index, key in enumerate(groups):
        members[key].append(index)
    return list(members.values())


def _fill(units: Sequence[list[int]], n: int, fractions: tuple[float, float, float]) -> Split:
    """The units (of ``n`` items in all), in order, each into the first part with room for all
    its items, else into the last part with a nonzero size (of :func:`_counts`). Single items
    fill the parts to exactly their sizes."""
    train, val = _counts(n, fractions)
    sizes = (train, val, n - train - val)
    fallback = max((part for part, size in enumerate(sizes) if size > 0), default=0)
    parts: tuple[list[int], list[int], list[int]] = ([], [], [])
    for members in units:
        fits = [p for p in range(3) if len(parts[p]) + len(members) <= sizes[p]]
        parts[fits[0] if fits else fallback].extend(members)
    return Split(*parts)


def random_split(
    n: int,
    sizes: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    groups: Sequence[Hashable] | None = None,
) -> Split:
    """A random split of ``range(n)``; with ``groups``, items with the same key share a part."""
    fractions = _check_sizes(sizes)
    units = _units(n, groups)
    order = np.random.default_rng(seed).permutation(len(units))
    return _fill([units[i] for i in order], n, fractions)


def murcko_scaffold(smiles: str) -> str:
    """The Bemis–Murcko scaffold SMILES (empty for acyclic molecules; the SMILES itself if
    RDKit cannot parse it, so that it forms its own group)."""
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return smiles
    return MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=False)


def scaffold_split(
    smiles: Sequence[str], sizes: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0
) -> Split:
    """Balanced scaffold split (chemprop's ``scaffold_balanced``).

    Molecules are grouped by Bemis–Murcko scaffold; no scaffold spans two parts. Groups larger
    than half the validation or test size go first into training (so large scaffolds do not
    land in the small parts); the remaining groups follow in a seeded random order. Groups then
    fill train, val and test in turn, each group going to the first part that it fits into.
    """
    fractions = _check_sizes(sizes)
    n = len(smiles)
    train_size, val_size = _counts(n, fractions)
    test_size = n - train_size - val_size
    groups: dict[str, list[int]] = defaultdict(list)
    for index, text in enumerate(smiles):
        groups[murcko_scaffold(text)].append(index)
    rng = np.random.default_rng(seed)
    big, small = [], []
    for members in groups.values():
        is_big = len(members) > val_size / 2 or len(members) > test_size / 2
        (big if is_big else small).append(members)
    rng.shuffle(big)
    rng.shuffle(small)
    train: list[int] = []
    val: list[int] = []
    test: list[int] = []
    for members in big + small:
        if len(train) + len(members) <= train_size:
            train.extend(members)
        elif len(val) + len(members) <= val_size:
            val.extend(members)
        else:
            test.extend(members)
    return Split(sorted(train), sorted(val), sorted(test))


def _units_by_label(
    units: list[list[int]], labels: Sequence[object] | None
) -> dict[object, list[list[int]]]:
    """The units by the label of their first item (all under ``None`` without labels)."""
    by_label: dict[object, list[list[int]]] = defaultdict(list)
    for members in units:
        by_label[labels[members[0]] if labels is not None else None].append(members)
    return by_label


def stratified_split(
    labels: Sequence[object],
    sizes: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    groups: Sequence[Hashable] | None = None,
) -> Split:
    """A random split that keeps each label's share in every part (for classification).

    ``labels`` holds one hashable label per item (for several binary tasks, e.g. a tuple of
    the item's labels). With ``groups``, items with the same key share a part, and count under
    the label of the first of them.
    """
    fractions = _check_sizes(sizes)
    rng = np.random.default_rng(seed)
    by_label = _units_by_label(_units(len(labels), groups), labels)
    split = Split([], [], [])
    for label in sorted(by_label, key=str):
        units = by_label[label]
        order = rng.permutation(len(units))
        items = sum(len(members) for members in units)
        part = _fill([units[i] for i in order], items, fractions)
        split.train.extend(part.train)
        split.val.extend(part.val)
        split.test.extend(part.test)
    return Split(sorted(split.train), sorted(split.val), sorted(split.test))


def k_fold_splits(
    n: int,
    folds: int,
    *,
    seed: int = 0,
    labels: Sequence[object] | None = None,
    val_fraction: float = 0.1,
    groups: Sequence[Hashable] | None = None,
) -> list[Split]:
    """``folds`` splits whose test parts partition ``range(n)``.

    Each fold's validation part is carved from its training folds (never from its test fold),
    ``val_fraction`` of the remaining items. With ``labels`` the folds and the validation parts
    are stratified by label. With ``groups``, items with the same key share a fold and a part.
    """
    if folds < 2:
        raise ValueError(f"k-fold cross-validation needs at least 2 folds, got {folds}")
    units = _units(n, groups)
    if len(units) < folds:
        kind = "items" if groups is None else "groups of items"
        raise ValueError(f"cannot make {folds} folds of {len(units)} {kind}")
    rng = np.random.default_rng(seed)
    assignment = np.empty(n, dtype=np.int64)
    by_label = _units_by_label(units, labels)
    offset = 0
    for key in sorted(by_label, key=str):
        bucket = by_label[key]
        for position, i in enumerate(rng.permutation(len(bucket))):
            assignment[bucket[i]] = (position + offset) % folds
        offset += len(bucket)
    splits = []
    for fold in range(folds):
        test = np.flatnonzero(assignment == fold).tolist()
        rest = np.flatnonzero(assignment != fold)
        rest_labels = [labels[i] for i in rest] if labels is not None else [None] * len(rest)
        rest_groups = [groups[i] for i in rest] if groups is not None else None
        inner = stratified_split(
            rest_labels,
            (1.0 - val_fraction, val_fraction, 0.0),
            seed=seed + fold + 1,
            groups=rest_groups,
        )
        splits.append(
            Split(sorted(rest[inner.train].tolist()), sorted(rest[inner.val].tolist()), test)
        )
    return splits


def write_splits(splits: Sequence[Split], path: str | Path) -> None:
    """Write chemprop's ``splits.json``: a list of ``{"train", "val", "test"}`` index lists."""
    Path(path).write_text(json.dumps([s.to_dict() for s in splits], indent=1) + "\n")


def read_splits(path: str | Path, n: int | None = None) -> list[Split]:
    """Read a ``splits.json`` (chemprop's format); checks keys, integer indices, disjointness
    and, given ``n``, that every index is below ``n``."""
    path = Path(path)
    try:
        content = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: cannot read splits: {error}") from error
    if isinstance(content, dict):
        content = [content]
    splits = []
    for number, entry in enumerate(content):
        if not isinstance(entry, dict) or not {"train", "val", "test"} <= set(entry):
            raise ValueError(f"{path}: split {number} needs the keys train, val and test")
        parts = {}
        for key in ("train", "val", "test"):
            values = entry[key]
            if not all(isinstance(v, int) and v >= 0 for v in values):
                raise ValueError(f"{path}: split {number}, {key}: indices must be integers ≥ 0")
            if n is not None and values and max(values) >= n:
                raise ValueError(
                    f"{path}: split {number}, {key}: index {max(values)} is out of range for "
                    f"{n} rows"
                )
            parts[key] = list(values)
        split = Split(**parts)
        try:
            split.check_disjoint()
        except ValueError as error:
            raise ValueError(f"{path}: split {number}: {error}") from None
        splits.append(split)
    return splits
