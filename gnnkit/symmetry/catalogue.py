"""Every gnnkit component with a symmetry promise, built small for certification.

``gnnkit certify`` and the test-suite both walk this list, so a component added here is
certified in both places: layers, readouts and pooling, blueprint models, and the whole
molecule and cascade models on the graphs they read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn
from torch_geometric.data import Batch, Data

from gnnkit.models import DMPNN, MoleculeEGNN, build_model
from gnnkit.models.cascade import CASCADE_MODELS
from gnnkit.nn import (
    AttentionReadout,
    Blueprint,
    DeepSetsConv,
    DMPNNConv,
    EGNNConv,
    GATConv,
    GCNConv,
    GraphTransformerConv,
    MLPGINConv,
    Readout,
    SAGEConv,
    SumGCNConv,
    TopKCoarsening,
)
from gnnkit.nn.blueprint import declared_role
from gnnkit.symmetry.blueprint import ROLE_PROMISE, certify_blueprint
from gnnkit.symmetry.certificate import Certificate
from gnnkit.symmetry.euclidean import check_euclidean
from gnnkit.symmetry.graphs import as_cascade, as_molecule, as_molecule_pair, random_graph_batch
from gnnkit.symmetry.permutation import check_permutation
from gnnkit.symmetry.probes import (
    BatchCentringLayer,
    BatchSoftmaxReadout,
    CrossMoleculeDistanceLayer,
    FirstNodeReadout,
    LSTMAggregationLayer,
    NodeIndexLayer,
    RawCoordinateLayer,
)

IN_CHANNELS = 8
EDGE_DIM = 4
NUM_GRAPHS = 3


def random_batch(seed: int, transform: Callable[[Data], Data] | None = None) -> Batch:
    """Three random graphs (``x``, ``edge_index``, ``edge_attr``, ``pos``), each turned by
    ``transform`` (see :func:`~gnnkit.symmetry.graphs.random_graph_batch`)."""
    return random_graph_batch(
        NUM_GRAPHS, in_channels=IN_CHANNELS, edge_dim=EDGE_DIM, seed=seed, transform=transform
    )


#: Random molecule graphs (with ``rev_edge_index``), pairs of molecules per input (with
#: ``component``) and cascades (with ``root_index``).
molecules = partial(random_batch, transform=as_molecule)
molecule_pairs = partial(random_batch, transform=as_molecule_pair)
cascades = partial(random_batch, transform=as_cascade)


@dataclass(frozen=True, slots=True)
class Entry:
    """A named component, how to build it for inputs of ``IN_CHANNELS`` features (and
    ``EDGE_DIM`` edge features), and the random graphs it reads (built from a seed)."""

    name: str
    build: Callable[[], nn.Module]
    euclidean: bool = False
    data: Callable[[int], Batch] = random_batch


def promise_of(module: nn.Module) -> str:
    """What ``module`` promises under relabelling: its blueprint role's promise, or
    ``"invariant"`` for a whole model (one prediction per graph)."""
    role = declared_role(module)
    return ROLE_PROMISE[role] if role is not None else "invariant"


def _cascade_model(name: str) -> nn.Module:
    return build_model(name, {"in_channels": IN_CHANNELS, "out_channels": 3, "hidden_channels": 16})


def _dmpnn_pair(shared: bool) -> DMPNN:
    return DMPNN(
        IN_CHANNELS,
        EDGE_DIM,
        2,
        hidden_channels=16,
        ffn_hidden_channels=16,
        n_components=2,
        shared_encoder=shared,
    )


def _blueprint_gcn_topk_gin() -> Blueprint:
    return Blueprint(
        [
            GCNConv(IN_CHANNELS, 16),
            nn.ELU(),
            TopKCoarsening(16, ratio=0.5),
            MLPGINConv(16, 16),
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
    Entry("SumGCNConv", lambda: SumGCNConv(IN_CHANNELS, 16)),
    Entry("GCNConv", lambda: GCNConv(IN_CHANNELS, 16)),
    Entry("MLPGINConv", lambda: MLPGINConv(IN_CHANNELS, 16, train_eps=True)),
    Entry("GATConv", lambda: GATConv(IN_CHANNELS, 8, heads=2)),
    Entry("DeepSetsConv", lambda: DeepSetsConv(IN_CHANNELS, 16)),
    Entry("GraphTransformerConv", lambda: GraphTransformerConv(IN_CHANNELS, heads=2)),
    Entry("SAGEConv", lambda: SAGEConv(IN_CHANNELS, 16)),
    Entry("EGNNConv", lambda: EGNNConv(IN_CHANNELS, 16, edge_dim=EDGE_DIM), euclidean=True),
    Entry("DMPNNConv", lambda: DMPNNConv(IN_CHANNELS, EDGE_DIM, 16), data=molecules),
    Entry("Readout(sum)", lambda: Readout("sum")),
    Entry("Readout(mean)", lambda: Readout("mean")),
    Entry("Readout(max)", lambda: Readout("max")),
    Entry("AttentionReadout", lambda: AttentionReadout(IN_CHANNELS, 16)),
    Entry("TopKCoarsening", lambda: TopKCoarsening(IN_CHANNELS, ratio=0.5)),
    Entry("Blueprint GCN→σ→TopK→GIN→σ→mean", _blueprint_gcn_topk_gin),
    Entry("Blueprint EGNN→EGNN→sum", _blueprint_egnn, euclidean=True),
    Entry("Blueprint Transformer→GAT→σ→DeepSets→attention", _blueprint_set_transformer),
    Entry(
        "model: D-MPNN",
        lambda: DMPNN(IN_CHANNELS, EDGE_DIM, 2, hidden_channels=16, ffn_hidden_channels=16),
        data=molecules,
    ),
    *(
        Entry(
            f"model: D-MPNN, two molecules per input ({encoders})",
            partial(_dmpnn_pair, shared=encoders == "shared encoder"),
            data=molecule_pairs,
        )
        for encoders in ("one encoder each", "shared encoder")
    ),
    Entry(
        "model: EGNN (molecules)",
        lambda: MoleculeEGNN(
            IN_CHANNELS,
            EDGE_DIM,
            hidden_channels=16,
            depth=2,
            ffn_hidden_channels=16,
            num_gaussians=8,
        ),
        euclidean=True,
        data=molecules,
    ),
    *(
        Entry(f"model: cascade {name}", partial(_cascade_model, name), data=cascades)
        for name in CASCADE_MODELS
    ),
)

#: Components that break a symmetry on purpose: every one must be caught by a failing
#: certificate.
PROBES: tuple[Entry, ...] = (
    Entry("probe: node-index layer", lambda: NodeIndexLayer(IN_CHANNELS)),
    Entry("probe: LSTM aggregation", lambda: LSTMAggregationLayer(IN_CHANNELS)),
    Entry("probe: first-node readout", FirstNodeReadout),
    Entry("probe: raw-coordinate layer", lambda: RawCoordinateLayer(IN_CHANNELS), euclidean=True),
    Entry("probe: batch-centring layer", lambda: BatchCentringLayer(IN_CHANNELS)),
    Entry("probe: batch-softmax readout", lambda: BatchSoftmaxReadout(IN_CHANNELS)),
    Entry(
        "probe: cross-molecule distance layer",
        lambda: CrossMoleculeDistanceLayer(IN_CHANNELS),
        euclidean=True,
    ),
)


def certify_entry(
    entry: Entry, *, trials: int = 8, seed: int = 0, device: str | torch.device = "cpu"
) -> list[Certificate]:
    """Certificates of one catalogue entry on its random batch of three graphs, with the
    component and the graphs on ``device``. ``seed`` draws the graphs, the group elements and
    the component's weights (without touching torch's global random state)."""
    data = entry.data(seed).to(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = entry.build().to(device)
    if isinstance(module, Blueprint):
        return certify_blueprint(module, data, trials=trials, seed=seed, name=entry.name)
    certificates = [
        check_permutation(module, data, trials=trials, seed=seed, name=entry.name).expecting(
            promise_of(module)
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
