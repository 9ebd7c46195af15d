"""Directed message passing on bonds (D-MPNN; Yang et al., 2019)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gnnkit.ops import scatter


def find_reverse_edges(edge_index: Tensor, num_nodes: int) -> Tensor:
    """For every directed edge ``v → w`` the index of ``w → v``.

    Shapes:
        ``edge_index``: ``[2, E]`` holding both directions of every edge, once each;
        output: ``[E]``.
    """
    source, target = edge_index
    keys = source * num_nodes + target
    order = torch.argsort(keys)
    reverse_keys = target * num_nodes + source
    position = torch.searchsorted(keys[order], reverse_keys)
    position = position.clamp(max=max(keys.numel() - 1, 0))
    reverse = order[position]
    if keys.numel() and not torch.equal(keys[reverse], reverse_keys):
        raise ValueError("edge_index must hold both directions of every edge")
    return reverse


class DMPNNConv(nn.Module):
    r"""Message passing on directed bonds, read out on atoms (chemprop's ``BondMessagePassing``).

    Hidden states live on directed edges :math:`v \to w`:

    .. math::
        \mathbf{h}^{0}_{vw} &= \tau\big(\mathbf{W}_i [\mathbf{x}_v \,\Vert\, \mathbf{e}_{vw}]\big)
        \\
        \mathbf{m}^{t+1}_{vw} &= \sum_{k \in \mathcal{N}(v) \setminus w} \mathbf{h}^{t}_{kv}
            = \Big(\sum_{k \in \mathcal{N}(v)} \mathbf{h}^{t}_{kv}\Big) - \mathbf{h}^{t}_{wv}
        \\
        \mathbf{h}^{t+1}_{vw} &= \tau\big(\mathbf{h}^{0}_{vw} + \mathbf{W}_h
            \mathbf{m}^{t+1}_{vw}\big), \qquad t = 0, \dots, T - 2
        \\
        \mathbf{h}_v &= \tau\Big(\mathbf{W}_o \Big[\mathbf{x}_v \,\Big\Vert\,
            \sum_{k \in \mathcal{N}(v)} \mathbf{h}^{T-1}_{kv}\Big] + \mathbf{b}_o\Big)

    with :math:`\tau` = ReLU and dropout after every update and the readout (an ``nn.Dropout``
    module, as in chemprop, so that MC dropout switches it on). Subtracting the reverse edge
    keeps a message from flowing straight back where it came from. An atom without bonds reads
    out :math:`\tau(\mathbf{W}_o[\mathbf{x}_v \Vert \mathbf{0}] + \mathbf{b}_o)`.

    Stays an ``nn.Module``: it is edge-centred, not a node message-passing layer in PyG's sense.
    Its states live on directed bonds, and each update reads the bond of the opposite direction
    (``rev_edge_index``); PyG's ``MessagePassing`` aggregates messages into nodes, which covers
    only the scatter into atoms, so the layer does its few scatters with
    :func:`gnnkit.ops.scatter` directly.

    Args:
        atom_dim: atom features per node.
        bond_dim: bond features per directed edge.
        hidden_channels: width :math:`d_h` of edge and atom states.
        depth: :math:`T`, message-passing steps (``depth - 1`` updates after
            :math:`\mathbf{h}^0`).
        dropout: dropout probability.

    Shapes:
        - **input:** ``x`` ``[N, atom_dim]``, ``edge_index`` ``[2, E]``, ``edge_attr``
          ``[E, bond_dim]``, ``rev_edge_index`` ``[E]`` (edge of the opposite direction)
        - **output:** ``[N, hidden_channels]``
    """

    blueprint_role = "equivariant"

    def __init__(
        self,
        atom_dim: int,
        bond_dim: int,
        hidden_channels: int = 300,
        *,
        depth: int = 3,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}")
        self.atom_dim = atom_dim
        self.bond_dim = bond_dim
        self.hidden_channels = hidden_channels
        self.depth = depth
        self.dropout = nn.Dropout(dropout)
        self.W_i = nn.Linear(atom_dim + bond_dim, hidden_channels, bias=False)
        self.W_h = nn.Linear(hidden_channels, hidden_channels, bias=False)
        self.W_o = nn.Linear(atom_dim + hidden_channels, hidden_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for layer in (self.W_i, self.W_h, self.W_o):
            layer.reset_parameters()

    def forward(
        self, x: Tensor, edge_index: Tensor, edge_attr: Tensor, rev_edge_index: Tensor
    ) -> Tensor:
        num_nodes = x.size(0)
        source, target = edge_index
        # W_i [x_v ‖ e_vw] = W_x x_v + W_e e_vw: the atom part is computed once per atom. The
        # in-place operations below act on fresh tensors only, which autograd allows.
        weight_atom, weight_bond = self.W_i.weight.split([self.atom_dim, self.bond_dim], dim=1)
        h0 = F.linear(x, weight_atom).index_select(0, source).add_(F.linear(edge_attr, weight_bond))
        h = F.relu(h0)
        for _ in range(self.depth - 1):
            incoming = scatter(h, target, dim=0, dim_size=num_nodes, reduce="sum")
            message = incoming.index_select(0, source).sub_(h.index_select(0, rev_edge_index))
            h = self.dropout(self.hidden_update(h0, message).relu_())
        incoming = scatter(h, target, dim=0, dim_size=num_nodes, reduce="sum")
        out = F.relu(self.W_o(torch.cat([x, incoming], dim=-1)))
        return self.dropout(out)

    def hidden_update(self, h0: Tensor, message: Tensor) -> Tensor:
        r""":math:`\mathbf{h}^{0} + \mathbf{W}_h \mathbf{m}` before the ReLU, ``[E, d_h]``.

        An ``nn.Linear`` ``W_h`` runs as one fused ``addmm``; any other module standing in its
        place (an int8 layer, see :mod:`gnnkit.train.precision`) is called on ``message`` and
        ``h0`` added to its output.
        """
        if isinstance(self.W_h, nn.Linear):
            return torch.addmm(h0, message, self.W_h.weight.t())
        return self.W_h(message).add_(h0)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.atom_dim}, {self.bond_dim}, "
            f"{self.hidden_channels}, depth={self.depth})"
        )
