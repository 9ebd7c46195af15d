"""Numeric symmetry certificates: permutation (graphs, graph by graph) and E(n) (3-D
coordinates, molecule by molecule)."""

from gnnkit.symmetry.blueprint import certify_blueprint
from gnnkit.symmetry.certificate import Certificate
from gnnkit.symmetry.euclidean import check_euclidean
from gnnkit.symmetry.graphs import as_cascade, as_molecule, random_graph, random_graph_batch
from gnnkit.symmetry.permutation import check_permutation

__all__ = [
    "Certificate",
    "as_cascade",
    "as_molecule",
    "certify_blueprint",
    "check_euclidean",
    "check_permutation",
    "random_graph",
    "random_graph_batch",
]
