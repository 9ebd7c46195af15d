"""Certificates of blueprint models: every stage against its role's promise, then the whole."""

from __future__ import annotations

import torch
from torch import nn

from gnnkit.nn import Blueprint, EGNNConv, GCNConv, Readout, TopKCoarsening
from gnnkit.symmetry import certify_blueprint, random_graph_batch
from gnnkit.symmetry.probes import BatchCentringLayer, FirstNodeReadout, LSTMAggregationLayer


def test_certify_passes_every_stage_and_the_whole_model():
    torch.manual_seed(0)
    data = random_graph_batch(3, in_channels=8, seed=5)
    model = Blueprint([EGNNConv(8, 8), nn.SiLU(), TopKCoarsening(8), EGNNConv(8, 8), Readout()])
    certificates = certify_blueprint(model, data, trials=4)
    assert len(certificates) == 5 + 2  # five stages, whole model under S_n and under E(3)
    assert all(c.passed for c in certificates), certificates
    assert [c.symmetry for c in certificates[-2:]] == ["permutation", "E(3)"]
    assert all(c.kind == "invariant" for c in certificates[-2:])


def test_certify_names_the_broken_stage():
    torch.manual_seed(0)
    data = random_graph_batch(3, in_channels=8, seed=6)
    model = Blueprint([GCNConv(8, 8), LSTMAggregationLayer(8), Readout("mean")])
    certificates = certify_blueprint(model, data, trials=4, name="model")
    verdicts = {c.component: c.passed for c in certificates}
    assert verdicts == {
        "model [0:B GCNConv(8, 8)]": True,
        "model [1:B LSTMAggregationLayer]": False,
        "model [2:A Readout(mean)]": True,
        "model": False,
    }


def test_a_readout_that_is_not_invariant_breaks_the_promise():
    torch.manual_seed(0)
    data = random_graph_batch(3, in_channels=8, seed=6)
    model = Blueprint([GCNConv(8, 8), FirstNodeReadout()])
    readout_certificate = certify_blueprint(model, data, trials=4)[1]
    assert readout_certificate.expected == "invariant"
    assert not readout_certificate.passed


def test_a_stage_that_sees_other_graphs_is_named():
    torch.manual_seed(0)
    data = random_graph_batch(3, in_channels=8, seed=7)
    model = Blueprint([GCNConv(8, 8), BatchCentringLayer(8), Readout("sum")])
    certificates = certify_blueprint(model, data, trials=4, name="model")
    failed = {c.component: c.reason for c in certificates if not c.passed}
    assert set(failed) == {"model [1:B BatchCentringLayer]", "model"}
    assert all("depends on other graphs of the batch" in reason for reason in failed.values())
