"""PyG's own convolutions and aggregations, built small and certified by gnnkit's harness.

Every class that ``torch_geometric.nn.conv`` and ``torch_geometric.nn.aggr`` export is a
candidate. A convolution is built as ``cls(in_channels=8, out_channels=16)``
(:data:`IN_CHANNELS`, :data:`OUT_CHANNELS`) and run on ``(x, edge_index)`` alone; an aggregation
is built from the channel arguments its constructor names (plus a few documented settings,
:data:`AGGREGATION_SETTINGS`) and run as a neighbourhood aggregation
(:class:`NeighbourhoodAggregation`). A class that cannot be built that way, or whose module
raises or returns anything but one row per node on the random graphs, is *skipped* with the
reason; every other one gets a permutation certificate held to node-level equivariance.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import torch
import torch_geometric.nn.aggr as pyg_aggr
import torch_geometric.nn.conv as pyg_conv
from torch import Tensor, nn
from torch_geometric.nn.aggr import Aggregation

from gnnkit.symmetry.catalogue import IN_CHANNELS, random_batch
from gnnkit.symmetry.certificate import Certificate, first_sentence, guarded_call
from gnnkit.symmetry.permutation import check_permutation

OUT_CHANNELS = 16

#: Constructor arguments an aggregation gets when its ``__init__`` names them.
CHANNEL_ARGUMENTS: dict[str, int] = {
    "in_channels": IN_CHANNELS,
    "out_channels": OUT_CHANNELS,
    "channels": IN_CHANNELS,
}

#: Further constructor arguments of the aggregations that need them (built fresh each time, so
#: their weights are drawn from the certificate's seed): learnable temperatures and powers, a
#: quantile, sizes, sub-networks and the degree histogram of :class:`DegreeScalerAggregation`.
AGGREGATION_SETTINGS: dict[str, Callable[[], dict[str, Any]]] = {
    "SoftmaxAggregation": lambda: {"learn": True},
    "PowerMeanAggregation": lambda: {"learn": True},
    "QuantileAggregation": lambda: {"q": 0.25},
    "SortAggregation": lambda: {"k": 3},
    "MultiAggregation": lambda: {"aggrs": ["mean", "max", "std"]},
    "Set2Set": lambda: {"processing_steps": 2},
    "SetTransformerAggregation": lambda: {"heads": 2},
    "GraphMultisetTransformer": lambda: {"k": 4, "heads": 2},
    "MLPAggregation": lambda: {"max_num_elements": 10, "num_layers": 1},
    "EquilibriumAggregation": lambda: {"num_layers": [16]},
    "DegreeScalerAggregation": lambda: {
        "aggr": "mean",
        "scaler": "amplification",
        "deg": torch.tensor([0, 2, 4, 2]),
    },
    "AttentionalAggregation": lambda: {"gate_nn": nn.Linear(IN_CHANNELS, 1)},
    "DeepSetsAggregation": lambda: {
        "local_nn": nn.Linear(IN_CHANNELS, IN_CHANNELS),
        "global_nn": nn.Linear(IN_CHANNELS, IN_CHANNELS),
    },
    "PatchTransformerAggregation": lambda: {"patch_size": 2, "hidden_channels": 8},
}


class ConvOnGraph(nn.Module):
    """A PyG convolution called with node features and edges only:
    ``conv(x=x, edge_index=edge_index)``, so no edge weights or attributes reach it.

    Shapes: ``x`` ``[N, C_in]``, ``edge_index`` ``[2, E]`` → ``[N, C_out]``.
    """

    def __init__(self, conv: nn.Module) -> None:
        super().__init__()
        self.conv = conv

    def forward(self, x: Tensor, edge_index: Tensor) -> Any:
        return self.conv(x=x, edge_index=edge_index)


class NeighbourhoodAggregation(nn.Module):
    r"""A PyG aggregation over each node's incoming messages:
    :math:`h'_i = \mathrm{AGG}\big(\{\!\{ h_j : (j, i) \in \mathcal{E} \}\!\}\big)`, called as
    ``aggr(x[source], target, dim_size=N)`` — the call ``MessagePassing`` makes, with the
    messages in stored edge order. With ``sort_by_target`` the messages are first put in stable
    order of their target, as the aggregations that need a sorted ``index`` require; the order
    of each node's messages is still the stored one.

    Shapes: ``x`` ``[N, C]``, ``edge_index`` ``[2, E]`` → ``[N, C']``.
    """

    def __init__(self, aggr: Aggregation, *, sort_by_target: bool = False) -> None:
        super().__init__()
        self.aggr = aggr
        self.sort_by_target = sort_by_target

    def forward(self, x: Tensor, edge_index: Tensor) -> Any:
        source, target = edge_index
        if self.sort_by_target:
            order = torch.argsort(target, stable=True)
            source, target = source[order], target[order]
        return self.aggr(x[source], target, dim_size=x.size(0))


@dataclass(frozen=True, slots=True)
class Candidate:
    """A PyG class under test and how to build it as a node-level module."""

    name: str
    build: Callable[[], nn.Module]


@dataclass(frozen=True, slots=True)
class Skipped:
    """A candidate that was not certified, and why."""

    name: str
    reason: str


@dataclass(slots=True)
class ZooReport:
    """The certificates of the candidates that ran, and the candidates that were skipped."""

    certificates: list[Certificate] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def add(self, outcome: Certificate | Skipped) -> None:
        """File a certificate or a skipped candidate."""
        if isinstance(outcome, Skipped):
            self.skipped.append(outcome)
        else:
            self.certificates.append(outcome)


def _build_conv(cls: type) -> nn.Module:
    return ConvOnGraph(cls(in_channels=IN_CHANNELS, out_channels=OUT_CHANNELS))


def _build_aggregation(cls: type, *, sort_by_target: bool = False) -> nn.Module:
    parameters = inspect.signature(cls.__init__).parameters
    arguments = {key: value for key, value in CHANNEL_ARGUMENTS.items() if key in parameters}
    arguments |= AGGREGATION_SETTINGS.get(cls.__name__, dict)()
    return NeighbourhoodAggregation(cls(**arguments), sort_by_target=sort_by_target)


def conv_candidates() -> list[Candidate]:
    """Every class in ``torch_geometric.nn.conv.__all__``, built from ``(in_channels,
    out_channels)``."""
    return [
        Candidate(name, partial(_build_conv, getattr(pyg_conv, name))) for name in pyg_conv.__all__
    ]


def aggregation_candidates() -> list[Candidate]:
    """Every class in ``torch_geometric.nn.aggr.__all__``, as a neighbourhood aggregation."""
    return [
        Candidate(name, partial(_build_aggregation, getattr(pyg_aggr, name)))
        for name in pyg_aggr.__all__
    ]


def sorted_candidate(name: str) -> Candidate:
    """The aggregation ``name`` with its messages sorted by target (see
    :class:`NeighbourhoodAggregation`)."""
    build = partial(_build_aggregation, getattr(pyg_aggr, name), sort_by_target=True)
    return Candidate(f"{name} (index sorted)", build)


def _build(candidate: Candidate, seed: int) -> nn.Module:
    """The candidate's module, its weights drawn from ``seed`` (without touching torch's global
    random state), in eval mode; PyG's warnings while building are not findings."""
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(seed)
        return candidate.build().eval()


