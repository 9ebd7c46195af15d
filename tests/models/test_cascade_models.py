"""GCNFN, BiGCN and UPFD-style classifiers: shapes, registry, and permutation certificates that
renumber the root pointer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import Tensor, nn
from torch_geometric.data import Batch

from gnnkit.data.cascades import generate
from gnnkit.data.cascades.featurizer import CascadeFeaturizer
from gnnkit.models import available_models, build_model, model_spec
from gnnkit.models.cascade import CASCADE_MODELS, BiGCN
from gnnkit.models.cascade.common import graph_index, root_index_of
from gnnkit.nn.graph_call import num_graphs_of
from gnnkit.symmetry import check_permutation

VARIANTS = [
    ("gcnfn", {}),
    ("gcnfn", {"heads": 2, "undirected": False}),
    ("bigcn", {}),
    ("upfd", {"encoder": "gcn"}),
    ("upfd", {"encoder": "gat", "readout": "mean"}),
    ("upfd", {"encoder": "sage", "num_layers": 1}),
]


@pytest.fixture(scope="module")
def batch() -> Batch:
    """Five small timed cascades (node counts differ from edge and graph counts)."""
    graphs = generate(5, seed=2, size_scale=0.04).to_graphs()
    return Batch.from_data_list(graphs)


def build(name: str, hparams: dict, in_channels: int) -> nn.Module:
    torch.manual_seed(0)
    return build_model(
        name, {"in_channels": in_channels, "out_channels": 4, "hidden_channels": 16, **hparams}
    )


def test_cascade_models_are_registered() -> None:
    assert set(CASCADE_MODELS) <= set(available_models())
    model = build("bigcn", {}, 7)
    assert isinstance(model, BiGCN) and model_spec(model).hparams["out_channels"] == 4


@pytest.mark.parametrize(("name", "hparams"), VARIANTS)
def test_each_model_maps_a_batch_to_class_logits(batch: Batch, name: str, hparams: dict) -> None:
    model = build(name, hparams, batch.x.size(1))
    assert model(batch).shape == (batch.num_graphs, 4)
    single = batch.get_example(1)
    single.batch = None
    model.eval()
    torch.testing.assert_close(model(single), model(batch)[1:2], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("name", "hparams"), VARIANTS)
def test_each_model_has_a_passing_invariance_certificate(
    batch: Batch, name: str, hparams: dict
) -> None:
    model = build(name, hparams, batch.x.size(1))
    certificate = check_permutation(model, batch, node_pointer_keys=["root_index"])
    assert certificate.passed, certificate
    assert certificate.kind == "invariant" and certificate.max_error < 1e-5


@pytest.mark.parametrize("name", ["bigcn", "upfd"])
def test_the_certificate_sees_the_root_pointer(batch: Batch, name: str) -> None:
    """Left un-renumbered, the root pointer points at another node after the permutation, and
    the models that read the root's features change their output: the certificate fails."""
    model = build(name, {}, batch.x.size(1))
    certificate = check_permutation(model, batch)
    assert not certificate.passed and certificate.max_error > 1e-3


class FirstNodeRoot(nn.Module):
    """A broken model that takes each graph's first node as its root instead of the pointer."""

    def forward(self, data) -> Tensor:
        batch = graph_index(data)
        first = torch.zeros(num_graphs_of(data), dtype=torch.long).scatter_reduce(
            0, batch, torch.arange(batch.numel()), reduce="amin", include_self=False
        )
        return data.x[first]


def test_a_model_that_ignores_the_root_pointer_fails_its_certificate(batch: Batch) -> None:
    certificate = check_permutation(FirstNodeRoot(), batch, node_pointer_keys=["root_index"])
    assert not certificate.passed


def test_models_need_the_root_pointer(batch: Batch) -> None:
    data = batch.clone()
    del data.root_index
    with pytest.raises(ValueError, match=r"need data\.root_index"):
        root_index_of(data)
    with pytest.raises(ValueError, match="unknown encoder 'gin'"):
        build("upfd", {"encoder": "gin"}, 7)
    with pytest.raises(ValueError, match="divisible by heads"):
        build("gcnfn", {"heads": 3}, 7)


def test_bigcn_drops_edges_only_while_training(batch: Batch) -> None:
    model = build("bigcn", {"edge_dropout": 0.5}, batch.x.size(1))
    model.eval()
    torch.testing.assert_close(model(batch), model(batch))
    model.train()
    torch.manual_seed(1)
    first = model(batch)
    torch.manual_seed(2)
    assert not torch.allclose(first, model(batch))


@pytest.fixture(scope="module")
def text_batch() -> Batch:
    """Five cascades with user and text features: graph-level inputs ``graph_x`` ``[B, 7]``."""
    data = generate(12, seed=2, size_scale=0.04)
    featurizer = CascadeFeaturizer.fit(
        data, np.arange(12), ("structure", "users", "text"), text_dims=3
    )
    return Batch.from_data_list(featurizer.graphs(data.cascades[:5]))


@pytest.mark.parametrize(("name", "hparams"), VARIANTS)
def test_each_model_reads_the_text_at_the_root(text_batch: Batch, name: str, hparams: dict) -> None:
    """The graph-level inputs change the output, enter per graph, and keep the certificate."""
    width = text_batch.graph_x.size(1)
    model = build(name, {**hparams, "graph_channels": width}, text_batch.x.size(1)).eval()
    output = model(text_batch)
    other = text_batch.clone()
    other.graph_x = other.graph_x.flip(0)
    assert not torch.allclose(model(other), output)
    certificate = check_permutation(model, text_batch, node_pointer_keys=["root_index"])
    assert certificate.passed and certificate.max_error < 1e-5, certificate
    plain = build(name, hparams, text_batch.x.size(1))
    with pytest.raises(
        ValueError, match=r"reads 0 graph-level input\(s\) \(graph_x\), the data gives 7"
    ):
        plain(text_batch)
