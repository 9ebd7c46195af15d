"""Readouts (A) and top-k coarsening (P)."""

from __future__ import annotations

import pytest
import torch

from gnnkit.nn import AttentionReadout, Readout, TopKCoarsening
from gnnkit.symmetry import random_graph_batch


@pytest.fixture
def batch():
    return random_graph_batch(3, in_channels=8, seed=2)


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_readout_per_graph(scatter_backend, batch, reduce):
    out = Readout(reduce)(batch.x, batch.batch, batch.num_graphs)
    assert out.shape == (3, 8)
    for graph in range(3):
        x = batch.x[batch.batch == graph]
        expected = {"sum": x.sum(0), "mean": x.mean(0), "max": x.max(0).values}[reduce]
        torch.testing.assert_close(out[graph], expected)
    assert repr(Readout(reduce)) == f"Readout({reduce})"


def test_readout_of_an_empty_graph_is_zero():
    x = torch.randn(4, 2)
    out = Readout("max")(x, torch.tensor([0, 0, 2, 2]), num_graphs=4)
    assert out[1].tolist() == [0.0, 0.0] and out[3].tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="reduce must be 'sum', 'mean' or 'max'"):
        Readout("min")


def test_attention_readout_weights_sum_to_one(batch):
    readout = AttentionReadout(8, 5)
    out = readout(batch.x, batch.batch, batch.num_graphs)
    assert out.shape == (3, 5)
    for graph in range(3):
        x = batch.x[batch.batch == graph]
        weights = torch.softmax(readout.gate(x), dim=0)
        torch.testing.assert_close(out[graph], (weights * readout.transform(x)).sum(0))


def test_topk_keeps_best_nodes_of_each_graph_and_their_induced_edges(batch):
    pool = TopKCoarsening(8, ratio=0.5)
    pooled = pool(batch.x, batch.edge_index, batch.edge_attr, batch.batch, batch.pos)
    weight = pool.topk.select.weight.view(-1)
    score = batch.x @ weight / weight.norm()
    kept = set()
    for graph in range(3):
        nodes = (batch.batch == graph).nonzero().flatten()
        k = -(-len(nodes) // 2)  # ceil(n / 2)
        best = nodes[torch.argsort(score[nodes], descending=True)[:k]]
        assert pooled.perm[pooled.batch == graph].tolist() == best.tolist()
        kept |= set(best.tolist())
    torch.testing.assert_close(
        pooled.x, batch.x[pooled.perm] * torch.tanh(score[pooled.perm]).unsqueeze(-1)
    )
    torch.testing.assert_close(pooled.score, torch.tanh(score[pooled.perm]))
    torch.testing.assert_close(pooled.pos, batch.pos[pooled.perm])
    source, target = batch.edge_index
    induced = [(s, t) for s, t in zip(source.tolist(), target.tolist()) if s in kept and t in kept]
    back = pooled.perm[pooled.edge_index]
    assert sorted(zip(back[0].tolist(), back[1].tolist())) == sorted(induced)
    assert pooled.edge_attr.shape == (len(induced), 4)
    # The batch stays valid: sorted, every graph present.
    assert torch.equal(pooled.batch, pooled.batch.sort().values)
    assert pooled.batch.unique().tolist() == [0, 1, 2]


def test_topk_keeps_at_least_one_node_per_graph():
    x = torch.randn(5, 3)
    pooled = TopKCoarsening(3, ratio=0.01)(
        x, torch.empty(2, 0, dtype=torch.long), batch=torch.tensor([0, 0, 1, 1, 1])
    )
    assert pooled.batch.tolist() == [0, 1]
    with pytest.raises(ValueError, match=r"ratio must be in \(0, 1\]"):
        TopKCoarsening(3, ratio=0.0)


def test_topk_between_closed_twins_depends_only_on_the_tie():
    """Closed twins after a sum aggregation carry equal features: top-k keeps either one, and
    the kept features are the same (the documented limit of any hard selection)."""
    from gnnkit.nn import SumGCNConv

    # Triangle 0-1-2 plus a pendant 3 on node 2: nodes 0 and 1 are closed twins.
    edges = torch.tensor([[0, 1, 0, 2, 1, 2, 2, 3], [1, 0, 2, 0, 2, 1, 3, 2]])
    x = torch.tensor([[1.0], [2.0], [4.0], [-8.0]])
    conv = SumGCNConv(1, 1, bias=False)
    conv.lin.weight.data.fill_(1.0)
    h = conv(x, edges)
    assert h[0].item() == h[1].item() == 7.0
    pool = TopKCoarsening(1, ratio=0.25)
    pool.topk.select.weight.data.fill_(1.0)
    pooled = pool(h, edges)
    assert pooled.perm.tolist() in ([0], [1])
    assert h[pooled.perm].item() == 7.0
