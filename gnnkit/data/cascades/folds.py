"""Leak-free evaluation rounds: stratified k-fold with validation carved from the training folds.

For fold :math:`f` of :math:`k`, the test set is fold :math:`f`; the validation set is a
stratified share of the other :math:`k - 1` folds, and the training set is the rest. Early
stopping and model choice see only the validation set, so the test fold is scored once, by a
model that never saw it. Every item of the training folds lands in exactly one of train and
validation, every class with two or more training items gives at least one to validation, and
every :class:`FoldSplit` checks on construction that its three parts are disjoint and non-empty.

With *groups* (e.g. the claims of :func:`~gnnkit.data.cascades.content.claim_groups`),
:func:`group_cross_validation_splits` keeps every group on one side of each cut, test and
validation alike: stratified group k-fold (scikit-learn's ``StratifiedGroupKFold``, shuffled
by the seed), which balances the classes as well as whole groups allow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class FoldSplit:
    """Disjoint index sets of one evaluation round.

    Attributes:
        fold: the round's number (0 for a single split).
        train, val, test: sorted int64 indices into the data set.
    """

    fold: int
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def __post_init__(self) -> None:
        parts = {"train": self.train, "val": self.val, "test": self.test}
        for name, part in parts.items():
            if part.size == 0:
                raise ValueError(
                    f"fold {self.fold}: the {name} split is empty (too little data for the "
                    "split fractions: use more data, fewer folds or a larger validation fraction)"
                )
        for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
            shared = np.intersect1d(parts[a], parts[b])
            if shared.size:
                raise ValueError(
                    f"fold {self.fold}: {shared.size} item(s) are in both {a} and {b} "
                    f"(e.g. index {int(shared[0])})"
                )

    @classmethod
    def of(cls, fold: int, train: object, val: object, test: object) -> FoldSplit:
        """A round from any three index sequences (sorted and checked)."""
        return cls(fold, *(np.sort(np.asarray(p, dtype=np.int64)) for p in (train, val, test)))

    def sizes(self) -> dict[str, int]:
        return {
            "train": int(self.train.size),
            "val": int(self.val.size),
            "test": int(self.test.size),
        }


def _labels(labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError("labels must be a non-empty vector")
    if (labels < 0).any():
        raise ValueError("every item needs a label to be split by class (found -1)")
    return labels


def stratified_folds(labels: np.ndarray, k: int, seed: int) -> list[np.ndarray]:
    """Split the indices of ``labels`` into ``k`` folds with each class spread evenly.

    Each class's indices are shuffled and dealt to the folds in turn, starting where the
    previous class stopped, so fold sizes differ by at most one. Returns ``k`` sorted arrays.
    """
    labels = _labels(labels)
    if k < 2:
        raise ValueError(f"k-fold cross-validation needs k >= 2, got {k}")
    if labels.size < k:
        raise ValueError(f"cannot split {labels.size} items into {k} folds")
    rng = np.random.default_rng(seed)
    assignment = np.empty(labels.size, dtype=np.int64)
    start = 0
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        assignment[members] = (start + np.arange(members.size)) % k
        start = (start + members.size) % k
    return [np.flatnonzero(assignment == fold) for fold in range(k)]


def stratified_holdout(
    indices: np.ndarray, labels: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``indices`` into ``(kept, held_out)``: about ``fraction`` of each class held out,
    at least one item of every class with two or more, every index in exactly one part."""
    if not 0 < fraction < 1:
        raise ValueError(f"a held-out fraction must lie in (0, 1), got {fraction}")
    labels = _labels(labels)
    rng = np.random.default_rng(seed)
    held = []
    for label in np.unique(labels[indices]):
        members = rng.permutation(indices[labels[indices] == label])
        count = round(fraction * members.size)
        if members.size >= 2:
            count = min(max(count, 1), members.size - 1)
        held.append(members[:count])
    held_out = np.sort(np.concatenate(held))
    return np.setdiff1d(indices, held_out), held_out


