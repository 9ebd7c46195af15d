"""The record a symmetry check returns, and the error measure it holds."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import Tensor, nn

from gnnkit.nn.graph_call import call_on_graph


@dataclass(frozen=True, slots=True)
class Certificate:
    """Outcome of checking one component against one symmetry group.

    Attributes:
        component: what was checked (usually the module's repr).
        symmetry: the group, ``"permutation"`` or ``"E(3)"``.
        kind: what the outputs did — ``"equivariant"`` (some output transforms with the input)
            or ``"invariant"`` (every output is unchanged).
        max_error: the largest relative error over all comparisons, see :func:`scaled_error`;
            ``inf`` when an output had the wrong shape or the module raised.
        rtol: the tolerance ``max_error`` is held to.
        trials: how many random group elements were drawn.
        expected: the kind the component promises, if stated; a different ``kind`` fails.
        detail: what the comparison that gave ``max_error`` did (what broke, when it failed).
    """

    component: str
    symmetry: str
    kind: str
    max_error: float
    rtol: float
    trials: int
    expected: str | None = None
    detail: str = ""

    @property
    def kind_kept(self) -> bool:
        """Whether the kind is the promised one (or none was promised)."""
        return self.expected is None or self.expected == self.kind

    @property
    def within_tolerance(self) -> bool:
        """Whether ``max_error`` is finite and at most ``rtol``."""
        return math.isfinite(self.max_error) and self.max_error <= self.rtol

    @property
    def passed(self) -> bool:
        """Errors are finite and within ``rtol``, and the kind is the promised one."""
        return self.kind_kept and self.within_tolerance

    @property
    def reason(self) -> str:
        """Why the certificate failed, ``""`` when it passed."""
        reasons = [] if self.kind_kept else [f"{self.kind}, promised {self.expected}"]
        if not self.within_tolerance:
            reasons.append(self.detail or f"error above rtol {self.rtol:.0e}")
        return "; ".join(reasons)

    def expecting(self, kind: str) -> Certificate:
        """This certificate, held to the promise that the component is ``kind``."""
        return replace(self, expected=kind)

    def __repr__(self) -> str:
        verdict = "PASSED" if self.passed else f"FAILED: {self.reason}"
        promise = "" if self.kind_kept else f" (promised {self.expected})"
        return (
            f"Certificate({self.component}: {self.symmetry}-{self.kind}{promise}, "
            f"max error {self.max_error:.2e} vs rtol {self.rtol:.0e}, "
            f"{self.trials} trials: {verdict})"
        )


@dataclass(slots=True)
class WorstCase:
    """The largest error seen so far and what produced it."""

    error: float = 0.0
    detail: str = ""

    def update(self, error: float, detail: str) -> None:
        """Keep ``(error, detail)`` if ``error`` is the largest yet."""
        if error > self.error:
            self.error, self.detail = error, detail


def scaled_error(actual: Tensor, expected: Tensor) -> float:
    r"""Relative error of one output: :math:`\max_k |a_k - e_k| \,/\, (\max_k |e_k| + \epsilon)`.

    The scale is the largest magnitude over the whole ``expected`` tensor, not each entry: the
    rounding error of a float computation is bounded by the unit roundoff times the magnitudes
    it went through, which the output's largest entry tracks. Per-entry scaling would flag
    entries that cancel to near zero, and a root-mean-square scale shrinks for sparse outputs
    (ReLU zeros, one-hot rows) until rounding fails the check; a floor such as
    ``max(1, |e|)`` makes the tolerance absolute for small outputs. :math:`\epsilon` is the
    smallest normal float64, so an output that is exactly zero must stay exactly zero.

    Returns ``inf`` on a shape mismatch or a non-finite difference, ``0.0`` for empty tensors.
    """
    if actual.shape != expected.shape:
        return math.inf
    if actual.numel() == 0:
        return 0.0
    difference = (actual.double() - expected.double()).abs().max().item()
    scale = expected.double().abs().max().item() + torch.finfo(torch.float64).tiny
    return difference / scale if math.isfinite(difference) else math.inf


def first_sentence(text: str) -> str:
    """The first sentence of the first line of ``text`` (an error message)."""
    line = text.strip().split("\n", 1)[0]
    return line.split(". ", 1)[0].rstrip(".")


def guarded_call(module: nn.Module, graph: Any, where: str) -> tuple[Any, str]:
    """``(output, "")`` of ``module`` on ``graph``, or ``(None, failure)`` if it raises.

    A module that cannot run on a relabelled or moved input (say, an aggregator that needs its
    edges sorted) fails its certificate with the error as the reason instead of stopping the
    check; ``where`` names the input in that reason.
    """
    try:
        return call_on_graph(module, graph), ""
    except Exception as error:  # any error of the module fails its certificate
        return None, f"raises {type(error).__name__} on {where}: {first_sentence(str(error))}"


@contextmanager
def evaluating(module: nn.Module) -> Iterator[None]:
    """Run ``module`` in eval mode without gradients; its training flag is restored after."""
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        module.train(was_training)


def module_name(module: nn.Module) -> str:
    """A one-line name for a module in tables and certificates."""
    text = repr(module)
    return text if "\n" not in text else type(module).__name__
