"""Symmetry certificates: every gnnkit component passes, every broken probe is caught, and
each check of the harness catches what it is for."""

from __future__ import annotations

import pytest
import torch
import torch_geometric.nn
from torch import Tensor, nn
from torch_geometric.data import Data

from gnnkit.models import DMPNN, build_model
from gnnkit.nn import EGNNConv, SumGCNConv
from gnnkit.nn.pool import PooledGraph
from gnnkit.ops import scatter
from gnnkit.symmetry import (
    Certificate,
    as_cascade,
    as_molecule,
    check_euclidean,
    check_permutation,
    random_graph_batch,
)
from gnnkit.symmetry.catalogue import CATALOGUE, PROBES, certify_entry
from gnnkit.symmetry.certificate import scaled_error
from gnnkit.symmetry.euclidean import random_orthogonal
from gnnkit.symmetry.probes import BatchCentringLayer, CrossMoleculeDistanceLayer

SEES_OTHERS = "alone differs from its rows in the batch: it depends on other graphs"
RELABELLED = "outputs change when nodes, edges and graphs are relabelled"
MOVED = "outputs do not follow a separate rigid motion of each graph"
requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.mark.parametrize("entry", CATALOGUE, ids=[e.name for e in CATALOGUE])
def test_every_component_is_certified(entry, scatter_backend):
    torch.manual_seed(0)
    certificates = certify_entry(entry, trials=4)
    assert certificates
    for certificate in certificates:
        assert certificate.passed, certificate
        bound = 1e-9 if certificate.symmetry == "E(3)" else 1e-5
        assert certificate.max_error <= bound and certificate.reason == ""


@pytest.mark.parametrize("entry", PROBES, ids=[e.name for e in PROBES])
def test_every_broken_probe_is_caught(entry):
    torch.manual_seed(0)
    certificates = certify_entry(entry, trials=4)
    failed = [c for c in certificates if not c.passed]
    assert failed, certificates
    assert all(c.max_error > 1e-3 for c in failed)  # caught by a wide margin, not by rounding
    assert all(c.reason for c in failed)


def test_the_catalogue_certifies_whole_models():
    names = {entry.name for entry in CATALOGUE}
    assert {"DMPNNConv", "model: D-MPNN", "model: EGNN (molecules)"} <= names
    assert {
        "model: D-MPNN, two molecules per input (one encoder each)",
        "model: D-MPNN, two molecules per input (shared encoder)",
    } <= names
    assert {"model: cascade gcnfn", "model: cascade bigcn", "model: cascade upfd"} <= names


DEVICE_ENTRIES = [
    e
    for e in CATALOGUE + PROBES
    if e.name.startswith(("EGNNConv", "DMPNNConv", "TopKCoarsening", "Blueprint GCN", "model:"))
    or e.name == "probe: cross-molecule distance layer"
]


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=requires_cuda)])
@pytest.mark.parametrize("entry", DEVICE_ENTRIES, ids=[e.name for e in DEVICE_ENTRIES])
def test_certificates_run_on_the_device_of_the_data(entry, device):
    """Relabellings, single graphs and rigid motions are built where the data lives; a broken
    component is still caught there."""
    torch.manual_seed(0)
    certificates = certify_entry(entry, trials=2, device=device)
    if entry in PROBES:
        assert not all(c.passed for c in certificates), certificates
    else:
        assert all(c.passed for c in certificates), certificates


def test_line_graph_worked_example():
    """Line graph 1–2–3–4, h'_i = Σ_{j ∈ N(i) ∪ {i}} h_j, nodes cyclically permuted."""
    layer = SumGCNConv(1, 1, bias=False)
    layer.lin.weight.data.fill_(1.0)
    h = torch.tensor([[1.0], [10.0], [100.0], [1000.0]])
    edges = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    out = layer(h, edges)
    assert out.flatten().tolist() == [11.0, 111.0, 1110.0, 1100.0]

    # P moves node k to position (k + 1) mod 4: the new node order is 4, 1, 2, 3.
    order = torch.tensor([3, 0, 1, 2])
    new_label = torch.empty_like(order)
    new_label[order] = torch.arange(4)
    permuted_out = layer(h[order], new_label[edges])
    assert permuted_out.flatten().tolist() == [1100.0, 11.0, 111.0, 1110.0]
    assert torch.equal(permuted_out, out[order])  # f(PX) = P f(X)

    # The readout Σ_i h'_i does not see the permutation at all.
    assert permuted_out.sum() == out.sum() == 2332.0

    certificate = check_permutation(layer, Data(x=h, edge_index=edges), trials=6)
    assert certificate.passed and certificate.kind == "equivariant"
    assert certificate.max_error == 0.0


