"""The blueprint composer: its grammar, its forward pass and its certificates."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gnnkit.nn import Blueprint, EGNNConv, GCNConv, GINConv, Readout, TopKPooling, stage_role
from gnnkit.symmetry import random_graph_batch
from gnnkit.symmetry.probes import FirstNodeReadout, LSTMAggregationLayer


def test_roles_of_stages():
    assert stage_role(GCNConv(2, 2)) == "equivariant"
    assert stage_role(nn.ReLU()) == "pointwise"
    assert stage_role(nn.Linear(2, 2)) == "equivariant"
    assert stage_role(TopKPooling(2)) == "coarsening"
    assert stage_role(Readout()) == "readout"
    with pytest.raises(TypeError, match="LSTM has no blueprint role"):
        stage_role(nn.LSTM(2, 2))


def test_grammar_is_enforced():
    with pytest.raises(ValueError, match="ends its stages with one readout"):
        Blueprint([GCNConv(4, 4), nn.ReLU()])
    with pytest.raises(ValueError, match="exactly one readout"):
        Blueprint([GCNConv(4, 4), Readout(), Readout()])
    with pytest.raises(ValueError, match="at least one equivariant layer"):
        Blueprint([nn.ReLU(), Readout()])


def test_forward_composes_the_stages_by_hand():
    torch.manual_seed(0)
    data = random_graph_batch(3, in_channels=8, seed=4)
    conv, pool, conv2, head = GCNConv(8, 8), TopKPooling(8, 0.5), GINConv(8, 4), nn.Linear(4, 2)
    model = Blueprint([conv, nn.ReLU(), pool, conv2, Readout("sum")], head=head)
    out = model(data)
    h = torch.relu(conv(data.x, data.edge_index))
    pooled = pool(h, data.edge_index, data.edge_attr, data.batch, data.pos)
    h = conv2(pooled.x, pooled.edge_index)
    expected = head(Readout("sum")(h, pooled.batch, 3))
    torch.testing.assert_close(out, expected)
    assert out.shape == (3, 2)
    assert "B: GCNConv(8, 8, normalize=True)" in repr(model) and "σ: ReLU()" in repr(model)


def test_certify_passes_every_stage_and_the_whole_model():
    torch.manual_seed(0)
    data = random_graph_batch(3, in_channels=8, seed=5)
    model = Blueprint([EGNNConv(8, 8), nn.SiLU(), TopKPooling(8), EGNNConv(8, 8), Readout()])
    certificates = model.certify(data, trials=4)
    assert len(certificates) == 5 + 2  # five stages, whole model under S_n and under E(3)
    assert all(c.passed for c in certificates), certificates
    assert [c.symmetry for c in certificates[-2:]] == ["permutation", "E(3)"]
    assert all(c.kind == "invariant" for c in certificates[-2:])


def test_certify_names_the_broken_stage():
    torch.manual_seed(0)
    data = random_graph_batch(3, in_channels=8, seed=6)
    model = Blueprint([GCNConv(8, 8), LSTMAggregationLayer(8), Readout("mean")])
    certificates = model.certify(data, trials=4, name="model")
    verdicts = {c.component: c.passed for c in certificates}
    assert verdicts == {
        "model [0:B GCNConv(8, 8, normalize=True)]": True,
        "model [1:B LSTMAggregationLayer]": False,
        "model [2:A Readout(mean)]": True,
        "model": False,
    }


def test_a_readout_that_is_not_invariant_breaks_the_promise():
    torch.manual_seed(0)
    data = random_graph_batch(3, in_channels=8, seed=6)
    model = Blueprint([GCNConv(8, 8), FirstNodeReadout()])
    readout_certificate = model.certify(data, trials=4)[1]
    assert readout_certificate.expected == "invariant"
    assert not readout_certificate.passed
