"""A graph-level GIN: the general baseline model for graph regression and classification."""

from __future__ import annotations

from torch import nn

from gnnkit.models.registry import register_model
from gnnkit.nn import Blueprint, MLPGINConv, Readout
from gnnkit.ops.scatter import Reduce


@register_model("gin")
class GraphGIN(Blueprint):
    r"""GIN layers, a sum/mean/max readout and an MLP head (Xu et al., 2019).

    .. math::
        \mathbf{h}^{(l)}_i = \mathrm{ReLU}\Big(\mathrm{MLP}^{(l)}\big((1 + \epsilon)\,
        \mathbf{h}^{(l-1)}_i + \textstyle\sum_{j \in \mathcal{N}(i)} \mathbf{h}^{(l-1)}_j\big)
        \Big), \qquad
        \hat{\mathbf{y}}_g = \mathbf{W}_2\,\mathrm{Dropout}\big(\mathrm{ReLU}(\mathbf{W}_1
        \textstyle\bigoplus_{i \in g} \mathbf{h}^{(L)}_i + \mathbf{b}_1)\big) + \mathbf{b}_2

    Args:
        in_channels: node features.
        out_channels: outputs per graph (targets, or tasks × classes).
        hidden_channels: width of every GIN layer and of the head.
        num_layers: GIN layers :math:`L`.
        readout: :math:`\bigoplus`, ``"sum"``, ``"mean"`` or ``"max"``.
        dropout: dropout probability in the head.

    Shapes:
        - **input:** a PyG ``Data``/``Batch`` with ``x`` ``[N, in_channels]``, ``edge_index``
          ``[2, E]`` and ``batch`` ``[N]``
        - **output:** ``[num_graphs, out_channels]``
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        hidden_channels: int = 64,
        num_layers: int = 3,
        readout: Reduce = "sum",
        dropout: float = 0.0,
    ) -> None:
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        stages: list[nn.Module] = []
        for layer in range(num_layers):
            stages += [
                MLPGINConv(in_channels if layer == 0 else hidden_channels, hidden_channels),
                nn.ReLU(),
            ]
        head = nn.Sequential(
            nn.Linear(hidden_channels, hidden_channels),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_channels, out_channels),
        )
        super().__init__([*stages, Readout(readout)], head=head)
