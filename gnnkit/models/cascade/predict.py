"""Predict the class of cascades with the models of a training run."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from gnnkit.data.cascades.dataset import CascadeSet
from gnnkit.train import TrainedModel, load_model

MODEL_FILE = "model.pt"


def load_cascade_models(path: str | os.PathLike) -> list[TrainedModel]:
    """The models at ``path``: one ``model.pt``, or every ``fold*/model.pt`` of a run folder
    (their class probabilities are averaged by :func:`predict_cascades`)."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(path.glob(f"fold*/{MODEL_FILE}"))
    if not files:
        raise FileNotFoundError(
            f"{path} is neither a model.pt nor a run folder with fold*/{MODEL_FILE} "
            "(gnnkit cascade train --out writes one)"
        )
    models = [load_model(file) for file in files]
    for file, model in zip(files, models):
        settings = model.featurizer or {}
        if settings.get("kind") != "cascade":
            raise ValueError(f"{file} is not a cascade classifier (featurizer {settings!r})")
    return models


def predict_cascades(
    models: Sequence[TrainedModel], data: CascadeSet, hours: float | None = None
) -> pd.DataFrame:
    """Class probabilities of every cascade, averaged over ``models``.

    Cascades are observed up to ``hours`` (``None``: the window the models were trained on).
    The models' classes and node features must match the data's.

    Returns:
        One row per cascade: ``id``, ``label`` (empty when unknown), ``predicted`` and
        ``p_<class>`` for every class.
    """
    settings = models[0].featurizer
    for model in models[1:]:
        if model.featurizer != settings:
            raise ValueError("the models were trained with different featurizer settings")
    classes, names = list(settings["classes"]), list(settings["node_features"])
    if list(data.classes) != classes:
        raise ValueError(f"the models predict classes {classes}, the data has {list(data.classes)}")
    if list(data.node_feature_names()) != names:
        raise ValueError(
            f"the models read node features {names}, the data gives "
            f"{list(data.node_feature_names())}"
        )
    window = hours if hours is not None else settings["observe_hours"]
    graphs = data.to_graphs(window)
    probabilities = torch.stack([m.predict(graphs)[:, 0, :] for m in models]).mean(dim=0).numpy()
    frame = pd.DataFrame(
        {
            "id": [c.source_id for c in data.cascades],
            "label": [c.label or "" for c in data.cascades],
            "predicted": [classes[i] for i in np.argmax(probabilities, axis=1)],
        }
    )
    for i, name in enumerate(classes):
        frame[f"p_{name}"] = probabilities[:, i]
    return frame
