r"""A propagation cascade: the source post at the root and its re-posts as a tree.

A cascade of :math:`N` nodes is stored as parent pointers in *canonical order*: the root is
node 0, every other node comes after its parent (:math:`\mathrm{parent}_i < i`) and, when the
cascade is timed, nodes are sorted by their delay after the source (ties by depth, then by the
order they were read). Delays never decrease from a parent to its child, so the nodes seen by
a time :math:`t` are a prefix of the node list and form a rooted subtree:
:func:`observe` keeps exactly those.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


class CascadeError(ValueError):
    """A cascade that is not a valid rooted, time-ordered tree."""


def levels(parent: np.ndarray) -> np.ndarray:
    """Depth of every node ``[N]`` int64 from parent pointers in any node order (the root has
    ``parent == -1`` and depth 0); ``-1`` for a node whose parents never reach a root (a
    cycle)."""
    depth = np.full(parent.size, -1, dtype=np.int64)
    depth[parent < 0] = 0
    frontier = depth == 0
    level = 0
    while frontier.any():
        level += 1
        frontier = (depth < 0) & frontier[np.maximum(parent, 0)] & (parent >= 0)
        depth[frontier] = level
    return depth


def depths(parent: np.ndarray) -> np.ndarray:
    """:func:`levels`, raising :class:`CascadeError` when some node has no root."""
    depth = levels(parent)
    if (depth < 0).any():
        raise CascadeError("the parent pointers contain a cycle or a node without a root")
    return depth


@dataclass(slots=True)
class Cascade:
    """One cascade in canonical order (see the module docstring).

    Attributes:
        source_id: identifier of the source post (e.g. the tweet id of the root).
        parent: ``[N]`` int64, ``parent[0] == -1`` and ``parent[i] < i`` for ``i > 0``.
        delay: ``[N]`` float64 minutes after the source (``delay[0] == 0``, non-decreasing
            along node order and from every parent to its children), or ``None`` when the data
            carries no timing (UPFD).
        label: the class name, or ``None`` when unknown.
        features: ``[N, F]`` float32 node features supplied by a loader, or ``None``.
        users: ``[N]`` object array of user ids (the author of every post, the source's at
            index 0), or ``None`` when the data names no users (UPFD).
        text: the source post's text, or ``None`` when the data has none.
    """

    source_id: str
    parent: np.ndarray
    delay: np.ndarray | None = None
    label: str | None = None
    features: np.ndarray | None = None
    users: np.ndarray | None = None
    text: str | None = None

    def __post_init__(self) -> None:
        self.parent = np.asarray(self.parent, dtype=np.int64)
        n = self.parent.size
        where = f"cascade {self.source_id}"
        if self.parent.ndim != 1 or n == 0 or self.parent[0] != -1:
            raise CascadeError(f"{where}: parent must be a non-empty vector with parent[0] == -1")
        if n > 1 and not ((self.parent[1:] >= 0) & (self.parent[1:] < np.arange(1, n))).all():
            raise CascadeError(f"{where}: every node must come after its parent (parent[i] < i)")
        if self.delay is not None:
            self.delay = np.asarray(self.delay, dtype=np.float64)
            if self.delay.shape != (n,) or not np.isfinite(self.delay).all():
                raise CascadeError(f"{where}: delay must hold {n} finite values")
            if self.delay[0] != 0 or (np.diff(self.delay) < 0).any():
                raise CascadeError(
                    f"{where}: delays must start at 0 and be sorted (canonical order)"
                )
            if (self.delay[1:] < self.delay[self.parent[1:]]).any():
                raise CascadeError(f"{where}: a node is timed before its parent")
        if self.features is not None:
            self.features = np.asarray(self.features, dtype=np.float32)
            if self.features.ndim != 2 or self.features.shape[0] != n:
                raise CascadeError(f"{where}: features must have shape [{n}, F]")
        if self.users is not None:
            self.users = np.asarray(self.users, dtype=object)
            if self.users.shape != (n,):
                raise CascadeError(f"{where}: users must hold {n} user ids")

    @classmethod
    def from_tree(
        cls,
        source_id: str,
        parent: np.ndarray,
        delay: np.ndarray | None = None,
        label: str | None = None,
        features: np.ndarray | None = None,
        users: np.ndarray | None = None,
        text: str | None = None,
    ) -> Cascade:
        """Build a cascade from parent pointers in any node order (one node with parent
        ``-1``; delays, if given, already non-decreasing from parent to child). Nodes are put
        in canonical order: by delay, then depth, then their given order; ``features`` and
        ``users`` rows follow their nodes."""
        parent = np.asarray(parent, dtype=np.int64)
        roots = np.flatnonzero(parent < 0)
        if roots.size != 1:
            raise CascadeError(f"cascade {source_id}: expected one root, found {roots.size}")
        depth = depths(parent)
        if delay is not None:
            delay = np.asarray(delay, dtype=np.float64) - float(delay[roots[0]])
            order = np.lexsort((np.arange(parent.size), depth, delay))
        else:
            order = np.lexsort((np.arange(parent.size), depth))
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        old_parent = parent[order]
        new_parent = np.where(old_parent < 0, -1, rank[np.maximum(old_parent, 0)])
        return cls(
            source_id,
            new_parent,
            delay[order] if delay is not None else None,
            label,
            features[order] if features is not None else None,
            np.asarray(users, dtype=object)[order] if users is not None else None,
            text,
        )

    @property
    def num_nodes(self) -> int:
        return int(self.parent.size)

    @property
    def timed(self) -> bool:
        return self.delay is not None


def observe(cascade: Cascade, hours: float | None) -> Cascade:
    """The part of ``cascade`` that had happened ``hours`` after the source post.

    Keeps the root and every re-post with delay :math:`\\le 60 \\cdot` ``hours`` minutes (a
    prefix in canonical order, hence a rooted subtree). ``None`` keeps everything.
    """
    if hours is None:
        return cascade
    if hours < 0:
        raise ValueError(f"observation window must be >= 0 hours, got {hours}")
    if cascade.delay is None:
        raise CascadeError(
            f"cascade {cascade.source_id} has no re-post delays (e.g. UPFD data), so it cannot "
            "be observed up to a time; drop --observe-hours for this data"
        )
    keep = int(np.searchsorted(cascade.delay, 60.0 * hours, side="right"))
    if keep == cascade.num_nodes:
        return cascade
    return replace(
        cascade,
        parent=cascade.parent[:keep],
        delay=cascade.delay[:keep],
        features=cascade.features[:keep] if cascade.features is not None else None,
        users=cascade.users[:keep] if cascade.users is not None else None,
    )
