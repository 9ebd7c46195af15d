"""Scatter kernels against a dense reference, over every backend and device."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnkit.ops import (
    available_backends,
    backend_for,
    describe_backend,
    get_backend,
    scatter,
    scatter_softmax,
    torch_scatter_available,
    use_backend,
)
from gnnkit.ops.scatter import REDUCTIONS

DENSE = {
    "sum": lambda rows: rows.sum(dim=0),
    "mean": lambda rows: rows.mean(dim=0),
    "max": lambda rows: rows.max(dim=0).values,
    "min": lambda rows: rows.min(dim=0).values,
}


def dense_scatter(src: torch.Tensor, index: torch.Tensor, dim_size: int, reduce: str):
    """Row by row: reduce the rows of ``src`` sent to each target; 0 where none arrive."""
    rows = []
    for target in range(dim_size):
        selected = src[index == target]
        rows.append(DENSE[reduce](selected) if len(selected) else src.new_zeros(src.shape[1:]))
    return torch.stack(rows)


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_matches_dense_reference_values_and_gradients(scatter_backend, device, reduce):
    generator = torch.Generator().manual_seed(0)
    src = torch.randn(40, 3, 5, generator=generator, dtype=torch.float64).to(device)
    index = torch.randint(0, 9, (40,), generator=generator).to(device)
    src.requires_grad_(True)
    expected = dense_scatter(src, index, 12, reduce)
    out = scatter(src, index, dim=0, dim_size=12, reduce=reduce)
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)

    weights = torch.randn(out.shape, generator=generator, dtype=torch.float64).to(device)
    (grad,) = torch.autograd.grad((out * weights).sum(), src)
    (grad_expected,) = torch.autograd.grad((expected * weights).sum(), src)
    torch.testing.assert_close(grad, grad_expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_targets_that_receive_nothing_are_zero(scatter_backend, device, reduce):
    src = torch.tensor([[1.0, -2.0], [3.0, -4.0]], device=device)
    index = torch.tensor([1, 1], device=device)
    out = scatter(src, index, dim=0, dim_size=4, reduce=reduce)
    assert out.shape == (4, 2)
    assert torch.isfinite(out).all()
    assert out[[0, 2, 3]].abs().sum() == 0
    assert out[1].tolist() == DENSE[reduce](src).tolist()


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_empty_index(scatter_backend, device, reduce):
    src = torch.empty(0, 3, device=device)
    index = torch.empty(0, dtype=torch.long, device=device)
    assert scatter(src, index, reduce=reduce).shape == (0, 3)
    out = scatter(src, index, dim_size=5, reduce=reduce)
    assert out.shape == (5, 3) and out.abs().sum() == 0


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_non_contiguous_input_and_other_dim(scatter_backend, device, reduce):
    generator = torch.Generator().manual_seed(1)
    base = torch.randn(6, 30, generator=generator).to(device)
    src = base.t()  # [30, 6], not contiguous
    assert not src.is_contiguous()
    index = torch.randint(0, 7, (30,), generator=generator).to(device)
    expected = dense_scatter(src.contiguous(), index, 7, reduce)
    torch.testing.assert_close(scatter(src, index, dim_size=7, reduce=reduce), expected)
    # The same reduction along dim 1 of the transposed layout.
    torch.testing.assert_close(scatter(base, index, dim=1, dim_size=7, reduce=reduce), expected.t())


def test_dim_size_defaults_to_largest_index_plus_one(scatter_backend):
    out = scatter(torch.ones(3, 2), torch.tensor([0, 4, 4]))
    assert out.tolist() == [[1, 1], [0, 0], [0, 0], [0, 0], [2, 2]]


def test_bad_arguments_name_the_problem():
    with pytest.raises(ValueError, match="unknown reduce 'prod'"):
        scatter(torch.ones(2), torch.tensor([0, 1]), reduce="prod")
    with pytest.raises(ValueError, match="src has 3 entries along dim 0 but index has 2"):
        scatter(torch.ones(3), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="index must be 1-D"):
        scatter(torch.ones(2, 2), torch.zeros(2, 2, dtype=torch.long))


def test_softmax_matches_per_group_softmax(scatter_backend, device):
    generator = torch.Generator().manual_seed(2)
    logits = (50 * torch.randn(25, 2, generator=generator, dtype=torch.float64)).to(device)
    index = torch.randint(0, 6, (25,), generator=generator).to(device)
    logits.requires_grad_(True)
    out = scatter_softmax(logits, index, dim_size=8)
    expected = torch.empty_like(logits)
    for group in index.unique():
        mask = index == group
        expected[mask] = torch.softmax(logits[mask], dim=0)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(
        scatter(out, index, dim_size=6),
        (torch.bincount(index, minlength=6) > 0).to(out.dtype).unsqueeze(-1).expand(-1, 2),
    )
    weights = torch.randn(out.shape, generator=generator, dtype=torch.float64).to(device)
    (grad,) = torch.autograd.grad((out * weights).sum(), logits)
    (grad_expected,) = torch.autograd.grad((expected * weights).sum(), logits)
    torch.testing.assert_close(grad, grad_expected)


def test_backends_agree_with_each_other(device):
    if not torch_scatter_available():
        pytest.skip("torch-scatter is not installed: only the native backend can run")

    generator = torch.Generator().manual_seed(3)
    src = torch.randn(500, 16, generator=generator).to(device)
    index = torch.randint(0, 50, (500,), generator=generator).to(device)
    for reduce in REDUCTIONS:
        results = []
        for backend in ("torch", "torch_scatter"):
            with use_backend(backend):
                leaf = src.clone().requires_grad_(True)
                out = scatter(leaf, index, dim_size=60, reduce=reduce)
                out.pow(2).sum().backward()
                results.append((out, leaf.grad))
        torch.testing.assert_close(results[0][0], results[1][0])
        torch.testing.assert_close(results[0][1], results[1][1])


def test_ci_exercises_torch_scatter():
    """CI installs the `scatter` extra so that both backends are tested."""
    if os.environ.get("CI", "").lower() not in ("1", "true"):
        pytest.skip("only required in CI")
    assert torch_scatter_available()


def _backend_in_subprocess(choice: str) -> subprocess.CompletedProcess:
    code = (
        "from gnnkit.ops import get_backend, backend_for; "
        "print(get_backend(), backend_for('sum'), backend_for('max'))"
    )
    env = {**os.environ, "GNNKIT_SCATTER": choice}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )


def test_environment_variable_forces_a_backend():
    assert _backend_in_subprocess("torch").stdout.split() == ["torch", "torch", "torch"]
    auto = _backend_in_subprocess("auto").stdout.split()
    assert auto == ["auto", "torch", "torch"]
    bad = _backend_in_subprocess("cupy")
    assert bad.returncode != 0
    assert "unknown scatter backend 'cupy'" in bad.stderr
    forced = _backend_in_subprocess("torch_scatter")
    if torch_scatter_available():
        assert forced.stdout.split() == ["torch_scatter"] * 3
    else:
        assert "torch-scatter is not installed" in forced.stderr


def test_auto_follows_the_device_aware_policy():
    """Native torch on the CPU and without gradients; torch-scatter only for max and min on
    CUDA with gradients, when it is installed."""
    with use_backend("auto"):
        assert backend_for("max", "cpu", requires_grad=True) == "torch"
        assert backend_for("max", "cuda", requires_grad=False) == "torch"
        assert backend_for("sum", "cuda", requires_grad=True) == "torch"
        expected = "torch_scatter" if torch_scatter_available() else "torch"
        assert backend_for("max", "cuda", requires_grad=True) == expected
        assert backend_for("min", "cuda", requires_grad=True) == expected
    with use_backend("torch"):
        assert backend_for("max", "cuda", requires_grad=True) == "torch"


def test_describe_backend_names_each_reduction():
    with use_backend("torch"):
        assert describe_backend() == "torch (sum/mean/max/min: torch)"


def test_use_backend_restores_previous_backend():
    before = get_backend()
    with use_backend("torch"):
        assert get_backend() == "torch"
    assert get_backend() == before


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(0, 30),
    width=st.integers(1, 4),
    extra=st.integers(0, 5),
    reduce=st.sampled_from(REDUCTIONS),
    seed=st.integers(0, 2**16),
)
def test_any_shape_matches_dense_reference(rows, width, extra, reduce, seed):
    generator = torch.Generator().manual_seed(seed)
    targets = max(1, rows // 2)
    src = torch.randn(rows, width, generator=generator, dtype=torch.float64)
    index = torch.randint(0, targets, (rows,), generator=generator)
    dim_size = targets + extra
    for backend in available_backends():
        with use_backend(backend):
            out = scatter(src, index, dim_size=dim_size, reduce=reduce)
        torch.testing.assert_close(out, dense_scatter(src, index, dim_size, reduce))
