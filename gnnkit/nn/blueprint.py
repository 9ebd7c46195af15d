r"""Compose a model from blueprint stages (certified by :mod:`gnnkit.symmetry.blueprint`).

.. math::
    f = H \circ A \circ \sigma_J \circ B_J \circ P_{J-1} \circ \dots \circ P_1 \circ \sigma_1
    \circ B_1

- **B** (``"equivariant"``): permutation-equivariant layers — gnnkit's convolutions (PyG's
  ``GCNConv``, ``GATConv``, ``SAGEConv`` and ``GINConv`` among them) and any node-wise map
  (``nn.Linear``, ``nn.LayerNorm``);
- **σ** (``"pointwise"``): element-wise nonlinearities (``nn.ReLU``, ``nn.SiLU``, …);
- **P** (``"coarsening"``): pooling that returns a smaller graph (:class:`TopKCoarsening`);
- **A** (``"readout"``): one permutation-invariant readout, which ends the graph part;
- **H**: an optional head applied to the invariant graph vector (any module).

Each stage declares its role with a ``blueprint_role`` attribute (gnnkit's own layers do); plain
torch activations, node-wise maps and the PyG convolutions that gnnkit re-exports (and
certifies) are recognised by type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch
import torch_geometric.nn
from torch import Tensor, nn
from torch_geometric.data import Data

from gnnkit.nn.graph_call import call_on_graph, num_graphs_of
from gnnkit.nn.pool import PooledGraph

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
#: PyG convolutions that gnnkit re-exports and certifies: equivariant by type.
PYG_EQUIVARIANT_TYPES: tuple[type[nn.Module], ...] = (
    torch_geometric.nn.GCNConv,
    torch_geometric.nn.GATConv,
    torch_geometric.nn.GINConv,
    torch_geometric.nn.SAGEConv,
)
ROLE_SYMBOLS = {"equivariant": "B", "pointwise": "σ", "coarsening": "P", "readout": "A"}


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


def declared_role(module: nn.Module) -> str | None:
    """The blueprint role of ``module``: its ``blueprint_role``, else one known by its type, else
    ``None``."""
    role = getattr(module, "blueprint_role", None)
    if role is not None:
        if role not in ROLE_SYMBOLS:
            raise TypeError(f"{module!r} declares unknown blueprint_role {role!r}")
        return role
    if isinstance(module, POINTWISE_TYPES):
        return "pointwise"
    if isinstance(module, NODEWISE_TYPES + PYG_EQUIVARIANT_TYPES):
        return "equivariant"
    return None


def stage_role(module: nn.Module) -> str:
    """The blueprint role of ``module``; ``TypeError`` if it has none."""
    role = declared_role(module)
    if role is not None:
        return role
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

    def __repr__(self) -> str:
        parts = [f"{ROLE_SYMBOLS[r]}: {s!r}" for s, r in zip(self.stages, self.roles)]
        if self.head is not None:
            parts.append(f"head: {self.head!r}")
        body = "".join(f"\n  {part}" for part in parts)
        return f"{type(self).__name__}({body}\n)"
