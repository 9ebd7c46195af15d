"""E(n)-equivariant graph layer (Satorras, Hoogeboom & Welling, 2021)."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing
from torch_geometric.nn.aggr import MeanAggregation


class EGNNConv(MessagePassing):
    r"""EGNN layer: invariant node features and an E(n)-equivariant coordinate update.

    .. math::
        \mathbf{m}_{ij} &= \phi_e\big(\mathbf{h}_i, \mathbf{h}_j,
            \lVert \mathbf{x}_i - \mathbf{x}_j \rVert^2, \mathbf{a}_{ij}\big) \\
        \mathbf{x}'_i &= \mathbf{x}_i + \frac{1}{|\mathcal{N}(i)|}
            \sum_{j \in \mathcal{N}(i)} (\mathbf{x}_i - \mathbf{x}_j)\,
            \phi_x(\mathbf{m}_{ij}) \\
        \mathbf{h}'_i &= [\mathbf{h}_i]_{\text{residual}} + \phi_h\Big(\mathbf{h}_i,
            \sum_{j \in \mathcal{N}(i)} \mathbf{m}_{ij}\Big)

    Only squared distances enter :math:`\phi_e`, so :math:`\mathbf{h}'` is invariant and
    :math:`\mathbf{x}'` equivariant under rotations, reflections and translations of
    :math:`\mathbf{x}` (and both are permutation-equivariant).

    A PyG :class:`~torch_geometric.nn.MessagePassing` layer: :meth:`message` computes
    :math:`\mathbf{m}_{ij}` and the coordinate term :math:`(\mathbf{x}_i - \mathbf{x}_j)\,
    \phi_x(\mathbf{m}_{ij})` once per edge, and :meth:`aggregate` sums the first (``aggr``) and
    averages the second (``coordinate_aggr``). PyG has no layer of this name.

    Args:
        in_channels: invariant input features per node.
        out_channels: invariant output features per node.
        hidden_channels: width of the message MLPs (default ``out_channels``).
        edge_dim: features per edge :math:`\mathbf{a}_{ij}` (0 for none).
        residual: add :math:`\mathbf{h}_i` to the feature update (needs in = out channels).
        update_coordinates: compute :math:`\mathbf{x}'`; if ``False`` the positions pass through.

    Shapes:
        - **input:** ``x`` ``[N, in_channels]``, ``pos`` ``[N, n]``, ``edge_index`` ``[2, E]``,
          ``edge_attr`` ``[E, edge_dim]`` (optional)
        - **output:** ``(x', pos')`` — ``[N, out_channels]`` and ``[N, n]``
    """

    blueprint_role = "equivariant"
    output_names: ClassVar[tuple[str, ...]] = ("x", "pos")

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        hidden_channels: int | None = None,
        edge_dim: int = 0,
        residual: bool = True,
        update_coordinates: bool = True,
    ) -> None:
        super().__init__(aggr="sum")
        hidden_channels = hidden_channels or out_channels
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.edge_dim = edge_dim
        self.residual = residual and in_channels == out_channels
        self.update_coordinates = update_coordinates
        self.coordinate_aggr = MeanAggregation()
        self.edge_mlp = nn.Sequential(
            nn.Linear(2 * in_channels + 1 + edge_dim, hidden_channels),
            nn.SiLU(),
            nn.Linear(hidden_channels, hidden_channels),
            nn.SiLU(),
        )
        self.node_mlp = nn.Sequential(
            nn.Linear(in_channels + hidden_channels, hidden_channels),
            nn.SiLU(),
            nn.Linear(hidden_channels, out_channels),
        )
        self.coord_mlp = nn.Sequential(
            nn.Linear(hidden_channels, hidden_channels),
            nn.SiLU(),
            nn.Linear(hidden_channels, 1, bias=False),
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for mlp in (self.edge_mlp, self.node_mlp, self.coord_mlp):
            for layer in mlp:
                if isinstance(layer, nn.Linear):
                    layer.reset_parameters()
        # A small last coordinate layer keeps early coordinate updates gentle (as in the paper).
        nn.init.xavier_uniform_(self.coord_mlp[-1].weight, gain=1e-3)

    def forward(
        self,
        x: Tensor,
        pos: Tensor,
        edge_index: Tensor,
        edge_attr: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        if self.edge_dim and edge_attr is None:
            raise ValueError(f"{self!r} was built with edge_dim={self.edge_dim}: pass edge_attr")
        aggregated, shift = self.propagate(edge_index, x=x, pos=pos, edge_attr=edge_attr)
        if shift is not None:
            pos = pos + shift
        h = self.node_mlp(torch.cat([x, aggregated], dim=-1))
        if self.residual:
            h = x + h
        return h, pos

    def message(
        self, x_i: Tensor, x_j: Tensor, pos_i: Tensor, pos_j: Tensor, edge_attr: Tensor | None
    ) -> tuple[Tensor, Tensor | None]:
        """Per edge ``j → i``: :math:`\\mathbf{m}_{ij}` ``[E, hidden]`` and the coordinate term
        ``[E, n]`` (``None`` when coordinates are not updated)."""
        difference = pos_i - pos_j
        squared_distance = difference.pow(2).sum(dim=-1, keepdim=True)
        edge_input = [x_i, x_j, squared_distance]
        if self.edge_dim:
            edge_input.append(edge_attr.reshape(edge_attr.size(0), self.edge_dim))
        messages = self.edge_mlp(torch.cat(edge_input, dim=-1))
        if not self.update_coordinates:
            return messages, None
        return messages, difference * self.coord_mlp(messages)

    def aggregate(  # type: ignore[override]
        self,
        inputs: tuple[Tensor, Tensor | None],
        index: Tensor,
        ptr: Tensor | None = None,
        dim_size: int | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        """Sum of the messages ``[N, hidden]``, mean of the coordinate terms ``[N, n]``."""
        messages, shifts = inputs
        aggregated = self.aggr_module(messages, index, ptr=ptr, dim_size=dim_size)
        if shifts is None:
            return aggregated, None
        return aggregated, self.coordinate_aggr(shifts, index, ptr=ptr, dim_size=dim_size)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels})"
