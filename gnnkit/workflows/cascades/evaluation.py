"""Train a cascade classifier on every round of a leak-free split and score its test sets.

Each round (a :class:`~gnnkit.data.cascades.folds.FoldSplit`) goes through
:func:`gnnkit.train.fit` with its own training, validation and test graphs: early stopping and
the best checkpoint follow the validation split only, and the test graphs are scored once,
after training, by the best validation model. The graphs are either fixed (one list, sliced by
each round) or built per round by a :data:`GraphSource` whose features are fitted on that
round's training split alone (user and text features).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
from torch_geometric.data import Data

from gnnkit.data.cascades.folds import FoldSplit
from gnnkit.models.registry import build_model
from gnnkit.train import TrainConfig, TrainedModel, fit
from gnnkit.workflows.cascades.scores import classification_scores, summarize

FitFunction = Callable[..., Any]


@dataclass(slots=True)
class FoldGraphs:
    """One round's graphs and the featurizer settings stored with its model."""

    train: list[Data]
    val: list[Data]
    test: list[Data]
    featurizer: dict[str, Any] | None = None


#: Graphs of every cascade (sliced by each round), or a function building a round's graphs.
GraphSource = Sequence[Data] | Callable[[FoldSplit], FoldGraphs]


def fold_graphs(
    source: GraphSource, split: FoldSplit, featurizer: dict[str, Any] | None = None
) -> FoldGraphs:
    """The graphs of round ``split`` from ``source``."""
    if callable(source):
        return source(split)
    parts = ([source[i] for i in getattr(split, name)] for name in ("train", "val", "test"))
    return FoldGraphs(*parts, featurizer)


def input_widths(graphs: Sequence[Data]) -> dict[str, int]:
    """``in_channels`` (and ``graph_channels`` when the graphs carry ``graph_x``) of a model
    reading ``graphs``."""
    widths = {"in_channels": int(graphs[0].x.size(1))}
    graph_x = getattr(graphs[0], "graph_x", None)
    if graph_x is not None:
        widths["graph_channels"] = int(graph_x.size(-1))
    return widths


@dataclass(slots=True)
class GNNSettings:
    """What to train: a registered model, its hyper-parameters (without ``in_channels`` and
    ``out_channels``, which the data sets) and the trainer's settings."""

    model: str
    hparams: dict[str, Any] = field(default_factory=dict)
    config: TrainConfig = field(default_factory=lambda: TrainConfig(task="multiclass"))


def graph_labels(graphs: Sequence[Data]) -> np.ndarray:
    """Class index of every graph ``[B]`` int64 (from ``y`` ``[1, 1]``)."""
    y = np.array([float(g.y.view(-1)[0]) for g in graphs])
    if np.isnan(y).any():
        raise ValueError(f"{int(np.isnan(y).sum())} graph(s) have no label; evaluation needs all")
    return y.astype(np.int64)


def predicted_classes(trained: TrainedModel, graphs: Sequence[Data]) -> np.ndarray:
    """The most probable class of every graph ``[B]``."""
    return trained.predict(graphs).argmax(dim=-1).view(-1).numpy()


def train_folds(
    graphs: GraphSource,
    splits: Sequence[FoldSplit],
    classes: Sequence[str],
    settings: GNNSettings,
    out_dir: str | os.PathLike,
    *,
    featurizer: dict[str, Any] | None = None,
    fit_function: FitFunction = fit,
) -> dict[str, Any]:
    """Train and score ``settings.model`` on every round of ``splits``.

    Round ``f`` seeds the model's weights and the trainer with ``config.seed + f`` and writes
    its run (checkpoint ``model.pt``, ``metrics.json``, plots) to ``out_dir/fold<f>``.
    ``graphs`` is a :data:`GraphSource`; ``featurizer`` is stored with fixed graphs.

    Returns:
        ``{"test": ..., "val": ..., "per_fold": [...]}``: scores of
        :func:`~gnnkit.workflows.cascades.scores.classification_scores` summarised over rounds, and
        per round its sizes, scores, best epoch, epochs run and training seconds.
    """
    per_fold = []
    for split in splits:
        parts = fold_graphs(graphs, split, featurizer)
        hparams = {**input_widths(parts.train), "out_channels": len(classes), **settings.hparams}
        config = replace(settings.config, seed=settings.config.seed + split.fold)
        L.seed_everything(config.seed, verbose=False)
        model = build_model(settings.model, hparams)
        result = fit_function(
            model,
            parts.train,
            parts.val,
            parts.test,
            config,
            Path(out_dir) / f"fold{split.fold}",
            featurizer=parts.featurizer,
        )
        scores = {
            name: classification_scores(
                graph_labels(getattr(parts, name)),
                predicted_classes(result.trained, getattr(parts, name)),
                classes,
            )
            for name in ("val", "test")
        }
        per_fold.append(
            {
                "fold": split.fold,
                "sizes": split.sizes(),
                **scores,
                "best_epoch": result.metrics["best_epoch"],
                "epochs": result.metrics["epochs"],
                "train_seconds": result.metrics["train_seconds"],
            }
        )
    return {
        "test": summarize([f["test"] for f in per_fold]),
        "val": summarize([f["val"] for f in per_fold]),
        "per_fold": per_fold,
    }
