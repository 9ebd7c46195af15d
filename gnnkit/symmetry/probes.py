"""Layers that are deliberately NOT permutation-symmetric.

They exist to show that the certificates catch what they should: each computes something
plausible-looking that depends on the order in which nodes or edges are stored.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.utils import to_dense_batch


class NodeIndexLayer(nn.Module):
    r"""Adds each node's storage index to its features: :math:`h'_i = W h_i + i/N`.

    Not equivariant: relabelling the nodes changes which node gets which offset.

    Shapes: ``x`` ``[N, C]`` → ``[N, C]``.
    """

    blueprint_role = "equivariant"

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.lin = nn.Linear(channels, channels)

    def forward(self, x: Tensor) -> Tensor:
        position = torch.arange(x.size(0), device=x.device, dtype=x.dtype) / max(1, x.size(0))
        return self.lin(x) + position.unsqueeze(-1)


class LSTMAggregationLayer(nn.Module):
    r"""GraphSAGE-LSTM style aggregation: an LSTM reads each node's neighbours in stored edge
    order, :math:`h'_i = \mathrm{LSTM}(h_{j_1}, h_{j_2}, \dots)` for :math:`j_k \in \mathcal{N}(i)`.

    Not equivariant: the result depends on the order of the neighbour sequence.

    Shapes: ``x`` ``[N, C]``, ``edge_index`` ``[2, E]`` → ``[N, C]``.
    """

    blueprint_role = "equivariant"

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(channels, channels, batch_first=True)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        source, target = edge_index
        order = torch.argsort(target, stable=True)
        neighbours, _ = to_dense_batch(x[source[order]], target[order], batch_size=x.size(0))
        _, (hidden, _) = self.lstm(neighbours)
        return hidden[-1]


class FirstNodeReadout(nn.Module):
    r"""Reads out each graph as the features of its first stored node: :math:`r_g = h_{\min
    \mathcal{V}(g)}`.

    Not invariant: a relabelling changes which node comes first.

    Shapes: ``x`` ``[N, C]``, ``batch`` ``[N]`` → ``[num_graphs, C]``.
    """

    blueprint_role = "readout"

    def forward(self, x: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
        first = torch.full((num_graphs,), x.size(0), dtype=torch.long, device=x.device)
        first = first.scatter_reduce(0, batch, torch.arange(x.size(0), device=x.device), "amin")
        return x[first]


class RawCoordinateLayer(nn.Module):
    r"""Feeds raw coordinates to an MLP: :math:`h'_i = \mathrm{MLP}([h_i \Vert \mathbf{x}_i])`.

    Permutation-equivariant but not E(3)-invariant: rotating the molecule changes the output.

    Shapes: ``x`` ``[N, C]``, ``pos`` ``[N, 3]`` → ``[N, C]``.
    """

    blueprint_role = "equivariant"

    def __init__(self, channels: int, dim: int = 3) -> None:
        super().__init__()
        self.lin = nn.Linear(channels + dim, channels)

    def forward(self, x: Tensor, pos: Tensor) -> Tensor:
        return self.lin(torch.cat([x, pos], dim=-1))
