"""GCNFN, BiGCN and UPFD-style classifiers: loop-level references, shapes, registry, training
on a one-node batch, old checkpoints, and permutation certificates that renumber the root
pointer."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Batch, Data

from gnnkit.data.cascades import generate
from gnnkit.data.cascades.featurizer import CascadeFeaturizer
from gnnkit.models import ModelSpec, available_models, build_model, model_spec
from gnnkit.models.cascade import CASCADE_MODELS, GCNFN, BiGCN, DirectedGCN, UPFDNet
from gnnkit.models.cascade.common import graph_index, root_index_of
from gnnkit.models.registry import SPEC_ATTRIBUTE
from gnnkit.nn import GATConv, GCNConv, SAGEConv
from gnnkit.nn.graph_call import num_graphs_of
from gnnkit.symmetry import check_permutation
from gnnkit.train import CheckpointError, Task, TrainedModel, load_model, save_checkpoint

VARIANTS = [
    ("gcnfn", {}),
    ("gcnfn", {"heads": 2, "undirected": False}),
    ("bigcn", {}),
    ("upfd", {"encoder": "gcn"}),
    ("upfd", {"encoder": "gat", "readout": "mean"}),
    ("upfd", {"encoder": "sage", "num_layers": 2}),
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
def test_the_certificate_renumbers_the_root_pointer(batch: Batch, name: str) -> None:
    """root_index batches as a node index (PyG offsets every `*index*` attribute by the number
    of nodes), so the certificate renumbers it without being told."""
    model = build(name, {}, batch.x.size(1))
    certificate = check_permutation(model, batch)
    assert certificate.passed and certificate.kind == "invariant", certificate


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
    """Feature dropout off, so only DropEdge can make two training passes differ."""
    model = build("bigcn", {"edge_dropout": 0.5, "dropout": 0.0}, batch.x.size(1))
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


# Loop-level references: every layer of a model evaluated node by node with Python loops and the
# model's own weights, one graph at a time (local node numbers), in float64.

#: Three small trees ``(parent → child edges, root)``: a branching one, a chain whose root is
#: its last node, and one with three children of the root.
TREES: tuple[tuple[list[tuple[int, int]], int], ...] = (
    ([(0, 1), (0, 2), (1, 3)], 0),
    ([(2, 1), (1, 0)], 2),
    ([(0, 1), (0, 2), (0, 3), (2, 4)], 0),
)
NODE_FEATURES = 5


def tiny_cascades(graph_channels: int) -> list[Data]:
    """The :data:`TREES` with random float64 node features ``[n, 5]`` (signed, so every ReLU
    matters) and, when ``graph_channels > 0``, graph-level inputs ``[1, graph_channels]``."""
    generator = torch.Generator().manual_seed(3)
    graphs = []
    for edges, root in TREES:
        n = len(edges) + 1
        graph = Data(
            x=torch.randn(n, NODE_FEATURES, generator=generator, dtype=torch.float64),
            edge_index=torch.tensor(edges).t(),
            root_index=torch.tensor([root]),
            num_nodes=n,
        )
        if graph_channels:
            graph.graph_x = torch.randn(1, graph_channels, generator=generator, dtype=torch.float64)
        graphs.append(graph)
    return graphs


def parts(graph: Data) -> tuple[Tensor, list[tuple[int, int]], int, Tensor]:
    """``x`` ``[n, F]``, the edges as pairs, the root and the graph-level inputs ``[G]`` (empty
    without them)."""
    graph_x = getattr(graph, "graph_x", None)
    u = graph_x[0] if graph_x is not None else graph.x.new_zeros(0)
    return graph.x, [tuple(e) for e in graph.edge_index.t().tolist()], int(graph.root_index), u


def both_ways(edges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return edges + [(t, s) for s, t in edges]


def in_neighbours(edges: list[tuple[int, int]], i: int) -> list[int]:
    return [s for s, t in edges if t == i]


def linear(layer: nn.Linear, v: Tensor) -> Tensor:
    return layer.weight @ v + (layer.bias if layer.bias is not None else 0)


def gcn_loop(conv: GCNConv, x: Tensor, edges: list[tuple[int, int]]) -> Tensor:
    """h'_i = W sum_{j in N(i) + i} h_j / sqrt(d_i d_j) + b, d counting in-edges and the loop."""
    degree = [1 + len(in_neighbours(edges, i)) for i in range(len(x))]
    rows = []
    for i in range(len(x)):
        closed = [i, *in_neighbours(edges, i)]
        total = sum(x[j] / math.sqrt(degree[i] * degree[j]) for j in closed)
        rows.append(conv.lin.weight @ total + conv.bias)
    return torch.stack(rows)


