r"""Graph convolutions that sum over a closed neighbourhood :math:`\mathcal{N}(i) \cup \{i\}`.

``GCNConv`` is PyG's :class:`torch_geometric.nn.GCNConv` itself (Kipf & Welling, 2017):

.. math::
    \mathbf{h}'_i = \mathbf{W} \sum_{j \in \mathcal{N}(i) \cup \{i\}}
    \frac{1}{\sqrt{\hat d_i \hat d_j}}\, \mathbf{h}_j + \mathbf{b},
    \qquad \hat d_i = 1 + |\mathcal{N}(i)|

Decision: a drop-in, re-exported. gnnkit's former ``GCNConv`` (default ``normalize=True``)
computed exactly this, with the same parameters (``lin.weight``, ``bias``), so gnnkit now hands
out PyG's class; the blueprint recognises it by type. gnnkit's former ``normalize=False`` mode,
the plain sum over :math:`\mathcal{N}(i) \cup \{i\}`, is :class:`SumGCNConv`: PyG's
``GCNConv(normalize=False)`` adds no self-loops, so it is a different layer.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import GCNConv, MessagePassing
from torch_geometric.nn.dense.linear import Linear


class SumGCNConv(MessagePassing):
    r"""The plain sum aggregator over :math:`\mathcal{N}(i) \cup \{i\}`, then a linear map.

    .. math::
        \mathbf{h}'_i = \mathbf{W} \Big(\mathbf{h}_i + \sum_{j \in \mathcal{N}(i) \setminus
        \{i\}} \mathbf{h}_j\Big) + \mathbf{b}
        = \mathbf{W}\mathbf{h}_i\,(1 - \ell_i) + \sum_{(j \to i) \in \mathcal{E}}
        \mathbf{W}\mathbf{h}_j + \mathbf{b}

    with :math:`\ell_i` the number of self-loops :math:`i \to i` in ``edge_index``: existing
    loops count as the one loop every node has, which is PyG's ``GCNConv(normalize=False)`` run
    on the graph with one self-loop per node. Messages flow along
    ``edge_index[0] → edge_index[1]``. Correcting by :math:`\ell_i` instead of removing the
    loops keeps the edge count fixed, so ``torch.compile`` traces the layer without graph
    breaks.

    Decision: renamed (gnnkit's ``GCNConv(normalize=False)`` before), because PyG's
    ``GCNConv(normalize=False)`` adds no self-loops: it is a different layer. Parameters:
    ``lin.weight`` (Glorot-initialised, as in PyG's ``GCNConv``), ``bias``.

    Args:
        in_channels: input features per node.
        out_channels: output features per node.
        bias: add a learnable bias :math:`\mathbf{b}`.

    Shapes:
        - **input:** ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]``
        - **output:** ``[N, out_channels]``
    """

    blueprint_role = "equivariant"

    def __init__(self, in_channels: int, out_channels: int, *, bias: bool = True) -> None:
        super().__init__(aggr="sum")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.lin = Linear(in_channels, out_channels, bias=False, weight_initializer="glorot")
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin.reset_parameters()
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        h = self.lin(x)
        source, target = edge_index
        is_loop = (source == target).to(h.dtype)
        loops = h.new_zeros(h.size(0)).index_add_(0, target, is_loop)  # ℓ_i, [N]
        out = torch.addcmul(self.propagate(edge_index, x=h), h, (1 - loops).unsqueeze(-1))
        return out + self.bias if self.bias is not None else out


__all__ = ["GCNConv", "SumGCNConv"]
