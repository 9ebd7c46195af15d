"""The D-MPNN of several molecules per input: one encoder per molecule or one shared, each
molecule pooled on its own, invariant to the order of each molecule's atoms."""

from __future__ import annotations

import pytest
import torch
from rdkit import Chem

from gnnkit.data.molecules.inputs import prediction_inputs
from gnnkit.models import DMPNN, build_model
from gnnkit.models.dmpnn import aggregate_atoms
from gnnkit.train import Task, TrainedModel, load_model, save_checkpoint
from gnnkit.train.precision import int8_layers

SOLUTES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "OC(=O)CCl"]
SOLVENTS = ["O", "ClC(Cl)Cl", "CCCCCC", "CS(C)=O"]
SMALL = {"hidden_channels": 16, "ffn_hidden_channels": 8, "depth": 3}


def batch_of(solutes: list[str], solvents: list[str]):
    inputs = prediction_inputs({"solute": solutes, "solvent": solvents}, {})
    assert len(inputs) == len(solutes)
    return next(inputs.batches(len(solutes)))


def model(shared: bool, seed: int = 0, **hparams) -> DMPNN:
    torch.manual_seed(seed)
    return DMPNN(n_components=2, shared_encoder=shared, **SMALL, **hparams).eval()


def parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_one_encoder_per_molecule_or_one_shared():
    single, shared, separate = DMPNN(**SMALL), model(True), model(False)
    encoder = parameters(single.encoder)
    assert len(shared.encoders()) == 1 and len(separate.encoders()) == 2
    # The head reads 2 × 16 molecule features instead of 16: 16 × 8 more weights.
    assert parameters(shared) == parameters(single) + 16 * 8
    assert parameters(separate) == parameters(shared) + encoder
    assert {k.split(".W_")[0] for k in single.state_dict() if ".W_" in k} == {"encoder"}
    assert {k.split(".W_")[0] for k in separate.state_dict() if ".W_" in k} == {
        "encoder.0",
        "encoder.1",
    }
    assert int8_layers(separate) == {
        "encoder.0.W_h",
        "encoder.0.W_o",
        "encoder.1.W_h",
        "encoder.1.W_o",
        "head.0",
        "head.3",
    }


@pytest.mark.parametrize("shared", [False, True])
def test_each_molecule_is_encoded_and_pooled_on_its_own(shared):
    net = model(shared, aggregation="mean")
    rows = batch_of(SOLUTES, SOLVENTS)
    embedding = net.molecule_embedding(rows)
    assert embedding.shape == (4, 32)
    encoders = net.encoders() * (2 if shared else 1)
    for k, smiles in enumerate((SOLUTES, SOLVENTS)):
        alone = next(prediction_inputs(smiles, {}).batches(4))
        atoms = encoders[k](alone.x, alone.edge_index, alone.edge_attr, alone.rev_edge_index)
        expected = aggregate_atoms(atoms, alone, "mean", 100.0)
        torch.testing.assert_close(embedding[:, 16 * k : 16 * (k + 1)], expected)


def randomised(smiles: list[str], seed: int) -> list[str]:
    """The same molecules written from other atoms: their atoms come in another order."""
    out = []
    for k, text in enumerate(smiles):
        Chem.rdBase.SeedRandomNumberGenerator(seed + k)
        out.append(Chem.MolToSmiles(Chem.MolFromSmiles(text), doRandom=True, canonical=False))
    return out


@pytest.mark.parametrize("shared", [False, True])
def test_predictions_ignore_the_order_of_each_molecules_atoms(shared):
    net = model(shared, ffn_layers=2, aggregation="sum")
    expected = net(batch_of(SOLUTES, SOLVENTS))
    for seed in (1, 2):
        solutes, solvents = randomised(SOLUTES, seed), randomised(SOLVENTS, 10 + seed)
        rows = batch_of(solutes, solvents)
        assert solutes != SOLUTES  # the atoms really come in another order
        torch.testing.assert_close(net(rows), expected, atol=1e-5, rtol=1e-5)


def test_a_shared_encoder_swaps_the_blocks_of_swapped_molecules_but_not_the_prediction():
    """Swapping the columns swaps the halves of the molecule vector; the head reads them in
    fixed slots, so the prediction changes: column order is not a symmetry of the model."""
    net = model(True)
    forward, backward = batch_of(SOLUTES, SOLVENTS), batch_of(SOLVENTS, SOLUTES)
    one, other = net.molecule_embedding(forward), net.molecule_embedding(backward)
    torch.testing.assert_close(other, torch.cat([one[:, 16:], one[:, :16]], dim=1))
    assert not torch.allclose(net(forward), net(backward), atol=1e-4)
    separate = model(False)
    swapped = separate.molecule_embedding(backward)
    assert not torch.allclose(swapped[:, :16], separate.molecule_embedding(forward)[:, 16:])


@pytest.mark.parametrize("shared", [False, True])
def test_checkpoint_rebuilds_the_model(tmp_path, shared):
    hparams = {**SMALL, "n_components": 2, "shared_encoder": shared, "descriptor_dim": 0}
    torch.manual_seed(0)
    net = build_model("dmpnn", hparams).eval()
    path = save_checkpoint(TrainedModel(net, Task("regression", ["y"])), tmp_path / "m.pt")
    loaded = load_model(path)
    rows = batch_of(SOLUTES, SOLVENTS)
    assert len(loaded.model.encoders()) == (1 if shared else 2)
    torch.testing.assert_close(loaded.model(rows), net(rows))


def test_a_model_of_several_molecules_needs_their_components():
    alone = next(prediction_inputs(SOLUTES, {}).batches(4))
    for shared in (False, True):
        with pytest.raises(ValueError, match=r"reads several molecules per input.*'component'"):
            model(shared)(alone)