def cross_validation_splits(
    labels: np.ndarray, k: int, seed: int, val_fraction: float = 0.1
) -> list[FoldSplit]:
    """``k`` rounds of stratified k-fold; each round's validation set is a stratified
    ``val_fraction`` of its training folds (never of the test fold)."""
    labels = _labels(labels)
    splits = []
    for fold, test in enumerate(stratified_folds(labels, k, seed)):
        rest = np.setdiff1d(np.arange(labels.size), test)
        train, val = stratified_holdout(rest, labels, val_fraction, seed + 1 + fold)
        splits.append(FoldSplit.of(fold, train, val, test))
    return splits


def group_folds(labels: np.ndarray, groups: np.ndarray, k: int, seed: int) -> list[np.ndarray]:
    """Split the indices of ``labels`` into ``k`` folds, each group (``groups`` ``[B]``) in
    one fold, classes spread as evenly as whole groups allow. Plain :func:`stratified_folds`
    when every item is its own group."""
    labels, groups = _labels(labels), np.asarray(groups)
    if groups.shape != labels.shape:
        raise ValueError(f"need one group per item, got {groups.shape} for {labels.shape}")
    n_groups = np.unique(groups).size
    if n_groups == labels.size:
        return stratified_folds(labels, k, seed)
    if k < 2 or n_groups < k:
        raise ValueError(f"cannot split {n_groups} groups into {k} folds (k >= 2 needed)")
    if np.bincount(labels).max() < k:
        raise ValueError(f"cannot split into {k} folds: no class has {k} items")
    import warnings

    from sklearn.model_selection import StratifiedGroupKFold

    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    with warnings.catch_warnings():  # a class rarer than k is spread as well as it can be
        warnings.filterwarnings("ignore", message="The least populated class")
        return [np.sort(test) for _, test in splitter.split(labels, labels, groups)]


def feasible_folds(labels: np.ndarray, groups: np.ndarray, k: int) -> int:
    """``k``, lowered where :func:`group_folds` could not make that many folds (fewer
    groups, or no class with ``k`` items), but at least 2."""
    largest_class = int(np.bincount(_labels(labels)).max())
    return max(2, min(k, np.unique(groups).size, largest_class))


def group_cross_validation_splits(
    labels: np.ndarray, groups: np.ndarray, k: int, seed: int, val_fraction: float = 0.1
) -> list[FoldSplit]:
    """``k`` rounds of stratified group k-fold; each round's validation set is about
    ``val_fraction`` of its training folds, whole groups again (one of
    ``round(1 / val_fraction)`` group folds of them)."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"a held-out fraction must lie in (0, 1), got {val_fraction}")
    labels, groups = _labels(labels), np.asarray(groups)
    splits = []
    for fold, test in enumerate(group_folds(labels, groups, k, seed)):
        rest = np.setdiff1d(np.arange(labels.size), test)
        carve = feasible_folds(labels[rest], groups[rest], round(1 / val_fraction))
        inner = group_folds(labels[rest], groups[rest], carve, seed + 1 + fold)
        val = rest[inner[0]]
        splits.append(FoldSplit.of(fold, np.setdiff1d(rest, val), val, test))
    return splits


def holdout_split(
    labels: np.ndarray, seed: int, test_fraction: float = 0.2, val_fraction: float = 0.1
) -> FoldSplit:
    """One stratified split: ``test_fraction`` of the data for test, then ``val_fraction`` of
    the rest for validation."""
    labels = _labels(labels)
    rest, test = stratified_holdout(np.arange(labels.size), labels, test_fraction, seed)
    train, val = stratified_holdout(rest, labels, val_fraction, seed + 1)
    return FoldSplit.of(0, train, val, test)


def given_split(split: Mapping[str, np.ndarray]) -> FoldSplit:
    """The split that ships with a data set (``{"train", "val", "test"}`` → indices)."""
    missing = {"train", "val", "test"} - set(split)
    if missing:
        raise ValueError(f"the data's split lacks {sorted(missing)}")
    return FoldSplit.of(0, split["train"], split["val"], split["test"])
