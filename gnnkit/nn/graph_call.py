"""Call a graph module with the tensors its ``forward`` names.

gnnkit layers take plain tensors (``x``, ``edge_index``, ``edge_attr``, ``rev_edge_index``,
``pos``, ``batch``, ``num_graphs``) as PyG convolutions do; whole models take one
``Data``/``Batch`` object. The blueprint composer and the symmetry certificates call both kinds
through :func:`call_on_graph`.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from typing import Any

from torch import Tensor, nn

GRAPH_ARGUMENTS: tuple[str, ...] = (
    "x",
    "edge_index",
    "edge_attr",
    "rev_edge_index",
    "pos",
    "batch",
    "num_graphs",
)
GRAPH_OBJECT_ARGUMENTS: tuple[str, ...] = ("data", "batch_data", "graph")
PARAMETERS_OF_METHOD: weakref.WeakKeyDictionary[Callable[..., Any], tuple[str, ...]] = (
    weakref.WeakKeyDictionary()
)


def num_graphs_of(graph: Any) -> int:
    """Graphs in ``graph``: its ``num_graphs`` if set, else ``batch.max() + 1``, else 1."""
    declared = getattr(graph, "num_graphs", None)
    if isinstance(declared, int):
        return declared
    batch = getattr(graph, "batch", None)
    if isinstance(batch, Tensor) and batch.numel() > 0:
        return int(batch.max()) + 1
    return 1


def forward_parameters(module: nn.Module) -> tuple[str, ...]:
    """Names of the parameters of ``module.forward`` (without ``self``).

    A ``forward`` method is inspected once per function and remembered by that function, so
    modules of one class share the entry and a replaced stage is looked up by its own
    ``forward``; any other callable (e.g. one set on the instance) is inspected on every call.
    """
    forward = module.forward
    function = getattr(forward, "__func__", None)
    if function is None:
        return tuple(inspect.signature(forward).parameters)
    parameters = PARAMETERS_OF_METHOD.get(function)
    if parameters is None:
        parameters = PARAMETERS_OF_METHOD[function] = tuple(inspect.signature(forward).parameters)
    return parameters


def takes_graph_object(module: nn.Module) -> bool:
    """Whether ``module.forward`` takes one graph object rather than tensors by name."""
    parameters = forward_parameters(module)
    return bool(parameters) and parameters[0] in GRAPH_OBJECT_ARGUMENTS


def call_on_graph(module: nn.Module, graph: Any) -> Any:
    """Run ``module`` on ``graph`` (a PyG ``Data``/``Batch`` or any object with those attributes).

    A module whose first ``forward`` parameter is ``data`` receives the object itself; any other
    module receives, by keyword, each of :data:`GRAPH_ARGUMENTS` that its ``forward`` names.
    """
    if takes_graph_object(module):
        return module(graph)
    kwargs: dict[str, Any] = {}
    for name in forward_parameters(module):
        if name == "num_graphs":
            kwargs[name] = num_graphs_of(graph)
        elif name in GRAPH_ARGUMENTS:
            kwargs[name] = getattr(graph, name, None)
    return module(**kwargs)
