"""Leak-free evaluation rounds: stratified, disjoint, validation carved from training folds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnkit.data.cascades import FoldSplit, cross_validation_splits, given_split, holdout_split


@settings(max_examples=25, deadline=None)
@given(
    counts=st.lists(st.integers(min_value=4, max_value=30), min_size=2, max_size=4),
    k=st.integers(min_value=2, max_value=5),
    seed=st.integers(min_value=0, max_value=1000),
)
def test_every_round_is_disjoint_and_test_folds_partition_the_data(counts, k, seed) -> None:
    labels = np.repeat(np.arange(len(counts)), counts)
    np.random.default_rng(seed).shuffle(labels)
    splits = cross_validation_splits(labels, k, seed)
    assert [s.fold for s in splits] == list(range(k))
    tests = np.concatenate([s.test for s in splits])
    np.testing.assert_array_equal(np.sort(tests), np.arange(labels.size))  # each item once
    for split in splits:
        everything = np.concatenate([split.train, split.val, split.test])
        np.testing.assert_array_equal(np.sort(everything), np.arange(labels.size))
        assert not set(split.test) & (set(split.train) | set(split.val))
        # stratified: each class's share of a test fold is within one item of even
        for label, count in enumerate(counts):
            assert abs((labels[split.test] == label).sum() - count / k) <= 1


def test_splits_depend_on_the_seed_only() -> None:
    labels = np.repeat(np.arange(4), 10)
    a, b = cross_validation_splits(labels, 5, 7), cross_validation_splits(labels, 5, 7)
    assert all(
        np.array_equal(x.test, y.test) and np.array_equal(x.val, y.val) for x, y in zip(a, b)
    )
    c = cross_validation_splits(labels, 5, 8)
    assert any(not np.array_equal(x.test, y.test) for x, y in zip(a, c))
    assert all(s.sizes() == {"train": 28, "val": 4, "test": 8} for s in a)
    assert all(np.bincount(labels[s.val]).tolist() == [1, 1, 1, 1] for s in a)


def test_a_round_with_shared_items_cannot_be_built() -> None:
    with pytest.raises(
        ValueError, match=r"fold 3: 1 item\(s\) are in both val and test \(e.g. index 5\)"
    ):
        FoldSplit.of(3, [0, 1], [5, 2], [5, 9])
    with pytest.raises(ValueError, match="the val split is empty"):
        FoldSplit.of(0, [0], [], [1])


def test_single_splits() -> None:
    labels = np.repeat(np.arange(2), 25)
    split = holdout_split(labels, seed=0)
    assert split.sizes() == {"train": 36, "val": 4, "test": 10}
    assert np.bincount(labels[split.test]).tolist() == [5, 5]
    shipped = given_split({"train": np.array([3, 1]), "val": np.array([2]), "test": np.array([0])})
    assert shipped.train.tolist() == [1, 3]
    with pytest.raises(ValueError, match=r"lacks \['test'\]"):
        given_split({"train": np.array([0]), "val": np.array([1])})
    with pytest.raises(ValueError, match="found -1"):
        cross_validation_splits(np.array([0, 1, -1, 0]), 2, 0)
