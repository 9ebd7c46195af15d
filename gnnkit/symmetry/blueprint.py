"""Certificates of a :class:`~gnnkit.nn.Blueprint`: every stage against its role's promise,
then the whole model."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from gnnkit.nn.blueprint import ROLE_SYMBOLS, Blueprint, GraphState
from gnnkit.nn.graph_call import forward_parameters
from gnnkit.symmetry.certificate import Certificate, evaluating, module_name
from gnnkit.symmetry.euclidean import check_euclidean
from gnnkit.symmetry.permutation import check_permutation

#: What each blueprint role must preserve under a relabelling.
ROLE_PROMISE = {
    "equivariant": "equivariant",
    "pointwise": "equivariant",
    "coarsening": "equivariant",
    "readout": "invariant",
}


def reads_positions(model: Blueprint) -> bool:
    """Whether a stage of ``model`` takes node coordinates ``pos``."""
    return any("pos" in forward_parameters(stage) for stage in model.stages)


def certify_stages(
    model: Blueprint, data: Any, *, trials: int, rtol: float, seed: int, name: str
) -> list[Certificate]:
    """One certificate per stage, each checked on the graph that reaches it and held to its
    role's promise."""
    certificates = []
    state: GraphState | Tensor = GraphState.from_graph(data)
    with evaluating(model):
        for index, (stage, role) in enumerate(zip(model.stages, model.roles)):
            certificate = check_permutation(
                stage,
                state.to_data(),
                trials=trials,
                rtol=rtol,
                seed=seed,
                output_level="graph" if role == "readout" else "node",
                name=f"{name} [{index}:{ROLE_SYMBOLS[role]} {module_name(stage)}]",
            )
            certificates.append(certificate.expecting(ROLE_PROMISE[role]))
            state = model.apply_stage(stage, state)
    return certificates


def certify_blueprint(
    model: Blueprint,
    data: Any,
    *,
    trials: int = 8,
    rtol: float = 1e-5,
    seed: int = 0,
    name: str | None = None,
) -> list[Certificate]:
    """Certify every stage of ``model`` against its role's promise, then the whole model.

    Returns one :class:`~gnnkit.symmetry.Certificate` per stage (checked on the graph that
    reaches it), one for the whole model (permutation-invariant), and — when ``data`` has
    ``pos`` and a stage reads it — one E(3) certificate for the whole model. ``name`` labels
    the rows (default: the chain of stage symbols).
    """
    whole = name or f"{type(model).__name__}({' → '.join(ROLE_SYMBOLS[r] for r in model.roles)})"
    certificates = certify_stages(model, data, trials=trials, rtol=rtol, seed=seed, name=whole)
    certificates.append(
        check_permutation(model, data, trials=trials, rtol=rtol, seed=seed, name=whole).expecting(
            "invariant"
        )
    )
    if getattr(data, "pos", None) is not None and reads_positions(model):
        certificates.append(
            check_euclidean(model, data, trials=trials, seed=seed, name=whole).expecting(
                "invariant"
            )
        )
    return certificates
