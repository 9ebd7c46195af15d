"""Predict the class of cascades with the models of a training run.

Each model carries the featurizer it was trained with (feature set, window, and the user and
text tables fitted on its own training split), so every model builds its own graphs of the new
cascades: a user none of its training cascades had gets the prior, a post without text zeros.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gnnkit.choices import parse_feature_set
from gnnkit.data.cascades.dataset import CascadeSet
from gnnkit.data.cascades.featurizer import (
    CascadeFeaturizer,
    check_feature_set,
)
from gnnkit.train import TrainedModel, find_model_files, load_model


@dataclass(slots=True)
class CascadeModels:
    """Cascade classifiers of one run, each with its featurizer.

    Attributes:
        members: the trained models.
        featurizers: the featurizer of each member.
        settings: the featurizer settings of each member (as stored in ``model.pt``).
        sources: where each member came from.
    """

    members: list[TrainedModel]
    featurizers: list[CascadeFeaturizer]
    settings: list[dict[str, Any]]
    sources: list[Path]

    def __len__(self) -> int:
        return len(self.members)

    @property
    def classes(self) -> list[str]:
        return list(self.settings[0]["classes"])


def load_cascade_models(path: str | os.PathLike, features: str | None = None) -> CascadeModels:
    """The models at ``path`` (one ``model.pt``, or every ``fold*/model.pt`` of a run folder),
    whose class probabilities :func:`predict_cascades` averages. With ``features``, every model
    must read that feature set."""
    members, featurizers, settings, sources = [], [], [], []
    for source in find_model_files(path):
        member = load_model(source)
        stored = member.featurizer or {}
        if stored.get("kind") != "cascade" or "tables" not in stored:
            raise ValueError(
                f"{source} is not a cascade classifier of this gnnkit version (featurizer "
                f"keys {sorted(stored)}); train it again with `gnnkit cascade train`"
            )
        if features is not None and parse_feature_set(features) != parse_feature_set(
            stored["feature_set"]
        ):
            raise ValueError(f"{source} reads --features {stored['feature_set']}, not {features}")
        if settings and (stored["classes"], stored["feature_set"]) != (
            settings[0]["classes"],
            settings[0]["feature_set"],
        ):
            raise ValueError(
                f"{source} predicts {stored['classes']} from {stored['feature_set']}, unlike "
                f"{sources[0]}: a run's models must share classes and feature set"
            )
        members.append(member)
        featurizers.append(CascadeFeaturizer.from_plain(stored["tables"]))
        settings.append(stored)
        sources.append(source)
    return CascadeModels(members, featurizers, settings, sources)


def predict_cascades(
    models: CascadeModels, data: CascadeSet, hours: float | None = None
) -> pd.DataFrame:
    """Class probabilities of every cascade, averaged over the run's models.

    Cascades are observed up to ``hours`` (``None``: the window the models were trained on).
    The models' classes must match the data's, and the data must carry what the feature set
    reads (the structural columns the models were trained on, user ids, source texts).

    Returns:
        One row per cascade: ``id``, ``label`` (empty when unknown), ``predicted`` and
        ``p_<class>`` for every class.
    """
    classes = models.classes
    if list(data.classes) != classes:
        raise ValueError(f"the models predict classes {classes}, the data has {list(data.classes)}")
    probabilities = np.zeros((len(data), len(classes)))
    for member, featurizer, stored in zip(models.members, models.featurizers, models.settings):
        check_feature_set(data, featurizer.groups)
        if "structure" in featurizer.groups and data.node_feature_names() != (
            featurizer.structure_names
        ):
            raise ValueError(
                f"the models read node features {list(featurizer.structure_names)}, the data "
                f"gives {list(data.node_feature_names())}"
            )
        window = hours if hours is not None else stored["observe_hours"]
        graphs = featurizer.graphs(data.cascades, window)
        probabilities += member.predict(graphs)[:, 0, :].numpy()
    probabilities /= len(models)
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
