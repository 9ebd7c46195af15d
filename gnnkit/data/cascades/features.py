r"""Node features from a cascade's structure and timing alone (no text, no user data).

For node :math:`i` with parent :math:`p(i)`, delay :math:`\tau_i` minutes after the source,
depth :math:`d_i`, :math:`c_i` children and a subtree of :math:`s_i` nodes (itself included),
all counted inside the observed cascade:

==================  =====================================================================
name                value
==================  =====================================================================
``log_delay``       :math:`\log(1 + \tau_i)`                                    (timed only)
``log_gap``         :math:`\log(1 + \tau_i - \tau_{p(i)})`, 0 at the root       (timed only)
``log_order``       :math:`\log(1 + |\{j : \tau_j < \tau_i\}|)`: how many posts came
                    before it                                                 (timed only)
``log_depth``       :math:`\log(1 + d_i)`
``log_children``    :math:`\log(1 + c_i)`
``log_subtree``     :math:`\log s_i`
``is_root``         :math:`[i = \text{root}]`
==================  =====================================================================

Every value depends only on the node's place in the tree and its time (``log_order`` counts
strictly earlier posts, so ties share a value), so relabelling the nodes permutes the rows
(the features are permutation-equivariant).
"""

from __future__ import annotations

import numpy as np

from gnnkit.data.cascades.cascade import Cascade, depths

TIMING_FEATURES: tuple[str, ...] = ("log_delay", "log_gap", "log_order")
STRUCTURE_FEATURES: tuple[str, ...] = ("log_depth", "log_children", "log_subtree", "is_root")


def feature_names(timed: bool) -> tuple[str, ...]:
    """The names of :func:`node_features`' columns for a timed or untimed cascade."""
    return (*TIMING_FEATURES, *STRUCTURE_FEATURES) if timed else STRUCTURE_FEATURES


def subtree_sizes(parent: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Nodes in each node's subtree, itself included, ``[N]``, from parent pointers and the
    nodes' depths (:func:`~gnnkit.data.cascades.cascade.depths`)."""
    size = np.ones(parent.size, dtype=np.int64)
    for level in range(int(depth.max()), 0, -1):
        nodes = np.flatnonzero(depth == level)
        np.add.at(size, parent[nodes], size[nodes])
    return size


def node_features(cascade: Cascade) -> np.ndarray:
    """The features of the table above, ``[N, F]`` float32, columns :func:`feature_names`."""
    parent = cascade.parent
    n = cascade.num_nodes
    depth = depths(parent)
    children = np.bincount(parent[1:], minlength=n)
    is_root = np.zeros(n)
    is_root[0] = 1.0
    columns = [
        np.log1p(depth),
        np.log1p(children),
        np.log(subtree_sizes(parent, depth)),
        is_root,
    ]
    if cascade.delay is not None:
        gap = cascade.delay - cascade.delay[np.maximum(parent, 0)]
        earlier = np.searchsorted(cascade.delay, cascade.delay, side="left")
        columns = [np.log1p(cascade.delay), np.log1p(gap), np.log1p(earlier), *columns]
    return np.stack(columns, axis=1).astype(np.float32)
