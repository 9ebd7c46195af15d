"""Splits: sizes, disjointness, scaffolds, strata, folds and chemprop's file format."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from gnnkit.data.splits import (
    Split,
    k_fold_splits,
    murcko_scaffold,
    random_split,
    read_splits,
    scaffold_split,
    stratified_split,
    write_splits,
)

SMILES = (
    ["c1ccccc1" + "C" * k for k in range(12)]  # benzene scaffold ×12
    + ["C1CCCCC1" + "O" * (k % 3 + 1) for k in range(6)]  # cyclohexane ×6
    + ["c1ccncc1C" + "C" * k for k in range(4)]  # pyridine ×4
    + ["CCO", "CCCC", "CCN", "OCCO"]  # acyclic: empty scaffold
    + ["C1CC1" + "N" * (k + 1) for k in range(2)]  # cyclopropane ×2
)


def test_random_split_sizes_and_reproducibility():
    split = random_split(100, (0.8, 0.1, 0.1), seed=3)
    assert (len(split.train), len(split.val), len(split.test)) == (80, 10, 10)
    assert sorted(split.train + split.val + split.test) == list(range(100))
    assert random_split(100, seed=3) == split and random_split(100, seed=4) != split
    with pytest.raises(ValueError, match="summing to 1"):
        random_split(10, (0.8, 0.3, 0.1))


def test_scaffold_split_keeps_scaffolds_together():
    split = scaffold_split(SMILES, (0.8, 0.1, 0.1), seed=0)
    split.check_disjoint()
    assert sorted(split.train + split.val + split.test) == list(range(len(SMILES)))
    part_of = {}
    for name in ("train", "val", "test"):
        for index in getattr(split, name):
            part_of.setdefault(murcko_scaffold(SMILES[index]), set()).add(name)
    assert all(len(parts) == 1 for parts in part_of.values())
    # the big benzene group (larger than half the val/test size) always goes to train
    assert part_of["c1ccccc1"] == {"train"}
    assert murcko_scaffold("CCO") == ""


def test_stratified_split_keeps_class_shares():
    labels = [0] * 80 + [1] * 20
    split = stratified_split(labels, (0.8, 0.1, 0.1), seed=1)
    counts = {
        name: Counter(labels[i] for i in getattr(split, name)) for name in ("train", "val", "test")
    }
    assert counts["train"] == {0: 64, 1: 16}
    assert counts["val"] == {0: 8, 1: 2} and counts["test"] == {0: 8, 1: 2}


def test_k_fold_test_parts_partition_and_val_comes_from_training_folds():
    labels = [0] * 30 + [1] * 15
    folds = k_fold_splits(45, 5, seed=0, labels=labels)
    tests = [set(f.test) for f in folds]
    assert set().union(*tests) == set(range(45)) and sum(map(len, tests)) == 45
    for fold in folds:
        fold.check_disjoint()
        assert set(fold.train) | set(fold.val) | set(fold.test) == set(range(45))
        assert Counter(labels[i] for i in fold.test) == {0: 6, 1: 3}
        assert len(fold.val) > 0
    with pytest.raises(ValueError, match="at least 2 folds"):
        k_fold_splits(10, 1)


def test_k_fold_never_drops_items_of_small_classes():
    labels = [0] * 7 + [1] * 5 + [2] * 3
    for fold in k_fold_splits(15, 3, seed=1, labels=labels):
        assert sorted(fold.train + fold.val + fold.test) == list(range(15))
    split = stratified_split([0] * 5, (0.9, 0.1, 0.0), seed=0)
    assert (len(split.train), len(split.val), len(split.test)) == (4, 1, 0)


#: 30 items holding 12 molecules: item k is molecule k % 12 (2 or 3 items each).
MOLECULES = [f"m{k % 12}" for k in range(30)]


def parts_of_groups(split: Split, groups: list[str]) -> dict[str, set[str]]:
    """The parts that hold items of each group."""
    parts: dict[str, set[str]] = {}
    for name in ("train", "val", "test"):
        for index in getattr(split, name):
            parts.setdefault(groups[index], set()).add(name)
    return parts


def test_grouped_items_share_a_part_in_every_split():
    labels = [k % 12 % 2 for k in range(30)]
    splits = [
        *(random_split(30, seed=seed, groups=MOLECULES) for seed in range(5)),
        *(stratified_split(labels, seed=seed, groups=MOLECULES) for seed in range(5)),
        *k_fold_splits(30, 3, seed=0, labels=labels, groups=MOLECULES),
    ]
    for split in splits:
        split.check_disjoint()
        assert sorted(split.train + split.val + split.test) == list(range(30))
        assert all(len(parts) == 1 for parts in parts_of_groups(split, MOLECULES).values())
    grouped = random_split(30, (0.8, 0.1, 0.1), seed=0, groups=MOLECULES)
    assert (grouped.val, grouped.test) == ([10, 22], [8, 20, 1, 13, 25])
    assert len(grouped.train) == 23
    # Without groups, a molecule's items land in several parts.
    ungrouped = parts_of_groups(random_split(30, seed=0), MOLECULES)
    assert sum(len(parts) > 1 for parts in ungrouped.values()) > 0
    # One key per item: the ungrouped splits.
    assert random_split(30, seed=3, groups=list(range(30))) == random_split(30, seed=3)
    assert k_fold_splits(30, 3, seed=1, groups=list(range(30))) == k_fold_splits(30, 3, seed=1)
    with pytest.raises(ValueError, match=r"^cannot make 13 folds of 12 groups of items$"):
        k_fold_splits(30, 13, groups=MOLECULES)


def test_splits_file_round_trip_and_validation(tmp_path):
    splits = [Split([0, 1, 2], [3], [4]), Split([1, 2, 3], [4], [0])]
    path = tmp_path / "splits.json"
    write_splits(splits, path)
    assert json.loads(path.read_text())[0] == {"train": [0, 1, 2], "val": [3], "test": [4]}
    assert read_splits(path, n=5) == splits
    with pytest.raises(ValueError, match="index 4 is out of range for 4 rows"):
        read_splits(path, n=4)
    path.write_text(json.dumps([{"train": [0, 1], "val": [1], "test": []}]))
    with pytest.raises(ValueError, match=r"split 0: indices in both train and val: \[1\]"):
        read_splits(path)
    path.write_text(json.dumps([{"train": [0], "test": [1]}]))
    with pytest.raises(ValueError, match="needs the keys train, val and test"):
        read_splits(path)
