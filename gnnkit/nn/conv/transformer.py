"""Complete-graph Transformer layer: self-attention among the nodes of each graph."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.utils import to_dense_batch


class GraphTransformerConv(nn.Module):
    r"""Multi-head self-attention within each graph of a batch, without positional encoding.

    .. math::
        \mathrm{MHA}(\mathbf{H})_i = \mathbf{W}_O \big\Vert_{k=1}^{K}
        \sum_{j \in \mathcal{V}(g(i))} \operatorname{softmax}_j\!\Big(
        \frac{\mathbf{q}^{k\top}_i \mathbf{k}^{k}_j}{\sqrt{d}}\Big)\, \mathbf{v}^{k}_j,
        \qquad
        \mathbf{Z} = \mathrm{LN}(\mathbf{H} + \mathrm{MHA}(\mathbf{H})),\quad
        \mathbf{H}' = \mathrm{LN}(\mathbf{Z} + \mathrm{FFN}(\mathbf{Z}))

    Every node attends to every node of its own graph :math:`g(i)` (the complete graph), and to
    none of another graph. With no positional encoding the layer is equivariant to any
    permutation of each graph's nodes.

    Stays an ``nn.Module``: it takes no ``edge_index`` (attention runs over the complete graph of
    each batch member), and a dense batched ``scaled_dot_product_attention`` computes that far
    faster than messages on the :math:`\sum_g n_g^2` edges of the complete graphs would. PyG's
    ``TransformerConv`` is a different layer (attention along ``edge_index``).

    Args:
        channels: features per node (input and output, for the residual connections).
        heads: number of heads :math:`K`; must divide ``channels`` (:math:`d` = channels / K).
        ffn_channels: hidden width of the feed-forward block (default ``2 * channels``).
        dropout: dropout on attention weights and block outputs during training.

    Shapes:
        - **input:** ``x`` ``[N, channels]``, ``batch`` ``[N]`` sorted (optional; one graph if
          omitted)
        - **output:** ``[N, channels]``
    """

    blueprint_role = "equivariant"

    def __init__(
        self,
        channels: int,
        *,
        heads: int = 4,
        ffn_channels: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if channels % heads != 0:
            raise ValueError(f"heads ({heads}) must divide channels ({channels})")
        self.channels = channels
        self.heads = heads
        self.dropout = dropout
        self.qkv = nn.Linear(channels, 3 * channels)
        self.out = nn.Linear(channels, channels)
        self.norm_attention = nn.LayerNorm(channels)
        self.ffn = nn.Sequential(
            nn.Linear(channels, ffn_channels or 2 * channels),
            nn.ReLU(),
            nn.Linear(ffn_channels or 2 * channels, channels),
        )
        self.norm_ffn = nn.LayerNorm(channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for module in (self.qkv, self.out, self.norm_attention, self.norm_ffn, *self.ffn):
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward(
        self, x: Tensor, batch: Tensor | None = None, num_graphs: int | None = None
    ) -> Tensor:
        if batch is None:
            batch = x.new_zeros(x.size(0), dtype=torch.long)
        dense, mask = to_dense_batch(x, batch, batch_size=num_graphs)  # [B, L, C], [B, L]
        graphs, length, _ = dense.shape
        q, k, v = (
            self.qkv(dense)
            .view(graphs, length, 3, self.heads, self.channels // self.heads)
            .permute(2, 0, 3, 1, 4)
        )  # each [B, K, L, d]
        attended = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=mask[:, None, None, :],
            dropout_p=self.dropout if self.training else 0.0,
        )  # [B, K, L, d]
        attended = attended.transpose(1, 2).reshape(graphs, length, self.channels)[mask]
        h = self.norm_attention(
            x + F.dropout(self.out(attended), p=self.dropout, training=self.training)
        )
        return self.norm_ffn(h + F.dropout(self.ffn(h), p=self.dropout, training=self.training))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.channels}, heads={self.heads})"
