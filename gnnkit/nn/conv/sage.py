r"""GraphSAGE layer (Hamilton, Ying & Leskovec, 2017): PyG's :class:`torch_geometric.nn.SAGEConv`.

A node's own features plus the mean of its in-neighbours' (PyG's default ``aggr="mean"``):

.. math::
    \mathbf{h}'_i = \mathbf{W}_1 \mathbf{h}_i
    + \mathbf{W}_2 \frac{1}{|\mathcal{N}(i)|} \sum_{j \in \mathcal{N}(i)} \mathbf{h}_j
    + \mathbf{b}

Messages flow along ``edge_index[0] → edge_index[1]``; a node without in-neighbours gets a zero
mean. Shapes: ``x`` ``[N, in]``, ``edge_index`` ``[2, E]`` → ``[N, out]``.

Decision: a drop-in, re-exported. gnnkit's former ``SAGEConv(in, out)`` was PyG's default
``SAGEConv(in, out)``, so gnnkit now hands out PyG's class (:math:`\mathbf{W}_1` is
``lin_r.weight``, :math:`\mathbf{W}_2` and :math:`\mathbf{b}` are ``lin_l``; gnnkit's were
``lin_self`` and ``lin_neighbours``); the blueprint recognises it by type.
"""

from torch_geometric.nn import SAGEConv

__all__ = ["SAGEConv"]
