"""Symmetry certificates: every gnnkit component passes, every broken probe is caught."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from gnnkit.nn import EGNNConv, GCNConv
from gnnkit.nn.pool import PooledGraph
from gnnkit.symmetry import Certificate, check_euclidean, check_permutation, random_graph_batch
from gnnkit.symmetry.catalogue import CATALOGUE, PROBES, certify_entry
from gnnkit.symmetry.euclidean import random_orthogonal


@pytest.mark.parametrize("entry", CATALOGUE, ids=[e.name for e in CATALOGUE])
def test_every_component_is_certified(entry, scatter_backend):
    torch.manual_seed(0)
    certificates = certify_entry(entry, trials=4)
    assert certificates
    for certificate in certificates:
        assert certificate.passed, certificate
        bound = 1e-9 if certificate.symmetry == "E(3)" else 1e-5
        assert certificate.max_error <= bound


@pytest.mark.parametrize("entry", PROBES, ids=[e.name for e in PROBES])
def test_every_broken_probe_is_caught(entry):
    torch.manual_seed(0)
    certificates = certify_entry(entry, trials=4)
    failed = [c for c in certificates if not c.passed]
    assert failed, certificates
    assert all(c.max_error > 1e-3 for c in failed)  # caught by a wide margin, not by rounding


def test_line_graph_worked_example():
    """Line graph 1–2–3–4, h'_i = Σ_{j ∈ N(i) ∪ {i}} h_j, nodes cyclically permuted."""
    layer = GCNConv(1, 1, normalize=False, bias=False)
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


class GraphObjectModel(nn.Module):
    """Takes the whole Data object and reads a node pointer (like a cascade's root)."""

    def forward(self, data: Data) -> Tensor:
        return data.x[data.root_index] + data.x.sum(dim=0)


def test_modules_taking_a_data_object_and_node_pointer_keys():
    data = random_graph_batch(1, seed=1)
    data.root_index = torch.tensor([2])
    model = GraphObjectModel()
    certificate = check_permutation(model, data, node_pointer_keys=["root_index"])
    assert certificate.passed and certificate.kind == "invariant"
    # Without saying that root_index points at a node, the root moves and the check fails.
    assert not check_permutation(model, data).passed


def test_edge_level_outputs_and_edge_pointer_keys():
    data = random_graph_batch(2, seed=2)
    num_undirected = data.num_edges // 2
    source, target = data.edge_index
    lookup = {(s, t): e for e, (s, t) in enumerate(zip(source.tolist(), target.tolist()))}
    data.rev_edge_index = torch.tensor([lookup[(t, s)] for s, t in lookup])
    assert data.rev_edge_index.numel() == 2 * num_undirected

    class Model(nn.Module):
        """Edge-level output that reads each edge's reverse (as a directed MPNN does)."""

        def forward(self, data: Data) -> Tensor:
            return data.edge_attr + 2 * data.edge_attr[data.rev_edge_index]

    certificate = check_permutation(Model(), data, edge_pointer_keys=["rev_edge_index"])
    assert certificate.passed and certificate.kind == "equivariant"
    assert not check_permutation(Model(), data).passed


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


def test_certificate_repr_and_promise():
    certificate = Certificate("GCNConv", "permutation", "equivariant", 3e-8, 1e-5, 8)
    assert certificate.passed
    assert repr(certificate) == (
        "Certificate(GCNConv: permutation-equivariant, max error 3.00e-08 vs atol 1e-05, "
        "8 trials: PASSED)"
    )
    broken = certificate.expecting("invariant")
    assert not broken.passed
    assert "(promised invariant)" in repr(broken) and repr(broken).endswith("FAILED)")
    assert not Certificate("x", "permutation", "invariant", float("nan"), 1e-5, 1).passed