class RootModel(nn.Module):
    """Takes the whole Data object and reads a node pointer (like a cascade's root)."""

    def forward(self, data: Data) -> Tensor:
        return data.x[data.root_index] + scatter(data.x, data.batch, dim=0, reduce="sum")


def test_node_pointers_are_renumbered_without_being_named():
    data = random_graph_batch(3, seed=1, transform=as_cascade)
    certificate = check_permutation(RootModel(), data)
    assert certificate.passed and certificate.kind == "invariant"


class ReverseEdgeModel(nn.Module):
    """Edge-level output that reads each edge's reverse (as a directed MPNN does)."""

    def forward(self, data: Data) -> Tensor:
        return data.edge_attr + 2 * data.edge_attr[data.rev_edge_index]


def test_edge_pointers_are_renumbered_with_the_edges():
    molecules = random_graph_batch(2, seed=2, transform=as_molecule)
    certificate = check_permutation(ReverseEdgeModel(), molecules)
    assert certificate.passed and certificate.kind == "equivariant"
    # A plain Data does not say that rev_edge_index points at edges: it is declared instead.
    plain = random_graph_batch(2, seed=2)
    plain.rev_edge_index = molecules.rev_edge_index
    certificate = check_permutation(ReverseEdgeModel(), plain, edge_pointer_keys=["rev_edge_index"])
    assert certificate.passed
    with pytest.raises(ValueError, match="points at nodes"):
        check_permutation(ReverseEdgeModel(), plain)


