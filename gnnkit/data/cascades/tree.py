"""Turn the edge list of a real cascade file into a tree, repairing its quirks by rule.

The rules (and the names they are counted under, see :data:`~gnnkit.data.cascades.report.
QUIRKS`) are applied in file order:

1. an edge from a node to itself is dropped (``self_loops``);
2. an edge seen before is dropped (``duplicate_edges``);
3. a node's parent is the parent on the first line that names it as a child; later edges into
   it, and edges into the root, are dropped (``extra_parents``);
4. a node that is never named as a child is attached to the root (``orphan_parents``);
5. first-line parents that close a cycle away from the root: the node where the walk up the
   parents meets itself is attached to the root (``cycles_broken``).

Delays are then measured from the root (``root_delay_shifted``) and made non-decreasing from
every parent to its children: a re-post timed before its parent gets its parent's delay,
counted as ``negative_delays`` when it was before the source and ``delays_before_parent``
otherwise.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from gnnkit.data.cascades.cascade import depths, levels


def build_tree(
    root: Hashable, edges: Sequence[tuple[Hashable, Hashable]]
) -> tuple[list[Hashable], np.ndarray, dict[str, int]]:
    """Parent pointers of the tree that ``edges`` (``(parent, child)`` in file order) describe.

    Returns:
        ``(nodes, parent, counts)``: the node keys (``root`` first, then in order of first
        appearance), parent indices ``[N]`` int64 with ``-1`` at the root, and the quirk counts.
    """
    index: dict[Hashable, int] = {root: 0}
    parent: list[int] = [-1]
    seen: set[tuple[Hashable, Hashable]] = set()
    counts = dict.fromkeys(
        ("self_loops", "duplicate_edges", "extra_parents", "orphan_parents", "cycles_broken"), 0
    )
    for source, target in edges:
        for key in (source, target):
            if key not in index:
                index[key] = len(parent)
                parent.append(-2)  # -2: no parent yet
        if source == target:
            counts["self_loops"] += 1
        elif (source, target) in seen:
            counts["duplicate_edges"] += 1
        elif parent[index[target]] != -2:
            counts["extra_parents"] += 1  # includes edges into the root (parent -1)
        else:
            parent[index[target]] = index[source]
        seen.add((source, target))
    pointers = np.asarray(parent, dtype=np.int64)
    orphans = pointers == -2
    counts["orphan_parents"] = int(orphans.sum())
    pointers[orphans] = 0
    counts["cycles_broken"] = _break_cycles(pointers)
    return list(index), pointers, counts


def _break_cycles(parent: np.ndarray) -> int:
    """Attach to the root (index 0) one node of every cycle of ``parent``, in place; returns how
    many cycles were broken."""
    broken = 0
    unrooted = np.flatnonzero(levels(parent) < 0)
    while unrooted.size:
        walk: set[int] = set()
        node = int(unrooted[0])
        while node not in walk:  # every unrooted walk ends in a cycle
            walk.add(node)
            node = int(parent[node])
        parent[node] = 0
        broken += 1
        unrooted = np.flatnonzero(levels(parent) < 0)
    return broken


def repair_delays(parent: np.ndarray, delay: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
    """Delays ``[N]`` (minutes) measured from the root (index 0) and non-decreasing from parent
    to child, with the counts ``root_delay_shifted``, ``negative_delays`` and
    ``delays_before_parent`` (see the module docstring)."""
    delay = np.asarray(delay, dtype=np.float64)
    shifted = delay - delay[0]
    depth = depths(parent)
    repaired = shifted.copy()
    negative = before = 0
    for level in range(1, int(depth.max()) + 1):
        nodes = np.flatnonzero(depth == level)
        floor = repaired[parent[nodes]]
        raw = shifted[nodes]
        negative += int((raw < 0).sum())
        before += int(((raw >= 0) & (raw < floor)).sum())
        repaired[nodes] = np.maximum(raw, floor)
    counts = {
        "root_delay_shifted": int(delay[0] != 0),
        "negative_delays": negative,
        "delays_before_parent": before,
    }
    return repaired, counts
