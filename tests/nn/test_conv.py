"""Layers: shapes, repr, parameters, sparse-vs-dense agreement, PyG drop-ins, torch.compile."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
import torch_geometric.nn
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.nn import MessagePassing

from gnnkit.nn import (
    DeepSetsConv,
    EGNNConv,
    GATConv,
    GCNConv,
    GraphTransformerConv,
    MLPGINConv,
    SAGEConv,
    SumGCNConv,
)
from gnnkit.nn.graph_call import call_on_graph
from gnnkit.symmetry import random_graph, random_graph_batch


@pytest.fixture
def batch() -> Batch:
    return random_graph_batch(3, in_channels=8, edge_dim=4, seed=11)


def dense_adjacency(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """``A[i, j] = 1`` when an edge runs ``j → i``."""
    adjacency = torch.zeros(num_nodes, num_nodes)
    adjacency[edge_index[1], edge_index[0]] = 1.0
    return adjacency


def test_layers_sharing_a_pyg_name_are_pygs():
    """A layer named like a PyG layer is that layer: same arguments, call and computation."""
    assert GCNConv is torch_geometric.nn.GCNConv
    assert GATConv is torch_geometric.nn.GATConv
    assert SAGEConv is torch_geometric.nn.SAGEConv


@pytest.mark.parametrize("normalize", [False, True])
def test_gcn_matches_dense_formula(batch, normalize):
    layer = GCNConv(8, 5) if normalize else SumGCNConv(8, 5)
    out = layer(batch.x, batch.edge_index)
    a_hat = dense_adjacency(batch.edge_index, batch.num_nodes) + torch.eye(batch.num_nodes)
    if normalize:
        d = a_hat.sum(dim=1).rsqrt()
        a_hat = d[:, None] * a_hat * d[None, :]
    expected = a_hat @ batch.x @ layer.lin.weight.T + layer.bias
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)
    assert out.shape == (batch.num_nodes, 5)
    assert repr(layer) == ("GCNConv(8, 5)" if normalize else "SumGCNConv(8, 5)")


@pytest.mark.parametrize("make", [lambda: GCNConv(8, 5), lambda: SumGCNConv(8, 5)])
def test_gcn_replaces_existing_self_loops(batch, make):
    layer = make()
    loops = torch.arange(batch.num_nodes).repeat(2, 1)
    with_loops = torch.cat([batch.edge_index, loops, loops], dim=1)
    torch.testing.assert_close(layer(batch.x, with_loops), layer(batch.x, batch.edge_index))


def test_gin_matches_dense_formula(batch):
    layer = MLPGINConv(8, 6, eps=0.3, hidden_channels=10)
    adjacency = dense_adjacency(batch.edge_index, batch.num_nodes)
    expected = layer.nn(1.3 * batch.x + adjacency @ batch.x)
    torch.testing.assert_close(layer(batch.x, batch.edge_index), expected, rtol=1e-5, atol=1e-5)
    pyg = torch_geometric.nn.GINConv(layer.nn, eps=0.3)
    torch.testing.assert_close(layer(batch.x, batch.edge_index), pyg(batch.x, batch.edge_index))
    assert repr(layer) == "MLPGINConv(8, 6)"
    assert not any(p is layer.eps for p in layer.parameters())
    learned = MLPGINConv(8, 6, train_eps=True, eps=0.3)
    assert any(p is learned.eps for p in learned.parameters())
    assert learned.eps.item() == pytest.approx(0.3)


def test_gat_matches_dense_attention(batch):
    layer = GATConv(8, 4, heads=3)
    n = batch.num_nodes
    h = (batch.x @ layer.lin.weight.T).view(n, 3, 4)
    mask = dense_adjacency(batch.edge_index, n) + torch.eye(n) > 0
    expected = []
    for head in range(3):
        source_score = h[:, head] @ layer.att_src[0, head]
        target_score = h[:, head] @ layer.att_dst[0, head]
        logits = F.leaky_relu(target_score[:, None] + source_score[None, :], 0.2)
        alpha = torch.softmax(logits.masked_fill(~mask, -math.inf), dim=1)
        expected.append(alpha @ h[:, head])
    expected = torch.cat(expected, dim=1) + layer.bias
    torch.testing.assert_close(layer(batch.x, batch.edge_index), expected, rtol=1e-5, atol=1e-5)
    averaged = GATConv(8, 4, heads=3, concat=False)
    assert averaged(batch.x, batch.edge_index).shape == (n, 4)


def test_deepsets_matches_per_graph_formula(scatter_backend, batch):
    layer = DeepSetsConv(8, 5)
    out = layer(batch.x, batch.batch, batch.num_graphs)
    for graph in range(batch.num_graphs):
        nodes = batch.batch == graph
        x = batch.x[nodes]
        expected = layer.phi(x) + layer.rho(x.sum(dim=0, keepdim=True))
        torch.testing.assert_close(out[nodes], expected, rtol=1e-5, atol=1e-5)
    single = layer(batch.x)  # no batch: one graph
    expected = layer.phi(batch.x) + layer.rho(batch.x.sum(0, keepdim=True))
    torch.testing.assert_close(single, expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="aggr must be 'sum' or 'mean'"):
        DeepSetsConv(8, 5, aggr="max")


def test_transformer_matches_torch_multihead_attention_per_graph(batch):
    layer = GraphTransformerConv(8, heads=2).eval()
    reference = nn.MultiheadAttention(8, 2, batch_first=True).eval()
    reference.in_proj_weight.data.copy_(layer.qkv.weight)
    reference.in_proj_bias.data.copy_(layer.qkv.bias)
    reference.out_proj.weight.data.copy_(layer.out.weight)
    reference.out_proj.bias.data.copy_(layer.out.bias)
    out = layer(batch.x, batch.batch)
    for graph in range(batch.num_graphs):
        x = batch.x[batch.batch == graph]
        attended, _ = reference(x[None], x[None], x[None], need_weights=False)
        h = layer.norm_attention(x + attended[0])
        expected = layer.norm_ffn(h + layer.ffn(h))
        torch.testing.assert_close(out[batch.batch == graph], expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"heads \(3\) must divide channels \(8\)"):
        GraphTransformerConv(8, heads=3)


def test_egnn_matches_dense_formula(batch):
    layer = EGNNConv(8, 8, edge_dim=4)
    nn.init.normal_(layer.coord_mlp[-1].weight)  # make the coordinate update visible
    h, pos = layer(batch.x, batch.pos, batch.edge_index, batch.edge_attr)
    source, target = batch.edge_index
    for i in range(batch.num_nodes):
        incoming = (target == i).nonzero().flatten()
        message_sum = torch.zeros(8)
        shift = torch.zeros(3)
        for e in incoming.tolist():
            j = source[e]
            d2 = (batch.pos[i] - batch.pos[j]).pow(2).sum().view(1)
            m = layer.edge_mlp(torch.cat([batch.x[i], batch.x[j], d2, batch.edge_attr[e]]))
            message_sum += m
            shift += (batch.pos[i] - batch.pos[j]) * layer.coord_mlp(m)
        expected_pos = batch.pos[i] + shift / max(1, len(incoming))
        expected_h = batch.x[i] + layer.node_mlp(torch.cat([batch.x[i], message_sum]))
        torch.testing.assert_close(pos[i], expected_pos, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(h[i], expected_h, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="pass edge_attr"):
        layer(batch.x, batch.pos, batch.edge_index)


def test_sage_matches_its_equation():
    graph = random_graph_batch(2, in_channels=3, seed=4)
    conv = SAGEConv(3, 5)
    out = conv(graph.x, graph.edge_index)
    source, target = graph.edge_index
    expected = conv.lin_r(graph.x) + conv.lin_l.bias
    for i in range(graph.num_nodes):
        neighbours = source[target == i]
        if neighbours.numel():
            mean = graph.x[neighbours].mean(dim=0)
            expected[i] = expected[i] + conv.lin_l.weight @ mean
    torch.testing.assert_close(out, expected)
    assert repr(conv) == "SAGEConv(3, 5, aggr=mean)"


LAYERS = {
    "gcn": lambda: GCNConv(8, 6),
    "sum-gcn": lambda: SumGCNConv(8, 6),
    "gin": lambda: MLPGINConv(8, 6),
    "gat": lambda: GATConv(8, 3, heads=2),
    "deepsets": lambda: DeepSetsConv(8, 6),
    "transformer": lambda: GraphTransformerConv(8, heads=2),
    "egnn": lambda: EGNNConv(8, 6, edge_dim=4),
    "sage": lambda: SAGEConv(8, 6),
}


@pytest.mark.parametrize("name", LAYERS)
def test_batch_of_graphs_equals_graphs_one_at_a_time(name):
    """A layer never mixes graphs: running a batch equals running each graph alone."""
    torch.manual_seed(0)
    layer = LAYERS[name]().eval()
    generator = torch.Generator().manual_seed(5)
    graphs = [random_graph(n, generator=generator) for n in (4, 7, 5)]
    batch = Batch.from_data_list(graphs)
    out = call_on_graph(layer, batch)
    out = out[0] if isinstance(out, tuple) else out
    alone = [call_on_graph(layer, Batch.from_data_list([g])) for g in graphs]
    alone = torch.cat([a[0] if isinstance(a, tuple) else a for a in alone])
    torch.testing.assert_close(out, alone, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", LAYERS)
def test_reset_parameters_redraws_every_weight(name):
    torch.manual_seed(0)
    layer = LAYERS[name]()
    before = [p.detach().clone() for p in layer.parameters()]
    layer.reset_parameters()
    changed = [not torch.equal(a, b) for a, b in zip(before, layer.parameters())]
    drawn = [a.std() > 0 if a.numel() > 1 else a.abs() > 0 for a in before]
    assert all(c for c, d in zip(changed, drawn) if d)


@pytest.mark.parametrize("name", LAYERS)
def test_layers_train_end_to_end(name):
    """Gradients reach every parameter through the scatter kernels."""
    torch.manual_seed(0)
    layer = LAYERS[name]()
    batch = random_graph_batch(2, seed=3)
    out = call_on_graph(layer, batch)
    outputs = out if isinstance(out, tuple) else (out,)
    sum(o.pow(2).sum() for o in outputs).backward()
    missing = [n for n, p in layer.named_parameters() if p.grad is None or not p.grad.abs().sum()]
    assert not missing


#: Every node message-passing layer gnnkit hands out, how to call it on a small graph, and
#: the dynamo settings it needs. PyG's GCNConv and GATConv add self-loops by boolean masking,
#: a data-dependent shape: PyG's own compile tests add them outside the layer
#: (``add_self_loops=False``); inside, dynamo needs ``capture_dynamic_output_shape_ops``.
MESSAGE_PASSING = {
    "gcn": (lambda: GCNConv(8, 6, add_self_loops=False), False),
    "gcn-self-loops": (lambda: GCNConv(8, 6), True),
    "sum-gcn": (lambda: SumGCNConv(8, 6), False),
    "gin": (lambda: MLPGINConv(8, 6), False),
    "gat": (lambda: GATConv(8, 3, heads=2, add_self_loops=False), False),
    "gat-self-loops": (lambda: GATConv(8, 3, heads=2), True),
    "sage": (lambda: SAGEConv(8, 6), False),
    "egnn": (lambda: EGNNConv(8, 6, edge_dim=4), False),
}


@pytest.mark.parametrize("name", MESSAGE_PASSING)
def test_message_passing_layers_compile_without_graph_breaks(name):
    """Each layer is a PyG ``MessagePassing`` that ``torch.compile`` traces in one graph."""
    make, dynamic_shapes = MESSAGE_PASSING[name]
    layer = make()
    assert isinstance(layer, MessagePassing)
    graph = random_graph_batch(2, in_channels=8, edge_dim=4, seed=1)
    if isinstance(layer, EGNNConv):
        arguments = (graph.x, graph.pos, graph.edge_index, graph.edge_attr)
    else:
        arguments = (graph.x, graph.edge_index)
    torch._dynamo.reset()
    with torch._dynamo.config.patch(capture_dynamic_output_shape_ops=dynamic_shapes):
        explanation = torch._dynamo.explain(layer)(*arguments)
    assert explanation.graph_break_count == 0, explanation.break_reasons
