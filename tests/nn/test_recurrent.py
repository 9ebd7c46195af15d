"""The time-warping gated cell."""

from __future__ import annotations

import pytest
import torch

from gnnkit.nn.recurrent import GatedRNNCell, run_cell


def test_gate_one_is_a_plain_rnn_and_gate_zero_keeps_the_state():
    torch.manual_seed(0)
    cell = GatedRNNCell(3, 4)
    x, h = torch.randn(2, 3), torch.randn(2, 4)
    w_c, _ = cell.input_map.weight.chunk(2)
    u_c, _ = cell.state_map.weight.chunk(2)
    b_c, _ = cell.input_map.bias.chunk(2)
    with torch.no_grad():
        cell.input_map.bias[4:] = 50.0  # gate ≈ 1
        h_new, gate = cell(x, h)
        torch.testing.assert_close(gate, torch.ones_like(gate))
        torch.testing.assert_close(
            h_new, torch.tanh(x @ w_c.T + h @ u_c.T + b_c), atol=1e-6, rtol=0
        )
        cell.input_map.bias[4:] = -50.0  # gate ≈ 0
        h_kept, _ = cell(x, h)
        torch.testing.assert_close(h_kept, h, atol=1e-6, rtol=0)


def test_constant_gate_is_leaky_integration():
    """With a constant gate γ and a constant target c, the state approaches c as 1 − (1 − γ)^t."""
    cell = GatedRNNCell(1, 1)
    with torch.no_grad():
        cell.input_map.weight.zero_()
        cell.state_map.weight.zero_()
        cell.input_map.bias.copy_(torch.tensor([torch.atanh(torch.tensor(0.5)), 0.0]))  # γ = 0.5
        states, gates = run_cell(cell, torch.zeros(1, 6, 1))
    assert torch.allclose(gates, torch.full_like(gates, 0.5))
    expected = 0.5 * (1 - 0.5 ** torch.arange(1, 7, dtype=torch.float32))
    torch.testing.assert_close(states.flatten(), expected)


def test_chrono_initialisation_spreads_memory_times():
    torch.manual_seed(0)
    cell = GatedRNNCell(2, 500, chrono_max=100.0)
    gate_bias = cell.input_map.bias[500:]
    memory = 1.0 / torch.sigmoid(gate_bias)  # characteristic time 1/Γ with zero input and state
    assert memory.min() >= 1.0 and memory.max() <= 100.0 + 1e-3
    assert memory.median() > 20.0
    with pytest.raises(ValueError, match="chrono_max must exceed 1"):
        GatedRNNCell(2, 3, chrono_max=1.0)


def test_run_cell_shapes_and_gradients():
    cell = GatedRNNCell(3, 5, chrono_max=10.0)
    sequence = torch.randn(4, 7, 3, requires_grad=True)
    states, gates = run_cell(cell, sequence)
    assert states.shape == gates.shape == (4, 7, 5)
    states[:, -1].sum().backward()
    assert sequence.grad.abs().sum() > 0 and repr(cell) == "GatedRNNCell(3, 5)"


def test_plain_cell_is_the_gated_cell_with_its_gate_held_open():
    torch.manual_seed(0)
    gated, plain = GatedRNNCell(3, 4), GatedRNNCell(3, 4, gated=False)
    assert sum(p.numel() for p in plain.parameters()) == (3 + 4 + 1) * 4  # no gate parameters
    assert sum(p.numel() for p in gated.parameters()) == 2 * (3 + 4 + 1) * 4
    with torch.no_grad():
        plain.input_map.weight.copy_(gated.input_map.weight[:4])
        plain.input_map.bias.copy_(gated.input_map.bias[:4])
        plain.state_map.weight.copy_(gated.state_map.weight[:4])
        gated.input_map.bias[4:] = 50.0  # gate ≈ 1
        sequence = torch.randn(2, 6, 3)
        plain_states, plain_gates = run_cell(plain, sequence)
        gated_states, _ = run_cell(gated, sequence)
    assert torch.equal(plain_gates, torch.ones_like(plain_gates))
    torch.testing.assert_close(plain_states, gated_states, atol=1e-6, rtol=0)
    assert repr(plain) == "GatedRNNCell(3, 4, gated=False)"
    with pytest.raises(ValueError, match="gated=False has none"):
        GatedRNNCell(3, 4, chrono_max=10.0, gated=False)
