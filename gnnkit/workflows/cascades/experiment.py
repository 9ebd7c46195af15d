"""One evaluation of a cascade classifier or the baseline, from data to ``metrics.json``.

``metrics.json`` holds::

    {
      "kind": "gnn" | "baseline", "model": name, "hparams"/"classifier": ...,
      "data": {"spec", "cascades", "classes", "class_counts", "timed", "node_features",
               "report"},
      "features": {"set", "groups"},
      "protocol": {"split", "splits", "folds", "seed", "val_fraction",
                   "claim_threshold", "groups", "largest_group"},   # the last three: claim
      "test": {"accuracy": {"mean", "std"}, "macro_f1": {...}, "per_class_f1": {...}},
      "val": {...},                    # plain numbers instead of {"mean", "std"} for one split
      "per_fold": [{"fold", "sizes", "test", "val", ...}, ...],
      "early_detection": [{"hours": h | null, "test", "val", "per_fold"}, ...],  # if asked
      "seconds": wall-clock seconds
    }

``hours: null`` is the whole cascade. Rounds of the early-detection windows use the same
splits, and the same per-round user and text tables, as the main evaluation.

Protocols (``split``): ``stratified`` k-fold, or ``claim``: source posts whose TF-IDF cosine
similarity reaches ``claim_threshold`` are joined into claims (connected components,
:func:`~gnnkit.data.cascades.content.claim_groups`) and stratified group k-fold keeps every
claim on one side of each cut, so a model is scored on claims it never saw.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gnnkit.choices import CASCADE_SPLITS, parse_feature_set
from gnnkit.data.cascades.content import claim_groups
from gnnkit.data.cascades.dataset import CascadeSet
from gnnkit.data.cascades.featurizer import (
    CascadeFeaturizer,
    TrainingFeatures,
    check_feature_set,
)
from gnnkit.data.cascades.folds import (
    FoldSplit,
    cross_validation_splits,
    given_split,
    group_cross_validation_splits,
    holdout_split,
)
from gnnkit.workflows.cascades.baseline import baseline_folds, default_classifier, fold_features
from gnnkit.workflows.cascades.early import plot_early_detection
from gnnkit.workflows.cascades.evaluation import (
    FoldGraphs,
    GNNSettings,
    GraphSource,
    fold_graphs,
    train_folds,
)

METRICS_FILE = "metrics.json"
EARLY_DETECTION_PLOT = "early_detection.png"
#: ``(window, folder) -> {"test", "val", "per_fold"}``
Evaluate = Callable[[float | None, Path], dict[str, Any]]


@dataclass(slots=True)
class CascadeExperiment:
    """Data, features and protocol shared by every model evaluated on it.

    Attributes:
        data: the cascades; every one must be labelled.
        spec: how the data was named (e.g. ``twitter:DIR``), for the record.
        folds: ``k >= 2`` for k-fold; 1 for one split (the data's own split when it ships one,
            else a stratified 20 % test split).
        seed: seeds the splits (and, in the runners, models and classifiers).
        val_fraction: share of the training folds carved out for validation.
        observe_hours: early-detection windows (``None``: the whole cascade); empty for none.
        features: the feature set (:func:`~gnnkit.choices.parse_feature_set`).
        split: ``stratified`` or ``claim`` (see the module docstring).
        claim_threshold: TF-IDF cosine similarity that joins two posts into one claim.
        text_dims: SVD dimensions of the text features.
        inner_folds: nested folds of the training cascades' out-of-fold user and text
            features.
    """

    data: CascadeSet
    spec: str
    folds: int = 5
    seed: int = 0
    val_fraction: float = 0.1
    observe_hours: Sequence[float | None] = ()
    features: str = "structure"
    split: str = "stratified"
    claim_threshold: float = 0.5
    text_dims: int = 32
    inner_folds: int = 5
    _claims: np.ndarray | None = field(default=None, init=False, repr=False)
    _fitted: dict[int, tuple[CascadeFeaturizer, TrainingFeatures]] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        if not self.data.timed and any(hours is not None for hours in self.observe_hours):
            raise ValueError(
                f"{self.spec} has no re-post delays (e.g. UPFD), so its cascades cannot be "
                "observed up to a time; drop --observe-hours (or keep only 'all')"
            )
        check_feature_set(self.data, self.groups)
        if self.split not in CASCADE_SPLITS:
            raise ValueError(
                f"unknown split {self.split!r}; choose from {', '.join(CASCADE_SPLITS)}"
            )
        if self.split == "claim":
            if not self.data.has_text:
                raise ValueError(
                    f"--split claim groups source posts by their texts, which {self.spec} "
                    "lacks (a Twitter15/16 folder has them in source_tweets.txt)"
                )
            if self.folds < 2:
                raise ValueError("--split claim needs --folds 2 or more")

    @property
    def groups(self) -> tuple[str, ...]:
        """The feature groups of :attr:`features`."""
        return parse_feature_set(self.features)

    def claims(self) -> np.ndarray | None:
        """Claim index of every cascade ``[B]`` for the claim split, else ``None``."""
        if self.split != "claim":
            return None
        if self._claims is None:
            texts = [c.text for c in self.data.cascades]
            self._claims = claim_groups(texts, self.claim_threshold)
        return self._claims

    def splits(self) -> list[FoldSplit]:
        labels = self.data.labels()
        if (labels < 0).any():
            raise ValueError(
                f"{int((labels < 0).sum())} cascade(s) have no label; evaluation needs all"
            )
        claims = self.claims()
        if claims is not None:
            return group_cross_validation_splits(
                labels, claims, self.folds, self.seed, self.val_fraction
            )
        if self.folds >= 2:
            return cross_validation_splits(labels, self.folds, self.seed, self.val_fraction)
        if self.folds == 1:
            if self.data.split is not None:
                return [given_split(self.data.split)]
            return [holdout_split(labels, self.seed, val_fraction=self.val_fraction)]
        raise ValueError(f"folds must be at least 1, got {self.folds}")

    def protocol(self) -> dict[str, Any]:
        if self.split == "claim":
            kind = "claim-disjoint stratified group k-fold, validation claims carved from the "
            kind += "training folds"
        elif self.folds >= 2:
            kind = "stratified k-fold, validation carved from the training folds"
        elif self.data.split is not None:
            kind = "the split shipped with the data"
        else:
            kind = "one stratified split: 20% test, validation carved from the rest"
        protocol: dict[str, Any] = {
            "split": self.split,
            "splits": kind,
            "folds": self.folds,
            "seed": self.seed,
            "val_fraction": self.val_fraction,
        }
        claims = self.claims()
        if claims is not None:
            sizes = np.bincount(claims)
            protocol |= {
                "claim_threshold": self.claim_threshold,
                "groups": int(sizes.size),
                "largest_group": int(sizes.max()),
            }
        return protocol

    def describe_data(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "cascades": len(self.data),
            "classes": list(self.data.classes),
            "class_counts": self.data.class_counts(),
            "timed": self.data.timed,
            "node_features": list(self.data.node_feature_names()),
            "report": self.data.report.to_dict() if self.data.report is not None else None,
        }

    def fitted(self, split: FoldSplit) -> tuple[CascadeFeaturizer, TrainingFeatures]:
        """The round's featurizer, fitted on its training split, and its training cascades'
        out-of-fold features (computed once per round, shared by every window and model)."""
        if split.fold not in self._fitted:
            featurizer = CascadeFeaturizer.fit(
                self.data, split.train, self.groups, text_dims=self.text_dims, seed=self.seed
            )
            training = featurizer.training_features(
                self.data, split.train, self.inner_folds, self.claims(), self.seed + split.fold
            )
            self._fitted[split.fold] = (featurizer, training)
        return self._fitted[split.fold]

    def graph_source(self, hours: float | None) -> GraphSource:
        """The rounds' graphs observed up to ``hours``: built once when the features need no
        fitting (structure alone), else per round from its fitted featurizer."""
        cascades = self.data.cascades
        if not {"users", "text"} & set(self.groups):
            featurizer = CascadeFeaturizer(
                self.groups, self.data.classes, self.data.node_feature_names()
            )
            graphs = featurizer.graphs(cascades, hours)
            settings = featurizer_settings(featurizer, self.features, hours)
            return lambda split: fold_graphs(graphs, split, settings)

        def build(split: FoldSplit) -> FoldGraphs:
            featurizer, training = self.fitted(split)
            parts = [
                featurizer.graphs([cascades[i] for i in split.train], hours, training),
                featurizer.graphs([cascades[i] for i in split.val], hours),
                featurizer.graphs([cascades[i] for i in split.test], hours),
            ]
            return FoldGraphs(*parts, featurizer_settings(featurizer, self.features, hours))

        return build

    def run(
        self, header: dict[str, Any], evaluate: Evaluate, out_dir: str | os.PathLike
    ) -> dict[str, Any]:
        """Evaluate on the whole cascades and on every window, write ``metrics.json`` (and
        ``early_detection.png``), and return the metrics."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        main = evaluate(None, out_dir)
        metrics = {
            **header,
            "data": self.describe_data(),
            "features": {"set": self.features, "groups": list(self.groups)},
            "protocol": self.protocol(),
            **main,
        }
        if self.observe_hours:
            entries = []
            for hours in self.observe_hours:
                window = out_dir / "early" / f"hours_{hours:g}" if hours is not None else None
                result = main if window is None else evaluate(hours, window)
                entries.append({"hours": hours, **result})
            metrics["early_detection"] = entries
            plot_early_detection({header["model"]: entries}, out_dir / EARLY_DETECTION_PLOT)
        metrics["seconds"] = time.perf_counter() - start
        (out_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=2, allow_nan=False) + "\n")
        return metrics


