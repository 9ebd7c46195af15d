"""Numeric certificate of E(n) equivariance / invariance (rotations, reflections, translations)."""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from gnnkit.nn.graph_call import call_on_graph
from gnnkit.symmetry.certificate import (
    Certificate,
    WorstCase,
    guarded_call,
    module_name,
    scaled_error,
)
from gnnkit.symmetry.relabel import GraphSizes, graph_of_edges, graph_of_nodes, graph_sizes

#: How an output transforms under ``pos ↦ pos Qᵀ + t``.
OUTPUT_KINDS = ("invariant", "position", "vector")
MOVED = "outputs do not follow a separate rigid motion of each graph"


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


@dataclass(frozen=True, slots=True)
class RigidMotions:
    """One rigid motion ``r ↦ r Qᵀ + t`` per graph: ``rotations`` ``[G, n, n]`` (orthogonal,
    reflections included) and ``shifts`` ``[G, n]``, float64."""

    rotations: Tensor
    shifts: Tensor

    def apply(self, value: Tensor, kind: str, owner: Tensor | None) -> Tensor:
        """Move ``value`` ``[R, n]``, row ``r`` by the motion of graph ``owner[r]``, as an
        output of ``kind`` moves: ``"invariant"`` not at all (``owner`` may be ``None``),
        ``"vector"`` by ``Q``, ``"position"`` by ``Q`` and ``t``."""
        if kind == "invariant" or owner is None:
            return value
        rotated = torch.einsum("rj,rkj->rk", value, self.rotations[owner])
        return rotated + self.shifts[owner] if kind == "position" else rotated


def random_motions(
    num_graphs: int, dim: int, generator: torch.Generator, *, trial: int, device: torch.device
) -> RigidMotions:
    """An independent random rigid motion of every graph, drawn on the CPU (so a certificate is
    the same on every device) and moved to ``device``. Graph ``g`` is reflected when
    ``trial + g`` is odd, so rotations and reflections meet in every batch."""
    rotations = torch.stack(
        [
            random_orthogonal(dim, generator, reflect=(trial + graph) % 2 == 1)
            for graph in range(num_graphs)
        ]
    )
    shifts = 10.0 * torch.randn(num_graphs, dim, generator=generator, dtype=torch.float64)
    return RigidMotions(rotations.to(device), shifts.to(device))


def _owners(data: Any, sizes: GraphSizes) -> dict[str, Tensor]:
    """The graph of every node, edge and graph row of ``data``."""
    batch = graph_of_nodes(data)
    return {
        "node": batch,
        "edge": graph_of_edges(data),
        "graph": torch.arange(sizes.graphs, device=batch.device),
    }


def _float64(data: Any) -> Any:
    """A copy of ``data`` with every floating-point tensor in float64."""
    graph = data.clone()
    for key, value in data.items():
        if isinstance(value, Tensor) and value.is_floating_point():
            graph[key] = value.double()
    return graph


def _outputs(result: Any) -> list[Tensor]:
    """A module's output as a list of tensors."""
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _declared_kinds(
    module: nn.Module, references: list[Tensor], outputs: Sequence[str] | None
) -> tuple[str, ...]:
    """The kind of every output: ``outputs`` if given, else :func:`output_kinds`."""
    kinds = tuple(outputs) if outputs is not None else output_kinds(module, len(references))
    if set(kinds) - set(OUTPUT_KINDS) or len(kinds) != len(references):
        raise ValueError(
            f"outputs must name one of {OUTPUT_KINDS} per output ({len(references)}), got {kinds}"
        )
    return kinds


def _row_graphs(
    output: Tensor, kind: str, sizes: GraphSizes, owners: dict[str, Tensor]
) -> Tensor | None:
    """The graph of each row of an output that moves (``None`` for an invariant one)."""
    if kind == "invariant":
        return None
    level = sizes.level_of(output.size(0), f"the number of rows of a {kind} output")
    if level is None:
        raise ValueError(
            f"a {kind} output has {output.size(0)} rows, not one per node, edge or graph"
        )
    return owners[level]


def check_euclidean(
    module: nn.Module,
    data: Any,
    *,
    trials: int = 8,
    rtol: float = 1e-9,
    seed: int = 0,
    outputs: Sequence[str] | None = None,
    name: str | None = None,
) -> Certificate:
    """Certify that ``module`` respects a separate rigid motion of each graph's ``pos``, in
    float64.

    Each trial draws, for every graph ``g`` of the batch, an orthogonal ``Q_g`` (rotations and
    reflections) and a translation ``t_g``, and feeds ``pos_i Q_gᵀ + t_g`` for the nodes ``i``
    of ``g``: a module that lets graphs of a batch see each other's coordinates fails. Each
    output must move as its kind says (``outputs``, one per output; by default ``pos``
    outputs are positions and the rest invariant), row by row with the motion of the row's
    graph (rows are node-, edge- or graph-level by their number):

    - ``"invariant"``: unchanged;
    - ``"position"``: ``y Q_gᵀ + t_g``;
    - ``"vector"``: ``y Q_gᵀ``.

    Errors are relative to each output's scale (:func:`~gnnkit.symmetry.certificate.
    scaled_error`); a module that raises on moved coordinates fails with the error as the
    reason. The module is deep-copied and converted to float64; the caller's module is
    untouched. Motions are drawn on the CPU and moved to the data's device.
    """
    if getattr(data, "pos", None) is None:
        raise ValueError("check_euclidean needs data with node coordinates `pos`")
    model = copy.deepcopy(module).double().eval()
    graph = _float64(data)
    sizes = graph_sizes(graph)
    owners = _owners(graph, sizes)
    dim = graph.pos.size(-1)
    generator = torch.Generator().manual_seed(seed)
    worst = WorstCase()
    with torch.no_grad():
        references = _outputs(call_on_graph(model, graph))
        kinds = _declared_kinds(module, references, outputs)
        row_graphs = [_row_graphs(r, k, sizes, owners) for r, k in zip(references, kinds)]
        for trial in range(trials):
            motions = random_motions(
                sizes.graphs, dim, generator, trial=trial, device=graph.pos.device
            )
            moved = graph.clone()
            moved.pos = motions.apply(graph.pos, "position", owners["node"])
            result, failure = guarded_call(model, moved, f"moved coordinates (trial {trial})")
            if failure:
                worst.update(math.inf, failure)
                continue
            results = _outputs(result)
            errors = [
                scaled_error(out, motions.apply(ref, kind, rows))
                for ref, out, kind, rows in zip(references, results, kinds, row_graphs)
            ]
            worst.update(max(errors) if len(results) == len(references) else math.inf, MOVED)
    kind = "invariant" if all(k == "invariant" for k in kinds) else "equivariant"
    return Certificate(
        name or module_name(module),
        f"E({dim})",
        kind,
        worst.error,
        rtol,
        trials,
        detail=worst.detail,
    )
