"""The blueprint composer: its grammar and its forward pass (its certificates:
tests/symmetry/test_blueprint_certificates.py)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gnnkit.nn import Blueprint, GCNConv, MLPGINConv, Readout, TopKCoarsening, stage_role
from gnnkit.symmetry import random_graph_batch


def test_roles_of_stages():
    assert stage_role(GCNConv(2, 2)) == "equivariant"
    assert stage_role(nn.ReLU()) == "pointwise"
    assert stage_role(nn.Linear(2, 2)) == "equivariant"
    assert stage_role(TopKCoarsening(2)) == "coarsening"
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
    conv, pool, conv2, head = (
        GCNConv(8, 8),
        TopKCoarsening(8, 0.5),
        MLPGINConv(8, 4),
        nn.Linear(4, 2),
    )
    model = Blueprint([conv, nn.ReLU(), pool, conv2, Readout("sum")], head=head)
    out = model(data)
    h = torch.relu(conv(data.x, data.edge_index))
    pooled = pool(h, data.edge_index, data.edge_attr, data.batch, data.pos)
    h = conv2(pooled.x, pooled.edge_index)
    expected = head(Readout("sum")(h, pooled.batch, 3))
    torch.testing.assert_close(out, expected)
    assert out.shape == (3, 2)
    assert "B: GCNConv(8, 8)" in repr(model) and "σ: ReLU()" in repr(model)


def test_a_replaced_stage_or_forward_is_called_with_its_own_arguments():
    torch.manual_seed(0)
    data = random_graph_batch(3, in_channels=8, seed=4)
    model = Blueprint([GCNConv(8, 8), Readout("sum")])
    model(data)
    conv = MLPGINConv(8, 8)
    model.stages[0] = conv
    torch.testing.assert_close(
        model(data), Readout("sum")(conv(data.x, data.edge_index), data.batch, 3)
    )
    seen: list[str] = []

    def forward(data: object) -> torch.Tensor:
        seen.append(type(data).__name__)
        return torch.zeros(3, 1)

    readout = model.stages[1]
    readout.forward = forward
    assert model(data).shape == (3, 1) and seen == ["GraphState"]
    del readout.forward
    assert model(data).shape == (3, 8)