class GraphCentringLayer(nn.Module):
    """Centres features on the mean of each node's own graph: equivariant, graph by graph."""

    def forward(self, x: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
        mean = scatter(x, batch, dim=0, dim_size=num_graphs, reduce="mean")
        return x - mean[batch]


def test_a_layer_that_sees_other_graphs_of_its_batch_fails():
    data = random_graph_batch(3, seed=7)
    assert check_permutation(GraphCentringLayer(), data).passed
    certificate = check_permutation(BatchCentringLayer(8), data)
    assert not certificate.passed and certificate.kind == "equivariant"
    assert SEES_OTHERS in certificate.reason


class GraphIndexReadout(nn.Module):
    """Sum readout plus each graph's position in the batch: depends on the order of graphs."""

    def forward(self, x: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
        sums = scatter(x, batch, dim=0, dim_size=num_graphs, reduce="sum")
        return sums + torch.arange(num_graphs, dtype=x.dtype).unsqueeze(-1)


def test_a_readout_that_depends_on_the_order_of_graphs_fails():
    data = random_graph_batch(3, seed=8)
    certificate = check_permutation(GraphIndexReadout(), data, trials=4)
    assert not certificate.passed and certificate.kind == "invariant"
    assert certificate.reason in (RELABELLED, f"graph 1 {SEES_OTHERS} of the batch")


class SmallOutput(nn.Module):
    """``scale`` times a sum layer, plus ``scale`` times the storage index when ``broken``."""

    def __init__(self, scale: float, broken: bool) -> None:
        super().__init__()
        self.scale, self.broken = scale, broken

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        out = x + scatter(x[edge_index[0]], edge_index[1], dim=0, dim_size=x.size(0))
        if self.broken:
            out = out + torch.arange(x.size(0), dtype=x.dtype).unsqueeze(-1)
        return self.scale * out


def test_the_tolerance_is_relative_to_the_output_scale():
    expected = torch.full((4, 2), 1e-3)
    assert scaled_error(expected + 1e-6, expected) == pytest.approx(1e-3, rel=1e-4)
    assert scaled_error(torch.zeros(3), torch.zeros(3)) == 0.0
    assert scaled_error(torch.full((3,), 1e-30), torch.zeros(3)) > 1.0
    data = random_graph_batch(2, seed=9)
    assert check_permutation(SmallOutput(1e-7, broken=False), data).passed
    certificate = check_permutation(SmallOutput(1e-7, broken=True), data)
    assert not certificate.passed and certificate.max_error > 1e-2  # absolute error ~1e-6


def test_an_aggregator_that_needs_sorted_edges_gets_a_failed_certificate():
    data = random_graph_batch(3, seed=10)
    assert check_permutation(torch_geometric.nn.SAGEConv(8, 8, aggr="mean"), data).passed
    certificate = check_permutation(torch_geometric.nn.SAGEConv(8, 8, aggr="lstm"), data)
    assert not certificate.passed and certificate.max_error == float("inf")
    assert certificate.reason == (
        "raises ValueError on relabelling 0: Can not perform aggregation since the 'index' "
        "tensor is not sorted"
    )


class MoleculeDistanceLayer(nn.Module):
    """:class:`CrossMoleculeDistanceLayer` with the sum kept inside each molecule."""

    def __init__(self) -> None:
        super().__init__()
        self.leaky = CrossMoleculeDistanceLayer(8)

    def forward(self, x: Tensor, pos: Tensor, batch: Tensor) -> Tensor:
        weights = 1.0 / (1.0 + torch.cdist(pos, pos).square())
        same = (batch.unsqueeze(0) == batch.unsqueeze(1)).to(x.dtype)
        return self.leaky.lin(x) + (weights * same - torch.eye(x.size(0), dtype=x.dtype)) @ x


def test_each_molecule_gets_its_own_rigid_motion():
    data = random_graph_batch(3, seed=11)
    assert check_euclidean(MoleculeDistanceLayer(), data).passed
    certificate = check_euclidean(CrossMoleculeDistanceLayer(8), data)
    assert not certificate.passed and certificate.reason == MOVED


class Centroids(nn.Module):
    """Each graph's centroid ``[num_graphs, 3]``: a graph-level position."""

    def __init__(self, per_graph: bool) -> None:
        super().__init__()
        self.per_graph = per_graph

    def forward(self, pos: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
        if self.per_graph:
            return scatter(pos, batch, dim=0, dim_size=num_graphs, reduce="mean")
        return pos.mean(dim=0).expand(num_graphs, -1)


def test_graph_level_positions_move_with_their_graph():
    data = random_graph_batch(3, seed=12)
    assert check_euclidean(Centroids(per_graph=True), data, outputs=["position"]).passed
    certificate = check_euclidean(Centroids(per_graph=False), data, outputs=["position"])
    assert not certificate.passed and certificate.reason == MOVED


class LeakyDMPNN(DMPNN):
    """A D-MPNN that adds the batch's mean prediction to every molecule's."""

    def forward(self, data) -> Tensor:
        out = super().forward(data)
        return out + out.mean(dim=0)


def test_a_whole_model_that_mixes_molecules_fails():
    torch.manual_seed(0)
    data = random_graph_batch(3, seed=13, transform=as_molecule)
    hparams = {"atom_dim": 8, "bond_dim": 4, "hidden_channels": 16, "ffn_hidden_channels": 16}
    assert check_permutation(DMPNN(**hparams), data).passed
    certificate = check_permutation(LeakyDMPNN(**hparams), data)
    assert not certificate.passed and SEES_OTHERS in certificate.reason


class FirstNodeRoot(nn.Module):
    """A cascade model fed each graph's first stored node as its root instead of its pointer."""

    def __init__(self) -> None:
        super().__init__()
        self.model = build_model("bigcn", {"in_channels": 8, "out_channels": 3})

    def forward(self, data) -> Tensor:
        first = data.clone()
        first.root_index = data.ptr[:-1]
        return self.model(first)


def test_a_cascade_model_that_ignores_its_root_pointer_fails():
    torch.manual_seed(0)
    data = random_graph_batch(3, seed=14, transform=as_cascade)
    assert check_permutation(FirstNodeRoot().model, data).passed
    certificate = check_permutation(FirstNodeRoot(), data)
    assert not certificate.passed and certificate.reason == RELABELLED


def test_outputs_that_cannot_be_classified_are_an_error():
    data = random_graph_batch(2, seed=3)

    class Odd(nn.Module):
        def forward(self, x: Tensor) -> Tensor:
            return x.new_zeros(data.num_nodes + data.num_edges + 7)

    with pytest.raises(ValueError, match="cannot be classified"):
        check_permutation(Odd(), data)


class KeepFirstNodes(nn.Module):
    """A 'pooling' that keeps the first half of the stored nodes: not equivariant."""

    blueprint_role = "coarsening"

    def forward(self, x: Tensor, edge_index: Tensor) -> PooledGraph:
        keep = torch.arange(x.size(0) // 2)
        return PooledGraph(
            x[keep], edge_index[:, :0], None, keep.new_zeros(keep.numel()), None, keep, x[keep, 0]
        )


def test_pooling_that_depends_on_storage_order_is_caught():
    data = random_graph_batch(1, seed=4)
    certificate = check_permutation(KeepFirstNodes(), data)
    assert not certificate.passed and certificate.max_error == float("inf")
    assert certificate.reason == RELABELLED


def test_euclidean_certificate_of_egnn_coordinates():
    torch.manual_seed(0)
    data = random_graph_batch(3, seed=5)
    layer = EGNNConv(8, 8)
    nn.init.normal_(layer.coord_mlp[-1].weight)  # a strong coordinate update
    certificate = check_euclidean(layer, data, trials=8)
    assert certificate.symmetry == "E(3)" and certificate.kind == "equivariant"
    assert certificate.max_error <= 1e-9 and certificate.passed
    # Declaring the positions invariant is wrong, and the check says so.
    assert not check_euclidean(layer, data, outputs=["invariant", "invariant"]).passed
    # The caller's module keeps its dtype.
    assert layer.edge_mlp[0].weight.dtype == torch.float32


def test_random_orthogonal_draws_rotations_and_reflections():
    generator = torch.Generator().manual_seed(0)
    rotation = random_orthogonal(3, generator, reflect=False)
    reflection = random_orthogonal(3, generator, reflect=True)
    for q, det in ((rotation, 1.0), (reflection, -1.0)):
        torch.testing.assert_close(q @ q.T, torch.eye(3, dtype=torch.float64))
        assert torch.det(q).item() == pytest.approx(det)


def test_vector_outputs_rotate_without_translating():
    class Displacement(nn.Module):
        def forward(self, pos: Tensor) -> Tensor:
            return pos - pos.mean(dim=0, keepdim=True)

    data = random_graph_batch(1, seed=6)
    assert check_euclidean(Displacement(), data, outputs=["vector"]).passed
    assert not check_euclidean(Displacement(), data, outputs=["position"]).passed
    with pytest.raises(ValueError, match="outputs must name one of"):
        check_euclidean(Displacement(), data, outputs=["spinor"])


def test_certificate_repr_promise_and_reason():
    certificate = Certificate("GCNConv", "permutation", "equivariant", 3e-8, 1e-5, 8)
    assert certificate.passed and certificate.reason == ""
    assert repr(certificate) == (
        "Certificate(GCNConv: permutation-equivariant, max error 3.00e-08 vs rtol 1e-05, "
        "8 trials: PASSED)"
    )
    broken = certificate.expecting("invariant")
    assert not broken.passed and broken.reason == "equivariant, promised invariant"
    assert "(promised invariant)" in repr(broken)
    assert repr(broken).endswith("FAILED: equivariant, promised invariant)")
    nan = Certificate("x", "permutation", "invariant", float("nan"), 1e-5, 1, detail="why")
    assert not nan.passed and nan.reason == "why"
    assert Certificate("x", "permutation", "invariant", 1.0, 1e-5, 1).reason == (
        "error above rtol 1e-05"
    )
