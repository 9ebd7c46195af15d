"""Every gnnkit component with a symmetry promise, built small for certification.

``gnnkit certify`` and the test-suite both walk this list, so a component added here is
certified in both places.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from gnnkit.nn import (
    AttentionReadout,
    Blueprint,
    DeepSetsConv,
    EGNNConv,
    GATConv,
    GCNConv,
    GINConv,
    GraphTransformerConv,
    Readout,
    SAGEConv,
    TopKPooling,
)
from gnnkit.symmetry.certificate import Certificate
from gnnkit.symmetry.euclidean import check_euclidean
from gnnkit.symmetry.graphs import random_graph_batch
from gnnkit.symmetry.permutation import check_permutation
from gnnkit.symmetry.probes import (
    FirstNodeReadout,
    LSTMAggregationLayer,
    NodeIndexLayer,
    RawCoordinateLayer,
)

IN_CHANNELS = 8
EDGE_DIM = 4

PROMISES = {"equivariant": "equivariant", "coarsening": "equivariant", "readout": "invariant"}


@dataclass(frozen=True, slots=True)
class Entry:
    """A named component and how to build it for inputs of ``IN_CHANNELS`` features."""

    name: str
    build: Callable[[], nn.Module]
    euclidean: bool = False


def _blueprint_gcn_topk_gin() -> Blueprint:
    return Blueprint(
        [
            GCNConv(IN_CHANNELS, 16),
            nn.ELU(),
            TopKPooling(16, ratio=0.5),
            GINConv(16, 16),
            nn.ReLU(),
            Readout("mean"),
        ],
        head=nn.Linear(16, 2),
    )


def _blueprint_egnn() -> Blueprint:
    return Blueprint(
        [
            nn.Linear(IN_CHANNELS, 16),
            EGNNConv(16, 16, edge_dim=EDGE_DIM),
            EGNNConv(16, 16, edge_dim=EDGE_DIM),
            Readout("sum"),
        ],
        head=nn.Sequential(nn.Linear(16, 16), nn.SiLU(), nn.Linear(16, 1)),
    )


def _blueprint_set_transformer() -> Blueprint:
    return Blueprint(
        [
            GraphTransformerConv(IN_CHANNELS, heads=2),
            GATConv(IN_CHANNELS, 8, heads=2),
            nn.ELU(),
            DeepSetsConv(16, 16),
            AttentionReadout(16, 4),
        ]
    )


CATALOGUE: tuple[Entry, ...] = (
    Entry("GCNConv (sum aggregator)", lambda: GCNConv(IN_CHANNELS, 16, normalize=False)),
    Entry("GCNConv (normalised)", lambda: GCNConv(IN_CHANNELS, 16)),
    Entry("GINConv", lambda: GINConv(IN_CHANNELS, 16, train_eps=True)),
    Entry("GATConv", lambda: GATConv(IN_CHANNELS, 8, heads=2)),
    Entry("DeepSetsConv", lambda: DeepSetsConv(IN_CHANNELS, 16)),
    Entry("GraphTransformerConv", lambda: GraphTransformerConv(IN_CHANNELS, heads=2)),
    Entry("SAGEConv", lambda: SAGEConv(IN_CHANNELS, 16)),
    Entry("EGNNConv", lambda: EGNNConv(IN_CHANNELS, 16, edge_dim=EDGE_DIM), euclidean=True),
    Entry("Readout(sum)", lambda: Readout("sum")),
    Entry("Readout(mean)", lambda: Readout("mean")),
    Entry("Readout(max)", lambda: Readout("max")),
    Entry("AttentionReadout", lambda: AttentionReadout(IN_CHANNELS, 16)),
    Entry("TopKPooling", lambda: TopKPooling(IN_CHANNELS, ratio=0.5)),
    Entry("Blueprint GCN→σ→TopK→GIN→σ→mean", _blueprint_gcn_topk_gin),
    Entry("Blueprint EGNN→EGNN→sum", _blueprint_egnn, euclidean=True),
    Entry("Blueprint Transformer→GAT→σ→DeepSets→attention", _blueprint_set_transformer),
)

#: Components that break a symmetry on purpose: every one must be caught by a failing
#: certificate.
PROBES: tuple[Entry, ...] = (
    Entry("probe: node-index layer", lambda: NodeIndexLayer(IN_CHANNELS)),
    Entry("probe: LSTM aggregation", lambda: LSTMAggregationLayer(IN_CHANNELS)),
    Entry("probe: first-node readout", FirstNodeReadout),
    Entry("probe: raw-coordinate layer", lambda: RawCoordinateLayer(IN_CHANNELS), euclidean=True),
)


def certify_entry(entry: Entry, *, trials: int = 8, seed: int = 0) -> list[Certificate]:
    """Certificates of one catalogue entry on a random batch of three graphs."""
    data = random_graph_batch(3, in_channels=IN_CHANNELS, edge_dim=EDGE_DIM, seed=seed)
    module = entry.build()
    if isinstance(module, Blueprint):
        return module.certify(data, trials=trials, seed=seed, name=entry.name)
    promise = PROMISES[module.blueprint_role]
    certificates = [
        check_permutation(module, data, trials=trials, seed=seed, name=entry.name).expecting(
            promise
        )
    ]
    if entry.euclidean:
        certificates.append(
            check_euclidean(module, data, trials=trials, seed=seed, name=entry.name)
        )
    return certificates


def certify_all(
    entries: tuple[Entry, ...] = CATALOGUE, *, trials: int = 8, seed: int = 0
) -> list[Certificate]:
    """Certificates of every entry (by default the whole catalogue)."""
    return [c for entry in entries for c in certify_entry(entry, trials=trials, seed=seed)]
