"""A labelled collection of cascades, and its conversion to PyG graphs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch_geometric.data import Data

from gnnkit.data.cascades.cascade import Cascade, observe
from gnnkit.data.cascades.features import feature_names, node_features
from gnnkit.data.cascades.report import LoadReport


@dataclass(slots=True)
class CascadeSet:
    """Cascades with their class names and what loading them involved.

    Attributes:
        cascades: the cascades; each ``label`` is one of ``classes`` (or ``None``).
        classes: class names; a cascade's class index is its position here.
        report: quirk counts of the loader (``None`` for generated data).
        split: a split that ships with the data (UPFD): ``{"train", "val", "test"}`` →
            cascade indices; ``None`` otherwise.
        extra_features: names of the loader-supplied node feature columns (``Cascade.features``),
            appended after the structural ones.
    """

    cascades: list[Cascade]
    classes: tuple[str, ...]
    report: LoadReport | None = None
    split: dict[str, np.ndarray] | None = None
    extra_features: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        unknown = {c.label for c in self.cascades if c.label is not None} - set(self.classes)
        if unknown:
            raise ValueError(f"labels {sorted(unknown)} are not among the classes {self.classes}")
        if len({c.timed for c in self.cascades}) > 1:
            raise ValueError("some cascades have re-post delays and some do not")

    def __len__(self) -> int:
        return len(self.cascades)

    @property
    def timed(self) -> bool:
        return all(c.timed for c in self.cascades)

    @property
    def has_users(self) -> bool:
        """Whether every cascade names the user of every post."""
        return bool(self.cascades) and all(c.users is not None for c in self.cascades)

    @property
    def has_text(self) -> bool:
        """Whether the data carries source-post texts (some cascades may lack theirs)."""
        return any(c.text is not None for c in self.cascades)

    def labels(self) -> np.ndarray:
        """Class index of every cascade ``[B]`` int64, ``-1`` where unknown."""
        lookup = {name: i for i, name in enumerate(self.classes)}
        return np.array([lookup.get(c.label, -1) for c in self.cascades], dtype=np.int64)

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels()[self.labels() >= 0], minlength=len(self.classes))
        return {name: int(count) for name, count in zip(self.classes, counts)}

    def node_feature_names(self) -> tuple[str, ...]:
        """Column names of the node features ``x`` of :meth:`to_graphs`."""
        return (*feature_names(self.timed), *self.extra_features)

    def to_graphs(self, hours: float | None = None) -> list[Data]:
        """One PyG graph per cascade (see :func:`to_data`), observed up to ``hours``."""
        return [to_data(cascade, self.classes, hours) for cascade in self.cascades]


def structure_features(cascade: Cascade) -> np.ndarray:
    """:func:`~gnnkit.data.cascades.features.node_features`, then the loader's ``features``:
    ``[N, F]`` float32, columns :meth:`CascadeSet.node_feature_names`."""
    x = node_features(cascade)
    if cascade.features is not None:
        x = np.concatenate([x, cascade.features], axis=1)
    return x


def to_data(
    cascade: Cascade,
    classes: Sequence[str],
    hours: float | None = None,
    *,
    x: np.ndarray | None = None,
    graph_x: np.ndarray | None = None,
) -> Data:
    """A cascade as a PyG graph, keeping what had happened ``hours`` after the source
    (``None``: everything).

    Attributes of the returned ``Data``:
        - ``x`` ``[N, F]`` float32: the given node features of the observed nodes, by
          default :func:`structure_features`;
        - ``graph_x`` ``[1, G]`` float32 (only when given): graph-level inputs, such as the
          source post's text features;
        - ``edge_index`` ``[2, N - 1]`` int64, parent → child;
        - ``root_index`` ``[1]`` int64: the source post's node (a node pointer; batching
          offsets it like ``edge_index``);
        - ``y`` ``[1, 1]`` float32: the class index (NaN when unknown);
        - ``id`` (str): the source post's identifier.
    """
    seen = observe(cascade, hours)
    if x is None:
        x = structure_features(seen)
    if x.shape[0] != seen.num_nodes:
        raise ValueError(f"cascade {seen.source_id}: x has {x.shape[0]} rows for {seen.num_nodes}")
    child = np.arange(1, seen.num_nodes)
    edge_index = np.stack([seen.parent[1:], child])
    label = list(classes).index(seen.label) if seen.label is not None else math.nan
    data = Data(
        x=torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)),
        edge_index=torch.from_numpy(edge_index),
        root_index=torch.zeros(1, dtype=torch.long),
        y=torch.tensor([[label]], dtype=torch.float32),
        id=seen.source_id,
        num_nodes=seen.num_nodes,
    )
    if graph_x is not None:
        data.graph_x = torch.as_tensor(graph_x, dtype=torch.float32).reshape(1, -1)
    return data
