"""E(n)-equivariant graph layer (Satorras, Hoogeboom & Welling, 2021)."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

from gnnkit.ops import scatter


class EGNNConv(nn.Module):
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
        super().__init__()
        hidden_channels = hidden_channels or out_channels
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.edge_dim = edge_dim
        self.residual = residual and in_channels == out_channels
        self.update_coordinates = update_coordinates
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
        source, target = edge_index
        num_nodes = x.size(0)
        difference = pos.index_select(0, target) - pos.index_select(0, source)  # x_i - x_j
        squared_distance = difference.pow(2).sum(dim=-1, keepdim=True)
        edge_input = [x.index_select(0, target), x.index_select(0, source), squared_distance]
        if self.edge_dim:
            if edge_attr is None:
                raise ValueError(
                    f"{self!r} was built with edge_dim={self.edge_dim}: pass edge_attr"
                )
            edge_input.append(edge_attr.reshape(edge_attr.size(0), self.edge_dim))
        messages = self.edge_mlp(torch.cat(edge_input, dim=-1))  # [E, hidden]

        if self.update_coordinates:
            shift = scatter(
                difference * self.coord_mlp(messages), target, 0, num_nodes, reduce="mean"
            )
            pos = pos + shift

        aggregated = scatter(messages, target, 0, num_nodes, reduce="sum")
        h = self.node_mlp(torch.cat([x, aggregated], dim=-1))
        if self.residual:
            h = x + h
        return h, pos

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels})"