def certify_candidate(
    candidate: Candidate, *, trials: int = 8, seed: int = 0
) -> Certificate | Skipped:
    """The candidate's permutation certificate on three random graphs, promised node-level
    equivariance, or why it was skipped: it cannot be built, or raises on the unrelabelled
    graphs, or does not return a tensor with one row per node."""
    data = random_batch(seed)
    try:
        module = _build(candidate, seed)
    except Exception as error:  # any constructor error means the class does not fit the zoo
        return Skipped(candidate.name, f"cannot be built: {type(error).__name__}: {_text(error)}")
    with torch.no_grad():
        output, failure = guarded_call(module, data, "(x, edge_index)")
    if failure:
        return Skipped(candidate.name, f"cannot run: {failure}")
    if not isinstance(output, Tensor) or output.dim() == 0 or output.size(0) != data.num_nodes:
        shape = tuple(output.shape) if isinstance(output, Tensor) else type(output).__name__
        return Skipped(candidate.name, f"cannot run: returns {shape}, not one row per node")
    return check_permutation(module, data, trials=trials, seed=seed, name=candidate.name).expecting(
        "equivariant"
    )


def _text(error: Exception) -> str:
    return first_sentence(str(error)) or "(no message)"


def certify_pyg(
    names: Collection[str] | None = None, *, trials: int = 8, seed: int = 0
) -> ZooReport:
    """Certify PyG's convolutions and aggregations (only the classes in ``names``, if given).

    An aggregation whose certificate fails with an infinite error (it raised, say on messages
    out of target order) is certified again with its messages sorted by target, which tells a
    precondition on the input order apart from a result that depends on it.

    Raises:
        ValueError: a name in ``names`` is not a PyG convolution or aggregation.
    """
    convs, aggregations = conv_candidates(), aggregation_candidates()
    known = {c.name for c in convs} | {c.name for c in aggregations}
    unknown = sorted(set(names or ()) - known)
    if unknown:
        raise ValueError(f"not a PyG convolution or aggregation: {', '.join(unknown)}")
    report = ZooReport()
    for candidate in convs:
        if names is None or candidate.name in names:
            report.add(certify_candidate(candidate, trials=trials, seed=seed))
    for candidate in aggregations:
        if names is None or candidate.name in names:
            outcome = certify_candidate(candidate, trials=trials, seed=seed)
            report.add(outcome)
            if isinstance(outcome, Certificate) and math.isinf(outcome.max_error):
                retry = sorted_candidate(candidate.name)
                report.add(certify_candidate(retry, trials=trials, seed=seed))
    return report
