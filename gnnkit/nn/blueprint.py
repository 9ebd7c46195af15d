r"""Compose a model from blueprint stages and certify it.

.. math::
    f = H \circ A \circ \sigma_J \circ B_J \circ P_{J-1} \circ \dots \circ P_1 \circ \sigma_1
    \circ B_1

- **B** (``"equivariant"``): permutation-equivariant layers — gnnkit's convolutions and any
  node-wise map (``nn.Linear``, ``nn.LayerNorm``);
- **σ** (``"pointwise"``): element-wise nonlinearities (``nn.ReLU``, ``nn.SiLU``, …);
- **P** (``"coarsening"``): pooling that returns a smaller graph (:class:`TopKPooling`);
- **A** (``"readout"``): one permutation-invariant readout, which ends the graph part;
- **H**: an optional head applied to the invariant graph vector (any module).

Each stage declares its role with a ``blueprint_role`` attribute (gnnkit's layers do); plain
torch activations and node-wise maps are recognised by type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from gnnkit.nn.graph_call import call_on_graph, forward_parameters, num_graphs_of
from gnnkit.nn.pool import PooledGraph

if TYPE_CHECKING:
    from gnnkit.symmetry.certificate import Certificate

POINTWISE_TYPES: tuple[type[nn.Module], ...] = (
    nn.ReLU,
    nn.LeakyReLU,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.Tanh,
    nn.Sigmoid,
    nn.Softplus,
    nn.Dropout,
    nn.Identity,
)
NODEWISE_TYPES: tuple[type[nn.Module], ...] = (nn.Linear, nn.LayerNorm)
ROLE_SYMBOLS = {"equivariant": "B", "pointwise": "σ", "coarsening": "P", "readout": "A"}
#: What each role must preserve under a node permutation.
ROLE_PROMISE = {
    "equivariant": "equivariant",
    "pointwise": "equivariant",
    "coarsening": "equivariant",
    "readout": "invariant",
}


class NodeWise(nn.Module):
    """Applies a plain torch module to every node's features: ``x [N, F] → [N, F']``."""

    def __init__(self, module: nn.Module, role: str) -> None:
        super().__init__()
        self.module = module
        self.blueprint_role = role

    def reset_parameters(self) -> None:
        if hasattr(self.module, "reset_parameters"):
            self.module.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        return self.module(x)

    def __repr__(self) -> str:
        return repr(self.module)


@dataclass(slots=True)
class GraphState:
    """The graph flowing between stages."""

    x: Tensor
    edge_index: Tensor
    batch: Tensor
    num_graphs: int
    edge_attr: Tensor | None = None
    pos: Tensor | None = None

    @classmethod
    def from_graph(cls, data: Any) -> GraphState:
        batch = getattr(data, "batch", None)
        if batch is None:
            batch = torch.zeros(data.num_nodes, dtype=torch.long, device=data.x.device)
        return cls(
            x=data.x,
            edge_index=data.edge_index,
            batch=batch,
            num_graphs=num_graphs_of(data),
            edge_attr=getattr(data, "edge_attr", None),
            pos=getattr(data, "pos", None),
        )

    def to_data(self) -> Data:
        fields = {"x": self.x, "edge_index": self.edge_index, "batch": self.batch}
        fields.update(
            {k: v for k, v in (("edge_attr", self.edge_attr), ("pos", self.pos)) if v is not None}
        )
        return Data(**fields)


def stage_role(module: nn.Module) -> str:
    """The blueprint role of ``module``; ``TypeError`` if it has none."""
    role = getattr(module, "blueprint_role", None)
    if role is not None:
        if role not in ROLE_SYMBOLS:
            raise TypeError(f"{module!r} declares unknown blueprint_role {role!r}")
        return role
    if isinstance(module, POINTWISE_TYPES):
        return "pointwise"
    if isinstance(module, NODEWISE_TYPES):
        return "equivariant"
    raise TypeError(
        f"{type(module).__name__} has no blueprint role: give it a `blueprint_role` of "
        f"{', '.join(ROLE_SYMBOLS)}"
    )


class Blueprint(nn.Module):
    """A graph model ``f = H ∘ A ∘ σ ∘ B ∘ P ∘ … ∘ σ ∘ B`` built from stages.

    Args:
        stages: B/σ/P stages in order, then exactly one readout A as the last stage.
        head: optional module on the readout's ``[num_graphs, F]`` output (e.g. an MLP).

    Shapes:
        - **input:** a PyG ``Data``/``Batch`` with ``x`` ``[N, F]``, ``edge_index``
          ``[2, E]`` and optionally ``edge_attr``, ``pos``, ``batch``
        - **output:** ``[num_graphs, out]``
    """

    def __init__(self, stages: Sequence[nn.Module], head: nn.Module | None = None) -> None:
        super().__init__()
        roles = [stage_role(stage) for stage in stages]
        if not roles or roles[-1] != "readout":
            raise ValueError("a blueprint ends its stages with one readout (A)")
        if roles.count("readout") != 1:
            raise ValueError("a blueprint has exactly one readout (A), as its last stage")
        if "equivariant" not in roles:
            raise ValueError("a blueprint needs at least one equivariant layer (B)")
        self.roles = roles
        self.stages = nn.ModuleList(
            NodeWise(stage, role) if isinstance(stage, POINTWISE_TYPES + NODEWISE_TYPES) else stage
            for stage, role in zip(stages, roles)
        )
        self.head = head

    def reset_parameters(self) -> None:
        for module in [*self.stages, self.head]:
            if module is not None and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    @staticmethod
    def apply_stage(stage: nn.Module, state: GraphState) -> GraphState | Tensor:
        """Run one stage; a readout returns the graph vectors, other stages a new state."""
        output = call_on_graph(stage, state)
        if isinstance(output, PooledGraph):
            return replace(
                state,
                x=output.x,
                edge_index=output.edge_index,
                edge_attr=output.edge_attr,
                batch=output.batch,
                pos=output.pos,
            )
        if getattr(stage, "blueprint_role", None) == "readout":
            return output
        names = getattr(stage, "output_names", ("x",))
        values = output if isinstance(output, tuple) else (output,)
        return replace(state, **dict(zip(names, values)))

    def forward(self, data: Any) -> Tensor:
        state: GraphState | Tensor = GraphState.from_graph(data)
        for stage in self.stages:
            state = self.apply_stage(stage, state)
        return self.head(state) if self.head is not None else state

    def uses_positions(self) -> bool:
        return any("pos" in forward_parameters(stage) for stage in self.stages)

    def certify(
        self,
        data: Any,
        *,
        trials: int = 8,
        atol: float = 1e-5,
        seed: int = 0,
        name: str | None = None,
    ) -> list[Certificate]:
        """Certify every stage against its role's promise, then the whole model.

        Returns one :class:`~gnnkit.symmetry.Certificate` per stage (checked on the graph that
        reaches it), one for the whole model (permutation-invariant), and — when ``data`` has
        ``pos`` and a stage reads it — one E(3) certificate for the whole model. ``name``
        labels the rows (default: the chain of stage symbols).
        """
        from gnnkit.symmetry import check_euclidean, check_permutation
        from gnnkit.symmetry.certificate import module_name

        whole = name or f"{type(self).__name__}({' → '.join(ROLE_SYMBOLS[r] for r in self.roles)})"
        certificates = []
        state: GraphState | Tensor = GraphState.from_graph(data)
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                for index, (stage, role) in enumerate(zip(self.stages, self.roles)):
                    certificate = check_permutation(
                        stage,
                        state.to_data(),
                        trials=trials,
                        atol=atol,
                        seed=seed,
                        output_level="graph" if role == "readout" else "node",
                        name=f"{whole} [{index}:{ROLE_SYMBOLS[role]} {module_name(stage)}]",
                    )
                    certificates.append(certificate.expecting(ROLE_PROMISE[role]))
                    state = self.apply_stage(stage, state)
        finally:
            self.train(was_training)
        certificates.append(
            check_permutation(
                self, data, trials=trials, atol=atol, seed=seed, name=whole
            ).expecting("invariant")
        )
        if getattr(data, "pos", None) is not None and self.uses_positions():
            certificates.append(
                check_euclidean(self, data, trials=trials, seed=seed, name=whole).expecting(
                    "invariant"
                )
            )
        return certificates

    def __repr__(self) -> str:
        parts = [f"{ROLE_SYMBOLS[r]}: {s!r}" for s, r in zip(self.stages, self.roles)]
        if self.head is not None:
            parts.append(f"head: {self.head!r}")
        body = "".join(f"\n  {part}" for part in parts)
        return f"{type(self).__name__}({body}\n)"
