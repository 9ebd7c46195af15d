"""One scatter entry point for gnnkit's own scatters (readouts, DeepSets, D-MPNN, softmax).

A scatter reduces the rows of ``src`` that share an ``index`` value:

.. math::
    \\mathrm{out}_i = \\bigoplus_{j \\,:\\, \\mathrm{index}_j = i} \\mathrm{src}_j,
    \\qquad \\bigoplus \\in \\{\\sum, \\mathrm{mean}, \\max, \\min\\}

Two backends compute it: native torch (``Tensor.index_add_`` for sum and mean,
``Tensor.scatter_reduce_`` for max and min) and ``torch_scatter`` (when the package is
importable). ``GNNKIT_SCATTER=auto|torch|torch_scatter`` picks the backend at import time;
:func:`set_backend` and :func:`use_backend` switch at run time. ``auto`` (the default) follows
the device-aware policy of ``torch_geometric.utils.scatter``: native torch everywhere, except
max and min on a CUDA tensor that needs a gradient, which go to torch-scatter when it is
installed (as PyG does), and never while ``torch.compile`` traces
(native kernels compile without graph breaks). ``torch`` and ``torch_scatter`` force one
backend for every reduction. The layers built on PyG's ``MessagePassing`` aggregate through
PyG's own ``torch_geometric.utils.scatter``, which applies the same policy.

Defined answers on edge cases, identical for both backends:

* an empty ``index`` gives a zero tensor with ``dim_size`` rows (0 when not given);
* ``dim_size`` larger than ``index.max() + 1`` pads with rows that received nothing;
* a row that receives nothing is ``0`` for every reduction (never ``±inf``);
* non-contiguous ``src`` is accepted.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Iterator
from typing import Literal

import torch
from torch import Tensor

Reduce = Literal["sum", "mean", "max", "min"]
Backend = Literal["torch", "torch_scatter"]
Choice = Literal["auto", "torch", "torch_scatter"]

REDUCTIONS: tuple[str, ...] = ("sum", "mean", "max", "min")
BACKEND_ENV = "GNNKIT_SCATTER"
#: Reductions that ``auto`` gives to torch-scatter (when installed) on CUDA with gradients.
TORCH_SCATTER_REDUCTIONS: frozenset[str] = frozenset({"max", "min"})

_torch_scatter = None


def torch_scatter_available() -> bool:
    """Whether the optional ``torch_scatter`` package can be imported."""
    return importlib.util.find_spec("torch_scatter") is not None


def available_backends() -> list[str]:
    """The backends that can run here, native torch first."""
    return ["torch", "torch_scatter"] if torch_scatter_available() else ["torch"]


def _check(choice: str) -> Choice:
    if choice in ("auto", "torch"):
        return choice  # type: ignore[return-value]
    if choice == "torch_scatter":
        if not torch_scatter_available():
            raise RuntimeError(
                "scatter backend 'torch_scatter' was requested but torch-scatter is not "
                "installed; install it with `pip install --no-build-isolation torch-scatter` "
                "(or gnnkit's `scatter` extra), or use GNNKIT_SCATTER=torch"
            )
        return "torch_scatter"
    raise ValueError(
        f"unknown scatter backend {choice!r}; expected one of auto, torch, torch_scatter"
    )


_choice: Choice = _check(os.environ.get(BACKEND_ENV, "auto"))
_auto_uses_torch_scatter = torch_scatter_available()


def get_backend() -> Choice:
    """The backend setting: ``"auto"``, ``"torch"`` or ``"torch_scatter"``."""
    return _choice


def backend_for(
    reduce: str, device: torch.device | str = "cpu", requires_grad: bool = False
) -> Backend:
    """The backend that computes ``reduce`` on ``device`` under the current setting.

    Under ``auto``: torch-scatter for max and min on CUDA when the input needs a gradient and
    no ``torch.compile`` trace is running; native torch otherwise.
    """
    if _choice != "auto":
        return _choice
    use = (
        _auto_uses_torch_scatter
        and reduce in TORCH_SCATTER_REDUCTIONS
        and torch.device(device).type == "cuda"
        and requires_grad
        and not torch.compiler.is_compiling()
    )
    return "torch_scatter" if use else "torch"


def describe_backend() -> str:
    """One line saying which backend computes each reduction, e.g. for reports."""
    parts: dict[str, list[str]] = {}
    for reduce in REDUCTIONS:
        parts.setdefault(backend_for(reduce), []).append(reduce)
    detail = "; ".join(f"{'/'.join(r)}: {b}" for b, r in parts.items())
    if _choice == "auto" and _auto_uses_torch_scatter:
        reductions = "/".join(r for r in REDUCTIONS if r in TORCH_SCATTER_REDUCTIONS)
        detail += f"; {reductions} on CUDA with gradients: torch_scatter"
    return f"{_choice} ({detail})"


def set_backend(choice: str) -> Choice:
    """Switch the backend (``"auto"``, ``"torch"`` or ``"torch_scatter"``); returns it."""
    global _choice
    _choice = _check(choice)
    return _choice


@contextlib.contextmanager
def use_backend(choice: str) -> Iterator[Choice]:
    """Context manager that runs its body with another backend, then restores the previous one."""
    previous = _choice
    try:
        yield set_backend(choice)
    finally:
        set_backend(previous)


def _broadcast_index(index: Tensor, src: Tensor, dim: int) -> Tensor:
    """View a 1-D ``index`` of length ``src.size(dim)`` with the shape of ``src``."""
    shape = [1] * src.dim()
    shape[dim] = -1
    return index.view(shape).expand_as(src)


def index_counts(index: Tensor, size: int) -> Tensor:
    """How often each of ``0 … size − 1`` occurs in the 1-D ``index`` ``[size]``, by
    ``index_add_`` of ones: unlike ``bincount``, no host sync on CUDA."""
    return index.new_zeros(size).index_add_(0, index, torch.ones_like(index))


def _scatter_torch(src: Tensor, index: Tensor, dim: int, dim_size: int, reduce: str) -> Tensor:
    size = list(src.shape)
    size[dim] = dim_size
    if reduce in ("sum", "mean"):
        # index_add_ takes the 1-D index as it is: about twice as fast as scatter_add_ with a
        # broadcast index, forward and backward.
        out = src.new_zeros(size).index_add_(dim, index, src)
        if reduce == "mean":
            count = index_counts(index, dim_size).clamp_(min=1)
            shape = [1] * src.dim()
            shape[dim] = -1
            out = out / count.view(shape).to(src.dtype)
        return out
    torch_reduce = "amax" if reduce == "max" else "amin"
    return src.new_zeros(size).scatter_reduce_(
        dim, _broadcast_index(index, src, dim), src, reduce=torch_reduce, include_self=False
    )


def _scatter_torch_scatter(
    src: Tensor, index: Tensor, dim: int, dim_size: int, reduce: str
) -> Tensor:
    global _torch_scatter
    if _torch_scatter is None:
        import torch_scatter

        _torch_scatter = torch_scatter
    return _torch_scatter.scatter(src, index, dim=dim, dim_size=dim_size, reduce=reduce)


def scatter(
    src: Tensor,
    index: Tensor,
    dim: int = 0,
    dim_size: int | None = None,
    reduce: Reduce = "sum",
) -> Tensor:
    """Reduce slices of ``src`` along ``dim`` into the rows named by ``index``.

    Args:
        src: values, any shape; ``src.size(dim)`` equals ``index.numel()``.
        index: 1-D ``long`` tensor of target rows, ``[src.size(dim)]``.
        dim: the dimension of ``src`` that ``index`` runs along.
        dim_size: rows of the output along ``dim``; ``index.max() + 1`` when omitted
            (0 for an empty ``index``), which costs a host sync on CUDA: callers that know
            the size (nodes, graphs of a batch) pass it.
        reduce: ``"sum"``, ``"mean"``, ``"max"`` or ``"min"``.

    Shapes:
        ``src``: ``[*, E, *]`` with ``E`` at ``dim``; ``index``: ``[E]``;
        output: ``[*, dim_size, *]``.

    Rows that receive nothing are 0 for every reduction.
    """
    if reduce not in REDUCTIONS:
        raise ValueError(f"unknown reduce {reduce!r}; expected one of {', '.join(REDUCTIONS)}")
    if index.dim() != 1:
        raise ValueError(f"index must be 1-D, got shape {tuple(index.shape)}")
    dim = dim % src.dim() if src.dim() > 0 else 0
    if src.size(dim) != index.numel():
        raise ValueError(
            f"src has {src.size(dim)} entries along dim {dim} but index has {index.numel()}"
        )
    if dim_size is None:
        dim_size = int(index.max()) + 1 if index.numel() > 0 else 0
    if index.numel() == 0:
        size = list(src.shape)
        size[dim] = dim_size
        return src.new_zeros(size)
    if backend_for(reduce, src.device, src.requires_grad) == "torch_scatter":
        return _scatter_torch_scatter(src, index, dim, dim_size, reduce)
    return _scatter_torch(src, index, dim, dim_size, reduce)


def scatter_softmax(src: Tensor, index: Tensor, dim_size: int | None = None) -> Tensor:
    """Softmax of ``src`` over the entries that share an ``index`` value (along dim 0).

    .. math::
        \\mathrm{out}_j = \\frac{\\exp(s_j - m_{i})}{\\sum_{k:\\,\\mathrm{index}_k = i}
        \\exp(s_k - m_{i})}, \\qquad i = \\mathrm{index}_j,\\;
        m_i = \\max_{k:\\,\\mathrm{index}_k = i} s_k

    Shapes:
        ``src``: ``[E, *]``; ``index``: ``[E]``; output: ``[E, *]``.

    Subtracting the (detached) group maximum keeps ``exp`` finite; it does not change the value
    or the gradient.
    """
    if index.numel() == 0:
        return src.clone()
    group_max = scatter(src.detach(), index, dim=0, dim_size=dim_size, reduce="max")
    exp = (src - group_max.index_select(0, index)).exp()
    denominator = scatter(exp, index, dim=0, dim_size=dim_size, reduce="sum")
    return exp / denominator.index_select(0, index)