def gat_loop(conv: GATConv, x: Tensor, edges: list[tuple[int, int]]) -> Tensor:
    """Per head k: softmax over j in N(i) + i of LeakyReLU(a_s.W h_j + a_t.W h_i), heads joined."""
    h = [(conv.lin.weight @ x[i]).view(conv.heads, conv.out_channels) for i in range(len(x))]
    rows = []
    for i in range(len(x)):
        closed = [i, *in_neighbours(edges, i)]
        heads = []
        for k in range(conv.heads):
            scores = [conv.att_src[0, k] @ h[j][k] + conv.att_dst[0, k] @ h[i][k] for j in closed]
            alpha = torch.softmax(F.leaky_relu(torch.stack(scores), conv.negative_slope), dim=0)
            heads.append(sum(a * h[j][k] for a, j in zip(alpha, closed)))
        rows.append(torch.cat(heads) + conv.bias)
    return torch.stack(rows)


def sage_loop(conv: SAGEConv, x: Tensor, edges: list[tuple[int, int]]) -> Tensor:
    """h'_i = W_1 h_i + W_2 mean_{j in N(i)} h_j + b (a zero mean without in-neighbours)."""
    rows = []
    for i in range(len(x)):
        sources = in_neighbours(edges, i)
        mean = sum(x[j] for j in sources) / len(sources) if sources else torch.zeros_like(x[i])
        rows.append(conv.lin_r.weight @ x[i] + linear(conv.lin_l, mean))
    return torch.stack(rows)


CONV_LOOPS = {GCNConv: gcn_loop, GATConv: gat_loop, SAGEConv: sage_loop}


def directed_loop(
    branch: DirectedGCN, x: Tensor, edges: list[tuple[int, int]], root: int, u: Tensor
) -> Tensor:
    """One BiGCN direction: GCN, every node joined with the raw root row and u, ReLU, GCN,
    ReLU, the first layer's root row appended, mean over the nodes."""
    h1 = gcn_loop(branch.conv1, x, edges)
    enhanced = torch.stack([torch.relu(torch.cat([h1[i], x[root], u])) for i in range(len(x))])
    h2 = torch.relu(gcn_loop(branch.conv2, enhanced, edges))
    return sum(torch.cat([h2[i], h1[root]]) for i in range(len(x))) / len(x)


def bigcn_loop(model: BiGCN, graph: Data, reverse_bottom_up: bool = True) -> Tensor:
    """Top-down over the given edges, bottom-up over the reversed ones, joined, classified."""
    x, edges, root, u = parts(graph)
    upward = [(t, s) for s, t in edges] if reverse_bottom_up else edges
    down = directed_loop(model.top_down, x, edges, root, u)
    up = directed_loop(model.bottom_up, x, upward, root, u)
    return linear(model.classifier, torch.cat([down, up]))


def gcnfn_loop(model: GCNFN, graph: Data) -> Tensor:
    """SELU(GAT) layers, mean, SELU, [the root's ReLU embedding], Linear, SELU, Linear."""
    x, edges, root, u = parts(graph)
    edges = both_ways(edges) if model.undirected else edges
    h = x
    for conv in model.convs:
        h = F.selu(gat_loop(conv, h, edges))
    pooled = F.selu(sum(h[i] for i in range(len(x))) / len(x))
    if model.root_embedding is not None:
        news = torch.relu(linear(model.root_embedding, torch.cat([x[root], u])))
        pooled = torch.cat([pooled, news])
    hidden, _, _, output = model.head
    return linear(output, F.selu(linear(hidden, pooled)))


def upfd_loop(model: UPFDNet, graph: Data) -> Tensor:
    """ReLU(conv) layers over both directions, pooled, joined with the root's ReLU embedding
    through ReLU(W_j .), then the output layer."""
    x, edges, root, u = parts(graph)
    h = x
    for conv in model.convs:
        h = torch.relu(CONV_LOOPS[type(conv)](conv, h, both_ways(edges)))
    rows = list(h)
    pooled = {
        "max": lambda: functools.reduce(torch.maximum, rows),
        "mean": lambda: sum(rows) / len(rows),
        "sum": lambda: sum(rows),
    }[model.readout.reduce]()
    news = torch.relu(linear(model.root_embedding, torch.cat([x[root], u])))
    return linear(model.output, torch.relu(linear(model.join, torch.cat([pooled, news]))))


REFERENCES = {"bigcn": bigcn_loop, "gcnfn": gcnfn_loop, "upfd": upfd_loop}


def reference_model(name: str, hparams: dict, graph_channels: int) -> nn.Module:
    model = build(name, {**hparams, "graph_channels": graph_channels}, NODE_FEATURES)
    return model.double().eval()


