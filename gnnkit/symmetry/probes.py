"""Layers that deliberately break a symmetry.

They exist to show that the certificates catch what they should: each computes something
plausible-looking that depends on the order in which nodes or edges are stored, on the
coordinates' frame, or on the other graphs of its batch.
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


class BatchCentringLayer(nn.Module):
    r"""Centres features on the mean over the whole batch (a graph-mean centring that forgot
    the ``batch`` vector): :math:`h'_i = W\big(h_i - \frac{1}{N}\sum_{j=1}^{N} h_j\big)`.

    Equivariant under any relabelling, graphs included, but not per graph: a node's output
    depends on the other graphs of its batch.

    Shapes: ``x`` ``[N, C]`` → ``[N, C]``.
    """

    blueprint_role = "equivariant"

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.lin = nn.Linear(channels, channels)

    def forward(self, x: Tensor) -> Tensor:
        return self.lin(x - x.mean(dim=0, keepdim=True))


class BatchSoftmaxReadout(nn.Module):
    r"""Attention readout whose softmax runs over the whole batch instead of each graph:
    :math:`r_g = \sum_{i \in \mathcal{V}(g)} \frac{e^{a_i}}{\sum_{j=1}^{N} e^{a_j}} h_i`,
    :math:`a_i = \mathbf{w}^\top h_i`.

    Invariant under relabelling, but a graph's vector shrinks as other graphs join its batch.

    Shapes: ``x`` ``[N, C]``, ``batch`` ``[N]`` → ``[num_graphs, C]``.
    """

    blueprint_role = "readout"

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gate = nn.Linear(channels, 1)

    def forward(self, x: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
        weights = torch.softmax(self.gate(x), dim=0)
        out = x.new_zeros(num_graphs, x.size(1))
        return out.index_add(0, batch, weights * x)


class CrossMoleculeDistanceLayer(nn.Module):
    r"""Distance-weighted messages between all atoms of the batch (a distance kernel computed
    without the ``batch`` vector): :math:`h'_i = W h_i + \sum_{j \ne i} h_j \,/\, (1 + \lVert
    \mathbf{x}_i - \mathbf{x}_j \rVert^2)`, the sum over every atom of every molecule.

    Invariant under one rigid motion of the whole batch, but not under a separate motion of
    each molecule: atoms feel the molecules stored next to theirs.

    Shapes: ``x`` ``[N, C]``, ``pos`` ``[N, 3]`` → ``[N, C]``.
    """

    blueprint_role = "equivariant"

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.lin = nn.Linear(channels, channels)

    def forward(self, x: Tensor, pos: Tensor) -> Tensor:
        weights = 1.0 / (1.0 + torch.cdist(pos, pos).square())
        weights = weights - torch.eye(x.size(0), dtype=x.dtype, device=x.device)
        return self.lin(x) + weights @ x
