"""The model registry and the graph-level GIN."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gnnkit.models import (
    GraphGIN,
    ModelSpec,
    available_models,
    build_model,
    model_spec,
    register_model,
)
from gnnkit.symmetry import certify_blueprint, check_permutation, random_graph_batch

HPARAMS = {"in_channels": 8, "out_channels": 3, "hidden_channels": 16, "num_layers": 2}


def test_build_model_records_its_spec() -> None:
    model = build_model("gin", HPARAMS)
    assert isinstance(model, GraphGIN)
    assert model_spec(model) == ModelSpec("gin", HPARAMS)
    assert "gin" in available_models()


def test_unknown_model_lists_registered_names() -> None:
    with pytest.raises(KeyError, match=r"registered models: .*gin"):
        build_model("no-such-model", {})


def test_hparams_must_be_plain_data() -> None:
    with pytest.raises(TypeError, match="plain data"):
        build_model("gin", {**HPARAMS, "readout": nn.ReLU()})


def test_a_name_cannot_be_taken_twice() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_model("gin")(type("Other", (nn.Module,), {}))


def test_model_spec_of_a_model_built_directly_explains_the_fix() -> None:
    with pytest.raises(TypeError, match="build_model"):
        model_spec(GraphGIN(**HPARAMS))


def test_graph_gin_shapes_and_layers() -> None:
    model = build_model("gin", HPARAMS)
    batch = random_graph_batch(4)
    assert model(batch).shape == (4, 3)
    assert model.roles == ["equivariant", "pointwise"] * 2 + ["readout"]
    assert "MLPGINConv(8, 16)" in repr(model) and "Readout(sum)" in repr(model)
    with pytest.raises(ValueError, match="num_layers"):
        GraphGIN(8, 3, num_layers=0)


def test_graph_gin_is_permutation_invariant() -> None:
    model = build_model("gin", {**HPARAMS, "readout": "mean", "dropout": 0.5})
    certificate = check_permutation(model, random_graph_batch(4))
    assert certificate.kind == "invariant" and certificate.passed, certificate
    assert all(c.passed for c in certify_blueprint(model, random_graph_batch(3, seed=1)))


def test_graph_gin_reset_parameters_redraws_weights() -> None:
    model = build_model("gin", HPARAMS)
    before = [p.clone() for p in model.parameters()]
    torch.manual_seed(123)
    model.reset_parameters()
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