def featurizer_settings(
    featurizer: CascadeFeaturizer, feature_set: str, hours: float | None
) -> dict[str, Any]:
    """What a checkpoint needs to rebuild its input graphs (stored in ``model.pt``): the
    classes, feature names, window and the fitted user and text tables."""
    return {
        "kind": "cascade",
        "classes": list(featurizer.classes),
        "feature_set": feature_set,
        "node_features": list(featurizer.node_feature_names()),
        "graph_features": list(featurizer.graph_feature_names()),
        "observe_hours": hours,
        "tables": featurizer.to_plain(),
    }


def run_gnn(
    experiment: CascadeExperiment, settings: GNNSettings, out_dir: str | os.PathLike
) -> dict[str, Any]:
    """Cross-validate a cascade network (see :func:`~.evaluation.train_folds`); each window's
    rounds are written to ``out_dir/fold<f>`` or ``out_dir/early/hours_<h>/fold<f>``."""
    splits, data = experiment.splits(), experiment.data

    def evaluate(hours: float | None, folder: Path) -> dict[str, Any]:
        return train_folds(experiment.graph_source(hours), splits, data.classes, settings, folder)

    header = {
        "kind": "gnn",
        "model": settings.model,
        "hparams": settings.hparams,
        "train_config": asdict(settings.config),
    }
    return experiment.run(header, evaluate, out_dir)


def run_baseline(
    experiment: CascadeExperiment, classifier: str | None, out_dir: str | os.PathLike
) -> dict[str, Any]:
    """Evaluate a baseline (see :mod:`~.baseline`) on the same splits and feature set;
    ``classifier`` ``None`` picks :func:`~.baseline.default_classifier`."""
    splits, data = experiment.splits(), experiment.data
    labels = data.labels()
    classifier = classifier or default_classifier(experiment.groups)

    def evaluate(hours: float | None, _folder: Path) -> dict[str, Any]:
        features = fold_features(
            data,
            experiment.groups,
            hours,
            featurizer_of=lambda split: experiment.fitted(split)[0],
            out_of_fold_users=lambda split: experiment.fitted(split)[1].users,
        )
        return baseline_folds(features, labels, splits, data.classes, classifier, experiment.seed)

    name = f"baseline-{classifier}"
    header = {"kind": "baseline", "model": name, "classifier": classifier}
    return experiment.run(header, evaluate, out_dir)
