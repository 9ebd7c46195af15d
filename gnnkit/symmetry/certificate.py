"""The record a symmetry check returns."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True, slots=True)
class Certificate:
    """Outcome of checking one component against one symmetry group.

    Attributes:
        component: what was checked (usually the module's repr).
        symmetry: the group, ``"permutation"`` or ``"E(3)"``.
        kind: what the outputs did — ``"equivariant"`` (some output transforms with the input)
            or ``"invariant"`` (every output is unchanged).
        max_error: the largest scale-relative error over all trials and outputs,
            ``max |f(g·x) − g·f(x)| / max(1, max |g·f(x)|)``.
        atol: the tolerance ``max_error`` is held to.
        trials: how many random group elements were drawn.
        expected: the kind the component promises, if stated; a different ``kind`` fails.
    """

    component: str
    symmetry: str
    kind: str
    max_error: float
    atol: float
    trials: int
    expected: str | None = None

    @property
    def passed(self) -> bool:
        """Errors are finite and within ``atol``, and the kind is the promised one."""
        kind_ok = self.expected is None or self.expected == self.kind
        return kind_ok and math.isfinite(self.max_error) and self.max_error <= self.atol

    def expecting(self, kind: str) -> Certificate:
        """This certificate, held to the promise that the component is ``kind``."""
        return Certificate(
            self.component, self.symmetry, self.kind, self.max_error, self.atol, self.trials, kind
        )

    def __repr__(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        promise = "" if self.expected in (None, self.kind) else f" (promised {self.expected})"
        return (
            f"Certificate({self.component}: {self.symmetry}-{self.kind}{promise}, "
            f"max error {self.max_error:.2e} vs atol {self.atol:.0e}, "
            f"{self.trials} trials: {verdict})"
        )


def scaled_error(actual: Tensor, expected: Tensor) -> float:
    """``max |actual − expected| / max(1, max |expected|)``; ``inf`` on a shape mismatch."""
    if actual.shape != expected.shape:
        return math.inf
    if actual.numel() == 0:
        return 0.0
    difference = (actual.double() - expected.double()).abs().max().item()
    scale = max(1.0, expected.double().abs().max().item())
    return difference / scale if math.isfinite(difference) else math.inf


def module_name(module: torch.nn.Module) -> str:
    """A one-line name for a module in tables and certificates."""
    text = repr(module)
    return text if "\n" not in text else type(module).__name__
