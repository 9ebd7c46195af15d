"""Graph isomorphism network layer with its two-layer MLP built in (Xu et al., 2019)."""

from __future__ import annotations

import torch_geometric.nn
from torch import nn


class MLPGINConv(torch_geometric.nn.GINConv):
    r"""GIN: a two-layer MLP applied to the node's own state plus the sum over its neighbours.

    .. math::
        \mathbf{h}'_i = \mathrm{MLP}\Big((1 + \epsilon)\,\mathbf{h}_i
        + \sum_{j \in \mathcal{N}(i)} \mathbf{h}_j\Big),
        \qquad \mathrm{MLP}(\mathbf{z}) = \mathbf{W}_2\,\mathrm{ReLU}(\mathbf{W}_1 \mathbf{z}
        + \mathbf{b}_1) + \mathbf{b}_2

    Decision: renamed (gnnkit's ``GINConv`` before). PyG's :class:`torch_geometric.nn.GINConv`
    takes the MLP itself (``GINConv(nn, eps, train_eps)``); this layer takes sizes and builds
    the MLP, then is exactly PyG's ``GINConv`` around it (the MLP is ``self.nn``).

    Args:
        in_channels: input features per node.
        out_channels: output features per node.
        hidden_channels: width of the MLP's hidden layer (default ``out_channels``).
        eps: initial :math:`\epsilon`.
        train_eps: learn :math:`\epsilon`.

    Shapes:
        - **input:** ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]``
        - **output:** ``[N, out_channels]``
    """

    blueprint_role = "equivariant"

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        hidden_channels: int | None = None,
        eps: float = 0.0,
        train_eps: bool = False,
    ) -> None:
        hidden_channels = hidden_channels or out_channels
        mlp = nn.Sequential(
            nn.Linear(in_channels, hidden_channels),
            nn.ReLU(),
            nn.Linear(hidden_channels, out_channels),
        )
        super().__init__(mlp, eps=eps, train_eps=train_eps)
        self.in_channels = in_channels
        self.out_channels = out_channels

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels})"
