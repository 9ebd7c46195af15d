"""Numeric certificate of E(n) equivariance / invariance (rotations, reflections, translations)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from gnnkit.nn.graph_call import call_on_graph
from gnnkit.symmetry.certificate import Certificate, module_name, scaled_error

#: How an output transforms under ``pos ↦ pos Qᵀ + t``.
OUTPUT_KINDS = ("invariant", "position", "vector")


def random_orthogonal(dim: int, generator: torch.Generator, *, reflect: bool) -> Tensor:
    """A random orthogonal ``[dim, dim]`` float64 matrix (Haar measure); ``det = −1`` when
    ``reflect`` else ``+1``."""
    gaussian = torch.randn(dim, dim, generator=generator, dtype=torch.float64)
    q, r = torch.linalg.qr(gaussian)
    q = q * torch.sign(torch.diagonal(r))
    if (torch.det(q) < 0) != reflect:
        q[:, 0] = -q[:, 0]
    return q


def output_kinds(module: nn.Module, count: int) -> tuple[str, ...]:
    """Default kinds of a module's outputs: ``pos`` (by ``output_names``) is a position, every
    other output invariant."""
    names = getattr(module, "output_names", ("x",))
    if len(names) != count:
        return ("invariant",) * count
    return tuple("position" if name == "pos" else "invariant" for name in names)


def _transform(value: Tensor, kind: str, rotation: Tensor, shift: Tensor) -> Tensor:
    if kind == "invariant":
        return value
    rotated = value @ rotation.T
    return rotated + shift if kind == "position" else rotated


def check_euclidean(
    module: nn.Module,
    data: Any,
    *,
    trials: int = 8,
    atol: float = 1e-9,
    seed: int = 0,
    outputs: Sequence[str] | None = None,
    name: str | None = None,
) -> Certificate:
    """Certify that ``module`` respects rigid motions of ``data.pos``, in float64.

    Each trial draws an orthogonal ``Q`` (odd trials are reflections) and a translation ``t``
    and feeds ``pos Qᵀ + t``. Each output must transform as its kind says (``outputs``, one per
    output; by default ``pos`` outputs are positions and the rest invariant):

    - ``"invariant"``: unchanged;
    - ``"position"``: ``y Qᵀ + t``;
    - ``"vector"``: ``y Qᵀ``.

    The module is deep-copied and converted to float64; the caller's module is untouched.
    """
    pos = getattr(data, "pos", None)
    if pos is None:
        raise ValueError("check_euclidean needs data with node coordinates `pos`")
    model = copy.deepcopy(module).double().eval()
    graph = data.clone()
    for key in graph.keys():
        value = graph[key]
        if isinstance(value, Tensor) and value.is_floating_point():
            graph[key] = value.double()
    generator = torch.Generator().manual_seed(seed)
    worst = 0.0
    with torch.no_grad():
        reference = call_on_graph(model, graph)
        references = list(reference) if isinstance(reference, (tuple, list)) else [reference]
        kinds = tuple(outputs) if outputs is not None else output_kinds(module, len(references))
        unknown = set(kinds) - set(OUTPUT_KINDS)
        if unknown or len(kinds) != len(references):
            raise ValueError(
                f"outputs must name one of {OUTPUT_KINDS} per output ({len(references)}), "
                f"got {kinds}"
            )
        dim = graph.pos.size(-1)
        for trial in range(trials):
            rotation = random_orthogonal(dim, generator, reflect=trial % 2 == 1)
            shift = 10.0 * torch.randn(dim, generator=generator, dtype=torch.float64)
            moved = graph.clone()
            moved.pos = _transform(graph.pos, "position", rotation, shift)
            result = call_on_graph(model, moved)
            results = list(result) if isinstance(result, (tuple, list)) else [result]
            for ref, out, kind in zip(references, results, kinds):
                expected = _transform(ref, kind, rotation, shift)
                worst = max(worst, scaled_error(out, expected))
    kind = "invariant" if all(k == "invariant" for k in kinds) else "equivariant"
    return Certificate(name or module_name(module), f"E({dim})", kind, worst, atol, trials)
