r"""Per-atom attributions of a trained molecule model, computed with Captum.

The explained function of a batch of :math:`G` molecules is the prediction that ``predict``
writes for one column: per molecule :math:`i`

.. math::
    f_i(\mathbf{X}) = \frac{1}{M} \sum_{m=1}^{M} p_m\big(\mathrm{model}_m(\mathbf{X}, \mathbf{E},
    \mathbf{d})\big)_i

the mean over the :math:`M` models of an ensemble (or folds) of the un-scaled regression value,
the probability of a binary task, or the probability of one class of a multiclass task
(:func:`~gnnkit.train.predict.outputs_to_predictions`). The atom features :math:`\mathbf{X}`
are the input that is attributed; the bond features :math:`\mathbf{E}`, the conformer (EGNN) and
the molecule descriptors :math:`\mathbf{d}` are held at their values. A bond belongs to two
atoms and a D-MPNN's state lives on directed bonds, so bond attributions would have to be split
between atoms by a convention; they are left out. Atom :math:`a`'s attribution is the sum over
its :math:`F` features of the method's attribution :math:`A_{af}`:

- ``integrated-gradients`` (Sundararajan et al., 2017; Captum's ``IntegratedGradients``,
  Gauss–Legendre, 50 steps), from the all-zero baseline (every atom's one-hot slots empty):

  .. math::
      A_{af} = x_{af} \int_0^1 \frac{\partial f_i(\alpha \mathbf{X})}{\partial x_{af}}\,
      d\alpha, \qquad \sum_{a \in i} \sum_f A_{af} \approx f_i(\mathbf{X}) - f_i(\mathbf{0})

  (completeness: a molecule's attributions add up to its prediction minus that of the
  baseline);
- ``saliency`` (Simonyan et al., 2014; Captum's ``Saliency``):
  :math:`A_{af} = |\partial f_i / \partial x_{af}|`, how sensitive the prediction is to the
  atom's features (never negative);
- ``occlusion`` (Captum's ``FeatureAblation`` with one feature group per atom): the prediction
  lost when the atom's features are set to the baseline (zeros),
  :math:`\sum_f A_{af} = f_i(\mathbf{X}) - f_i(\mathbf{X}^{(a \to 0)})`.

Captum (rather than PyG's ``torch_geometric.explain``) because its attribution methods take any
differentiable function of dense inputs with a leading example dimension, which a directed-bond
model fits once its atoms are padded per molecule; PyG's explainers are built around
node-message-passing models called as ``model(x, edge_index, **kwargs)`` and explain one graph
at a time. Captum's example dimension is the molecule: the atom features of a batch are padded
to ``[G, N_max, F]`` (:func:`~torch_geometric.utils.to_dense_batch`), and the function Captum
calls unpads them, repeats the batch's graph structure for however many copies Captum stacks
(interpolation steps, perturbations) and returns one value per molecule copy. A molecule's
prediction depends only on its own atoms (message passing stays within a molecule; the
aggregation and head act per molecule; models run in eval mode), so each molecule is explained
exactly as it would be alone.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from captum.attr import FeatureAblation, IntegratedGradients, Saliency
from torch import Tensor
from torch_geometric.data import Batch, Data
from torch_geometric.utils import to_dense_batch

from gnnkit.choices import ATTRIBUTION_METHODS
from gnnkit.train import Ensemble
from gnnkit.train.predict import outputs_to_predictions

#: Molecule copies that one forward pass of an attribution holds at most (interpolation steps
#: of integrated gradients, atoms occluded at once), which bounds its memory.
COPIES_PER_PASS = 512
#: Interpolation steps of integrated gradients (Captum's default).
INTEGRATION_STEPS = 50


def repeat_molecule_batch(batch: Batch, copies: int) -> Data:
    """``copies`` copies of a batch of molecules as one disjoint graph, copy after copy: atom
    tensors (``x``, ``pos``), edge tensors and molecule descriptors repeated; ``edge_index``
    offset by the batch's atoms, ``rev_edge_index`` by its edges and ``batch`` by its molecules
    per copy.

    Shapes:
        ``batch`` of ``G`` molecules, ``N`` atoms, ``E`` directed edges → ``x``
        ``[copies·N, F]``, ``edge_index`` ``[2, copies·E]``, ``rev_edge_index``
        ``[copies·E]``, ``batch`` ``[copies·N]``, ``descriptors`` ``[copies·G, D]``;
        ``num_graphs`` is ``copies·G``.
    """
    shift = torch.arange(copies, device=batch.x.device).view(-1, 1)
    graph = Data(
        x=batch.x.repeat(copies, 1),
        edge_index=(batch.edge_index.unsqueeze(1) + shift * batch.num_nodes).flatten(1),
        edge_attr=batch.edge_attr.repeat(copies, 1),
        rev_edge_index=(batch.rev_edge_index + shift * batch.edge_index.size(1)).flatten(),
        batch=(batch.batch + shift * batch.num_graphs).flatten(),
    )
    for key in ("pos", "descriptors"):
        value = getattr(batch, key, None)
        if value is not None:
            graph[key] = value.repeat(copies, 1)
    graph.num_graphs = copies * batch.num_graphs
    return graph


class ExplainedPrediction:
    """The function Captum attributes for one batch: padded atom features
    ``[K·G, N_max, F]`` (``K`` stacked copies of the batch's ``G`` molecules) → the
    ensemble's mean prediction of one column for every molecule copy ``[K·G]``.

    Args:
        ensemble: the models; each runs in eval mode.
        batch: the molecules.
        slot: index of the explained column into a ``[G, T]`` or ``[G, T, C]`` prediction
            (see :func:`~gnnkit.workflows.molecules.columns.prediction_slot`).
    """

    def __init__(self, ensemble: Ensemble, batch: Batch, slot: tuple[slice | int, ...]) -> None:
        self.ensemble = ensemble
        self.batch = batch
        self.slot = slot
        self.dense, self.mask = to_dense_batch(batch.x, batch.batch, batch_size=batch.num_graphs)
        self._graphs: dict[int, Data] = {}
        for member in ensemble.members:
            member.model.eval()

    def __call__(self, dense: Tensor) -> Tensor:
        copies = dense.size(0) // self.batch.num_graphs
        if copies not in self._graphs:
            self._graphs[copies] = repeat_molecule_batch(self.batch, copies)
        graph = copy.copy(self._graphs[copies])  # shares the structure's tensors
        graph.x = dense[self.mask.repeat(copies, 1)]
        predictions = [
            outputs_to_predictions(member.task, member.scaler, member.model(graph))[self.slot]
            for member in self.ensemble.members
        ]
        return torch.stack(predictions).mean(dim=0)


# Each method maps the padded atom features [G, N_max, F] to padded atom values [G, N_max].


def _integrated_gradients(explained: ExplainedPrediction) -> Tensor:
    molecules = explained.batch.num_graphs
    steps_per_pass = max(1, COPIES_PER_PASS // molecules)
    attribution = IntegratedGradients(explained).attribute(
        explained.dense,
        baselines=0.0,
        n_steps=INTEGRATION_STEPS,
        internal_batch_size=steps_per_pass * molecules,
    )
    return attribution.sum(dim=-1)


def _saliency(explained: ExplainedPrediction) -> Tensor:
    dense = explained.dense.clone().requires_grad_()
    return Saliency(explained).attribute(dense, abs=True).sum(dim=-1)


def _occlusion(explained: ExplainedPrediction) -> Tensor:
    width = explained.dense.size(1)
    groups = torch.arange(width, device=explained.dense.device).view(1, width, 1)
    attribution = FeatureAblation(explained).attribute(
        explained.dense,
        baselines=0.0,
        feature_mask=groups,
        perturbations_per_eval=max(1, COPIES_PER_PASS // explained.batch.num_graphs),
    )
    return attribution[..., 0]  # every feature of a group holds the group's attribution


_METHODS: dict[str, Callable[[ExplainedPrediction], Tensor]] = {
    "integrated-gradients": _integrated_gradients,
    "saliency": _saliency,
    "occlusion": _occlusion,
}


def atom_attributions(
    ensemble: Ensemble, batch: Batch, slot: tuple[slice | int, ...], method: str
) -> Tensor:
    """Attribution of every atom of ``batch`` ``[N]`` (batch order) to the ensemble's mean
    prediction of the column at ``slot``, by ``method`` (one of
    :data:`~gnnkit.choices.ATTRIBUTION_METHODS`; see the module docstring)."""
    if method not in _METHODS:
        raise ValueError(
            f"unknown attribution method {method!r}; choose one of {', '.join(ATTRIBUTION_METHODS)}"
        )
    explained = ExplainedPrediction(ensemble, batch, slot)
    return _METHODS[method](explained)[explained.mask].detach()
