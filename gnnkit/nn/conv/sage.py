"""GraphSAGE layer with mean aggregation (Hamilton, Ying & Leskovec, 2017)."""

from __future__ import annotations

from torch import Tensor, nn

from gnnkit.ops import scatter


class SAGEConv(nn.Module):
    r"""A node's own features plus the mean of its in-neighbours'.

    .. math::
        \mathbf{h}'_i = \mathbf{W}_1 \mathbf{h}_i
        + \mathbf{W}_2 \frac{1}{|\mathcal{N}(i)|} \sum_{j \in \mathcal{N}(i)} \mathbf{h}_j
        + \mathbf{b}

    Messages flow along ``edge_index[0] → edge_index[1]``; a node without in-neighbours gets
    a zero mean (:func:`gnnkit.ops.scatter`'s convention).

    Shapes:
        - **input:** ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]``
        - **output:** ``[N, out_channels]``
    """

    blueprint_role = "equivariant"

    def __init__(self, in_channels: int, out_channels: int, *, bias: bool = True) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.lin_self = nn.Linear(in_channels, out_channels, bias=bias)
        self.lin_neighbours = nn.Linear(in_channels, out_channels, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.lin_self.reset_parameters()
        self.lin_neighbours.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        source, target = edge_index
        mean = scatter(x.index_select(0, source), target, dim=0, dim_size=x.size(0), reduce="mean")
        return self.lin_self(x) + self.lin_neighbours(mean)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels})"
