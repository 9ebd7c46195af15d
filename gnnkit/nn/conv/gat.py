r"""Graph attention layer (Veličković et al., 2018): PyG's :class:`torch_geometric.nn.GATConv`.

Multi-head attention over :math:`\mathcal{N}(i) \cup \{i\}`:

.. math::
    \alpha^{k}_{ij} = \operatorname{softmax}_{j \in \mathcal{N}(i) \cup \{i\}}
    \Big(\mathrm{LeakyReLU}\big(\mathbf{a}^{k\top}_{s} \mathbf{W}^{k}\mathbf{h}_j
    + \mathbf{a}^{k\top}_{t} \mathbf{W}^{k}\mathbf{h}_i\big)\Big),
    \qquad
    \mathbf{h}'_i = \big\Vert_{k=1}^{K} \sum_{j \in \mathcal{N}(i) \cup \{i\}}
    \alpha^{k}_{ij}\,\mathbf{W}^{k}\mathbf{h}_j + \mathbf{b}

(heads averaged instead of concatenated with ``concat=False``). Shapes: ``x`` ``[N, in]``,
``edge_index`` ``[2, E]`` → ``[N, heads * out]`` (concat) or ``[N, out]``.

Decision: a drop-in, re-exported. gnnkit's former ``GATConv`` took PyG's constructor arguments
and computed exactly this, so gnnkit now hands out PyG's class (parameters ``lin.weight``,
``att_src``, ``att_dst``, ``bias``; gnnkit's were ``att_source``/``att_target``); the blueprint
recognises it by type.
"""

from torch_geometric.nn import GATConv

__all__ = ["GATConv"]
