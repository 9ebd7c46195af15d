"""Numeric symmetry certificates: permutation (graphs) and E(n) (3-D coordinates)."""

from gnnkit.symmetry.certificate import Certificate
from gnnkit.symmetry.euclidean import check_euclidean
from gnnkit.symmetry.graphs import random_graph, random_graph_batch
from gnnkit.symmetry.permutation import check_permutation, permute_graph

__all__ = [
    "Certificate",
    "check_euclidean",
    "check_permutation",
    "permute_graph",
    "random_graph",
    "random_graph_batch",
]
