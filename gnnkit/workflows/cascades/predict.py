"""Predict the class of cascades with the models of a training run."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from gnnkit.data.cascades.dataset import CascadeSet
from gnnkit.train import Ensemble, load_ensemble


def load_cascade_models(path: str | os.PathLike) -> Ensemble:
    """The models at ``path`` (one ``model.pt``, or every ``fold*/model.pt`` of a run folder)
    as an :class:`~gnnkit.train.Ensemble`, whose class probabilities
    :func:`predict_cascades` averages."""
    ensemble = load_ensemble(path)
    for source, member in zip(ensemble.sources, ensemble.members):
        settings = member.featurizer or {}
        if settings.get("kind") != "cascade":
            raise ValueError(f"{source} is not a cascade classifier (featurizer {settings!r})")
    return ensemble


def predict_cascades(
    models: Ensemble, data: CascadeSet, hours: float | None = None
) -> pd.DataFrame:
    """Class probabilities of every cascade, averaged over the ensemble's models.

    Cascades are observed up to ``hours`` (``None``: the window the models were trained on).
    The models' classes and node features must match the data's.

    Returns:
        One row per cascade: ``id``, ``label`` (empty when unknown), ``predicted`` and
        ``p_<class>`` for every class.
    """
    settings = models.featurizer
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
    probabilities = models.predict(graphs).mean[:, 0, :].numpy()
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