@pytest.mark.parametrize("graph_channels", [0, 3])
@pytest.mark.parametrize(("name", "hparams"), VARIANTS)
def test_each_model_matches_its_loop_level_reference(
    name: str, hparams: dict, graph_channels: int
) -> None:
    graphs = tiny_cascades(graph_channels)
    model = reference_model(name, hparams, graph_channels)
    with torch.no_grad():
        output = model(Batch.from_data_list(graphs))
        expected = torch.stack([REFERENCES[name](model, graph) for graph in graphs])
    torch.testing.assert_close(output, expected, rtol=1e-10, atol=1e-12)


def test_the_bigcn_reference_tells_the_bottom_up_direction_apart() -> None:
    """Had the bottom-up branch kept the edges' direction, the reference would not match."""
    graphs = tiny_cascades(3)
    model = reference_model("bigcn", {}, 3)
    with torch.no_grad():
        output = model(Batch.from_data_list(graphs))
        unreversed = torch.stack([bigcn_loop(model, g, reverse_bottom_up=False) for g in graphs])
    assert (output - unreversed).abs().max() > 1e-3


@pytest.mark.parametrize(("name", "hparams"), VARIANTS)
def test_a_batch_of_one_single_node_cascade_trains_a_step(name: str, hparams: dict) -> None:
    """Early detection at small windows can leave a training batch of one root-only cascade."""
    graph = Data(
        x=torch.randn(1, NODE_FEATURES, generator=torch.Generator().manual_seed(0)),
        edge_index=torch.zeros(2, 0, dtype=torch.long),
        root_index=torch.tensor([0]),
        num_nodes=1,
    )
    model = build(name, hparams, NODE_FEATURES).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = [p.detach().clone() for p in model.parameters()]
    loss = F.cross_entropy(model(Batch.from_data_list([graph])), torch.tensor([1]))
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss)
    assert any(not torch.equal(a, p) for a, p in zip(before, model.parameters()))


@pytest.mark.parametrize("input_norm", [False, True])
def test_bigcn_root_enhancement_reads_the_input_features(batch: Batch, input_norm: bool) -> None:
    """In training mode, the second layer's input carries ReLU of every graph's root row: the
    raw row by default (as the paper), the batch-normalised one with ``input_norm``."""
    model = build("bigcn", {"dropout": 0.0, "edge_dropout": 0.0, "input_norm": input_norm}, 7)
    seen: dict[str, Tensor] = {}
    model.top_down.conv2.register_forward_pre_hook(lambda _, args: seen.update(x=args[0]))
    model.train()(batch)
    x = batch.x
    if input_norm:  # fresh affine parameters: gamma 1, beta 0; the batch's biased variance
        x = (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + 1e-5)
    roots = batch.root_index[batch.batch]
    enhancement = seen["x"][:, model.top_down.conv1.out_channels :]
    torch.testing.assert_close(enhancement, torch.relu(x[roots]), rtol=1e-5, atol=1e-6)


def old_checkpoint(name: str, batch: Batch, path: Path) -> tuple[Path, Tensor]:
    """A checkpoint as gnnkit wrote it before ``input_norm`` existed (the model normalised its
    inputs; its hyper-parameters do not say so), and the model's eval-mode output."""
    width = batch.x.size(1)
    model = build(name, {"input_norm": True}, width)
    model(batch)  # a training pass moves the running statistics off their initial values
    spec = {"in_channels": width, "out_channels": 4, "hidden_channels": 16}
    setattr(model.eval(), SPEC_ATTRIBUTE, ModelSpec(name, spec))
    task = Task.create("multiclass", 1, n_classes=4)
    with torch.no_grad():
        return save_checkpoint(TrainedModel(model, task), path), model(batch)


def test_checkpoints_from_before_input_norm(batch: Batch, tmp_path: Path) -> None:
    """BiGCN's load with the norm on and predict as before; GCNFN's and UPFD's, whose other
    computations changed since, are refused with a reason."""
    path, output = old_checkpoint("bigcn", batch, tmp_path / "bigcn.pt")
    loaded = load_model(path).model
    assert isinstance(loaded.norm, nn.BatchNorm1d) and model_spec(loaded).hparams["input_norm"]
    with torch.no_grad():
        torch.testing.assert_close(loaded(batch), output)
    for name in ("gcnfn", "upfd"):
        path, _ = old_checkpoint(name, batch, tmp_path / f"{name}.pt")
        message = rf"cannot rebuild model '{name}': it was written by an earlier gnnkit .* retrain"
        with pytest.raises(CheckpointError, match=message):
            load_model(path)
