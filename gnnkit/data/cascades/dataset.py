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


def to_data(cascade: Cascade, classes: Sequence[str], hours: float | None = None) -> Data:
    """A cascade as a PyG graph, keeping what had happened ``hours`` after the source
    (``None``: everything).

    Attributes of the returned ``Data``:
        - ``x`` ``[N, F]`` float32: :func:`~gnnkit.data.cascades.features.node_features`, then
          the loader's ``features``;
        - ``edge_index`` ``[2, N - 1]`` int64, parent → child;
        - ``root_index`` ``[1]`` int64: the source post's node (a node pointer; batching
          offsets it like ``edge_index``);
        - ``y`` ``[1, 1]`` float32: the class index (NaN when unknown);
        - ``id`` (str): the source post's identifier.
    """
    seen = observe(cascade, hours)
    x = node_features(seen)
    if seen.features is not None:
        x = np.concatenate([x, seen.features], axis=1)
    child = np.arange(1, seen.num_nodes)
    edge_index = np.stack([seen.parent[1:], child])
    label = list(classes).index(seen.label) if seen.label is not None else math.nan
    return Data(
        x=torch.from_numpy(x),
        edge_index=torch.from_numpy(edge_index),
        root_index=torch.zeros(1, dtype=torch.long),
        y=torch.tensor([[label]], dtype=torch.float32),
        id=seen.source_id,
        num_nodes=seen.num_nodes,
    )
