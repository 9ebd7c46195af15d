"""The directed message-passing network for molecular properties (Yang et al., 2019)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from gnnkit.choices import AGGREGATIONS
from gnnkit.models.registry import register_model
from gnnkit.nn.conv.dmpnn import DMPNNConv
from gnnkit.nn.graph_call import num_graphs_of
from gnnkit.ops import scatter

#: Modules of one ``ReLU → Dropout → Linear`` block of :func:`feed_forward`.
BLOCK_SIZE = 3


def feed_forward(
    in_channels: int, hidden_channels: int, out_channels: int, num_layers: int, dropout: float
) -> nn.Sequential:
    """``Linear → (ReLU → Dropout → Linear) × num_layers`` (chemprop's FFN layout, its blocks
    flattened into one ``nn.Sequential``)."""
    layers: list[nn.Module] = [
        nn.Linear(in_channels, hidden_channels if num_layers else out_channels)
    ]
    for layer in range(num_layers):
        width = out_channels if layer == num_layers - 1 else hidden_channels
        layers += [nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden_channels, width)]
    return nn.Sequential(*layers)


def penultimate_encoding(head: nn.Sequential, embedding: Tensor) -> Tensor:
    r"""A :func:`feed_forward` head applied up to, not including, its last block: chemprop's
    ``MPNN.encoding(..., i=-1)`` (``ffn[:-1]``).

    The head computes :math:`\mathbf{z}_0 = \mathbf{W}_0 \mathbf{x} + \mathbf{b}_0` and
    :math:`\mathbf{z}_l = \mathbf{W}_l\, \mathrm{Dropout}(\mathrm{ReLU}(\mathbf{z}_{l-1})) +
    \mathbf{b}_l` for :math:`l = 1, \dots, L` (``num_layers``), returning :math:`\mathbf{z}_L`;
    this is :math:`\mathbf{z}_{L-1}`, the last hidden ``Linear``'s output before its ReLU (so
    entries may be negative), or :math:`\mathbf{x}` itself when :math:`L = 0`.

    Shapes:
        ``embedding`` :math:`\mathbf{x}` ``[G, in_channels]`` → ``[G, hidden_channels]``
        (``[G, in_channels]`` when :math:`L = 0`).
    """
    return head[:-BLOCK_SIZE](embedding)


def aggregate_atoms(
    atoms: Tensor, data: Any, aggregation: str, norm_constant: float, n_components: int = 1
) -> Tensor:
    """Atom states ``[N, H]`` → molecule vectors ``[G, H]``: the sum over each molecule's atoms
    divided by ``norm_constant`` (``"norm"``), by the atom count (``"mean"``) or by 1
    (``"sum"``). With ``n_components`` K > 1, each graph is K molecules (``data.component``
    ``[N]`` holds each atom's, 0 … K − 1), pooled one by one and concatenated in order:
    ``[G, K·H]``."""
    batch = data.batch
    if batch is None:
        batch = torch.zeros(atoms.size(0), dtype=torch.long, device=atoms.device)
    size = num_graphs_of(data)
    if n_components > 1:
        batch = batch * n_components + components_of(data)
        size *= n_components
    reduce = "mean" if aggregation == "mean" else "sum"
    embedding = scatter(atoms, batch, dim=0, dim_size=size, reduce=reduce)
    if n_components > 1:
        embedding = embedding.reshape(-1, n_components * atoms.size(1))
    return embedding / norm_constant if aggregation == "norm" else embedding


def components_of(data: Any) -> Tensor:
    """``data.component`` ``[N]``, or a ``ValueError`` saying that a model of several molecules
    per input reads it."""
    component = getattr(data, "component", None)
    if component is None:
        raise ValueError(
            "this model reads several molecules per input, but the graphs have no 'component' "
            "(the molecule of each atom); featurize rows with their SMILES columns "
            "(gnnkit.data.molecules.components)"
        )
    return component


def component_subgraph(
    component: Tensor, edge_index: Tensor, rev_edge_index: Tensor, k: int
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The molecules of component ``k`` cut out of a batch whose edges never join two
    components: their atoms ``[N_k]`` and edges ``[E_k]`` (indices into the batch's), and
    ``edge_index`` ``[2, E_k]`` and ``rev_edge_index`` ``[E_k]`` renumbered to them."""
    atom_mask = component == k
    edge_mask = atom_mask[edge_index[0]]
    atoms, edges = atom_mask.nonzero().squeeze(1), edge_mask.nonzero().squeeze(1)
    new_atom = torch.cumsum(atom_mask, 0) - 1
    new_edge = torch.cumsum(edge_mask, 0) - 1
    return atoms, edges, new_atom[edge_index[:, edges]], new_edge[rev_edge_index[edges]]


def reset_linear_layers(module: nn.Sequential) -> None:
    """Redraw the weights of every ``nn.Linear`` of ``module`` (an FFN head)."""
    for layer in module:
        if isinstance(layer, nn.Linear):
            layer.reset_parameters()


@register_model("dmpnn")
class DMPNN(nn.Module):
    r"""D-MPNN: bond message passing, molecule aggregation, optional descriptors, FFN head.

    .. math::
        \mathbf{h}_v = \mathrm{DMPNNConv}(\mathbf{x}, \mathbf{e})_v, \qquad
        \mathbf{h}_G = \frac{1}{c} \sum_{v \in G} \mathbf{h}_v, \qquad
        \hat{\mathbf{y}}_G = \mathrm{FFN}\big([\mathbf{h}_G \,\Vert\,
        (\mathbf{d}_G - \boldsymbol{\mu}) / \boldsymbol{\sigma}]\big)

    with :math:`c = 100` (``"norm"``), :math:`c = |G|` (``"mean"``) or :math:`c = 1`
    (``"sum"``); :math:`\mathbf{d}_G` are optional molecule descriptors standardised with
    training-split statistics (:meth:`set_descriptor_scaling`; non-finite values become 0).
    Defaults equal chemprop's: hidden 300, depth 3, dropout 0, norm aggregation, one 300-wide
    FFN layer.

    Several molecules per input (``n_components`` :math:`K > 1`, chemprop's multicomponent
    MPNN): the input :math:`G` is :math:`K` molecules :math:`G_1, \dots, G_K` (atoms marked by
    ``data.component``), each encoded by its own D-MPNN, or all by one with
    ``shared_encoder`` (chemprop's ``--mpn-shared``), pooled on its own, and concatenated in
    order before the descriptors, which come once per input:

    .. math::
        \mathbf{h}_G = \big[\mathbf{h}_{G_1} \,\Vert\, \cdots \,\Vert\,
        \mathbf{h}_{G_K}\big], \qquad
        \mathbf{h}_{G_k} = \frac{1}{c_k} \sum_{v \in G_k}
        \mathrm{DMPNNConv}_k(\mathbf{x}, \mathbf{e})_v

    with :math:`c_k` as :math:`c` for molecule :math:`G_k` (:math:`|G_k|` for ``"mean"``) and
    :math:`\mathrm{DMPNNConv}_k` the same layer for every :math:`k` with ``shared_encoder``.

    The prediction is invariant to relabelling the atoms of each molecule, not to the order of
    the molecules: the head reads :math:`\mathbf{h}_{G_1}` and :math:`\mathbf{h}_{G_2}` in
    different slots, even when one encoder makes them (swapping two inputs' molecules then
    swaps their blocks of :math:`\mathbf{h}_G`).

    Args:
        atom_dim, bond_dim: input feature sizes (72 and 14 for the default featurizer).
        out_channels: outputs per molecule (tasks, or tasks × classes).
        hidden_channels, depth, dropout: of :class:`~gnnkit.nn.conv.DMPNNConv`.
        aggregation: ``"norm"``, ``"mean"`` or ``"sum"``.
        norm_constant: :math:`c` of ``"norm"``.
        ffn_hidden_channels, ffn_layers: the head's width and hidden layers.
        descriptor_dim: descriptors per molecule (``data.descriptors`` ``[G, D]``), 0 for none.
        n_components: molecules per input :math:`K`.
        shared_encoder: one D-MPNN encodes all :math:`K` molecules (else one each).

    Shapes:
        - **input:** a batch of :class:`~gnnkit.data.molecules.MoleculeGraph`
        - **output:** ``[num_graphs, out_channels]``
    """

    def __init__(
        self,
        atom_dim: int = 72,
        bond_dim: int = 14,
        out_channels: int = 1,
        hidden_channels: int = 300,
        depth: int = 3,
        dropout: float = 0.0,
        aggregation: str = "norm",
        norm_constant: float = 100.0,
        ffn_hidden_channels: int = 300,
        ffn_layers: int = 1,
        descriptor_dim: int = 0,
        n_components: int = 1,
        shared_encoder: bool = False,
    ) -> None:
        super().__init__()
        if aggregation not in AGGREGATIONS:
            raise ValueError(f"aggregation must be one of {AGGREGATIONS}, got {aggregation!r}")
        if n_components < 1:
            raise ValueError(f"n_components must be at least 1, got {n_components}")
        self.aggregation = aggregation
        self.norm_constant = norm_constant
        self.descriptor_dim = descriptor_dim
        self.n_components = n_components
        encoders = [
            DMPNNConv(atom_dim, bond_dim, hidden_channels, depth=depth, dropout=dropout)
            for _ in range(1 if shared_encoder else n_components)
        ]
        #: One DMPNNConv for all molecules, or a ModuleList of one per component.
        self.encoder = encoders[0] if len(encoders) == 1 else nn.ModuleList(encoders)
        self.register_buffer("descriptor_mean", torch.zeros(descriptor_dim))
        self.register_buffer("descriptor_std", torch.ones(descriptor_dim))
        self.head = feed_forward(
            n_components * hidden_channels + descriptor_dim,
            ffn_hidden_channels,
            out_channels,
            ffn_layers,
            dropout,
        )

    def reset_parameters(self) -> None:
        for encoder in self.encoders():
            encoder.reset_parameters()
        reset_linear_layers(self.head)

    def encoders(self) -> list[DMPNNConv]:
        """The message-passing encoders: one, or one per component."""
        return list(self.encoder) if isinstance(self.encoder, nn.ModuleList) else [self.encoder]

    def atom_states(self, data: Any) -> Tensor:
        """Atom states ``[N, hidden]``: of the one encoder on the whole batch (molecules do not
        exchange messages, having no edges between them), or of encoder ``k`` on the atoms of
        component ``k``."""
        if not isinstance(self.encoder, nn.ModuleList):
            return self.encoder(data.x, data.edge_index, data.edge_attr, data.rev_edge_index)
        component = components_of(data)
        order, states = [], []
        for k, encoder in enumerate(self.encoder):
            atoms, edges, edge_index, rev_edge_index = component_subgraph(
                component, data.edge_index, data.rev_edge_index, k
            )
            order.append(atoms)
            states.append(encoder(data.x[atoms], edge_index, data.edge_attr[edges], rev_edge_index))
        return torch.cat(states).index_select(0, torch.argsort(torch.cat(order)))

    def set_descriptor_scaling(self, descriptors: Tensor) -> None:
        """Standardise descriptors with the mean and std of ``descriptors`` ``[n, D]`` (the
        training split), ignoring non-finite values."""
        finite = torch.isfinite(descriptors)
        values = torch.where(finite, descriptors, torch.zeros_like(descriptors)).double()
        count = finite.sum(0).clamp(min=1)
        mean = values.sum(0) / count
        variance = (torch.where(finite, values - mean, torch.zeros_like(values)) ** 2).sum(
            0
        ) / count
        std = variance.sqrt()
        self.descriptor_mean.copy_(mean.float())
        self.descriptor_std.copy_(torch.where(std > 0, std, torch.ones_like(std)).float())

    def molecule_embedding(self, data: Any) -> Tensor:
        """The aggregated molecule vector :math:`\\mathbf{h}_G` ``[G, K · hidden]`` (with
        standardised descriptors appended when the model has them)."""
        atoms = self.atom_states(data)
        embedding = aggregate_atoms(
            atoms, data, self.aggregation, self.norm_constant, self.n_components
        )
        if self.descriptor_dim:
            scaled = (data.descriptors - self.descriptor_mean) / self.descriptor_std
            embedding = torch.cat([embedding, torch.nan_to_num(scaled, 0.0, 0.0, 0.0)], dim=-1)
        return embedding

    def forward(self, data: Any) -> Tensor:
        return self.head(self.molecule_embedding(data))
