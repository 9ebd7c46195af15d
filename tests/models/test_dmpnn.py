"""D-MPNN: the layer against a loop-by-loop reference, and the model's invariances."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem
from torch_geometric.data import Batch

from gnnkit.models import build_model
from gnnkit.nn import DMPNNConv
from gnnkit.nn.conv.dmpnn import find_reverse_edges
from gnnkit.symmetry import check_permutation
from gnnkit.workflows.molecules import featurize_for_prediction

FEATURIZER = {"atom_features": "v2"}


def graphs(smiles: list[str]):
    result, _, failures = featurize_for_prediction(smiles, FEATURIZER)
    assert failures == []
    return result


def reference_dmpnn(layer: DMPNNConv, graph) -> torch.Tensor:
    """The D-MPNN equations evaluated edge by edge with Python loops."""
    edges = graph.edge_index.t().tolist()
    relu = torch.relu
    h0 = {
        (v, w): layer.W_i(torch.cat([graph.x[v], graph.edge_attr[e]]))
        for e, (v, w) in enumerate(edges)
    }
    h = {edge: relu(value) for edge, value in h0.items()}
    for _ in range(layer.depth - 1):
        h = {
            (v, w): relu(
                h0[(v, w)]
                + layer.W_h(
                    sum(
                        (h[(k, u)] for (k, u) in edges if u == v and k != w),
                        torch.zeros(layer.hidden_channels),
                    )
                )
            )
            for (v, w) in edges
        }
    out = []
    for v in range(graph.num_nodes):
        incoming = sum(
            (h[(k, u)] for (k, u) in edges if u == v), torch.zeros(layer.hidden_channels)
        )
        out.append(relu(layer.W_o(torch.cat([graph.x[v], incoming]))))
    return torch.stack(out)


@pytest.mark.parametrize("smiles", ["CC(=O)Nc1ccc(O)cc1", "C1CC1N", "[Na+].[Cl-]", "C"])
def test_layer_matches_the_equations(scatter_backend, smiles):
    torch.manual_seed(0)
    layer = DMPNNConv(72, 14, 16, depth=3).eval()
    (graph,) = graphs([smiles])
    out = layer(graph.x, graph.edge_index, graph.edge_attr, graph.rev_edge_index)
    torch.testing.assert_close(out, reference_dmpnn(layer, graph), rtol=1e-5, atol=1e-5)


def test_find_reverse_edges():
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 0], [1, 0, 2, 1, 0, 2]])
    reverse = find_reverse_edges(edge_index, 3)
    assert reverse.tolist() == [1, 0, 3, 2, 5, 4]
    with pytest.raises(ValueError, match="both directions"):
        find_reverse_edges(torch.tensor([[0], [1]]), 2)


def model(**overrides):
    torch.manual_seed(0)
    hparams = {"out_channels": 2, "hidden_channels": 32, "ffn_hidden_channels": 16, **overrides}
    return build_model("dmpnn", hparams).eval()


def test_renumbered_atoms_give_the_same_prediction():
    smiles = "CC(=O)Nc1ccc(O)cc1"
    mol = Chem.MolFromSmiles(smiles)
    order = np.random.default_rng(0).permutation(mol.GetNumAtoms()).tolist()
    shuffled = Chem.MolToSmiles(Chem.RenumberAtoms(mol, order), canonical=False)
    assert shuffled != smiles
    net = model()
    a, b = (Batch.from_data_list(graphs([s])) for s in (smiles, shuffled))
    with torch.no_grad():
        torch.testing.assert_close(net(a), net(b), rtol=1e-5, atol=1e-6)


def test_permutation_certificate_of_the_model(scatter_backend):
    batch = Batch.from_data_list(graphs(["CCO", "c1ccccc1C(=O)O", "[Na+].[Cl-]", "CCN(CC)CC"]))
    certificate = check_permutation(model(), batch, edge_pointer_keys=["rev_edge_index"])
    assert certificate.passed and certificate.kind == "invariant"
    assert certificate.max_error < 1e-5


@pytest.mark.parametrize("aggregation", ["norm", "mean", "sum"])
def test_aggregations(aggregation):
    net = model(aggregation=aggregation)
    batch = Batch.from_data_list(graphs(["CCO", "CCCCCC"]))
    with torch.no_grad():
        atoms = net.encoder(batch.x, batch.edge_index, batch.edge_attr, batch.rev_edge_index)
        embedding = net.molecule_embedding(batch)
    first = atoms[batch.batch == 0]
    expected = {"norm": first.sum(0) / 100, "mean": first.mean(0), "sum": first.sum(0)}
    torch.testing.assert_close(embedding[0], expected[aggregation])


def test_descriptors_are_standardised_with_training_statistics():
    net = model(descriptor_dim=2)
    train = torch.tensor([[1.0, 10.0], [3.0, float("nan")], [5.0, 30.0]])
    net.set_descriptor_scaling(train)
    assert net.descriptor_mean.tolist() == pytest.approx([3.0, 20.0])
    assert net.descriptor_std.tolist() == pytest.approx([np.std([1, 3, 5]), 10.0])
    batch = Batch.from_data_list(graphs(["CCO"]))
    batch.descriptors = torch.tensor([[3.0, float("inf")]])
    with torch.no_grad():
        embedding = net.molecule_embedding(batch)
    assert embedding[0, -2:].tolist() == [0.0, 0.0]  # mean → 0, non-finite → 0
    assert "descriptor_mean" in net.state_dict()
    with pytest.raises(ValueError, match="aggregation must be one of"):
        build_model("dmpnn", {"aggregation": "max"})
