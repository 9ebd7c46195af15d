"""One evaluation of a cascade classifier or the baseline, from data to ``metrics.json``.

``metrics.json`` holds::

    {
      "kind": "gnn" | "baseline", "model": name, "hparams"/"classifier": ...,
      "data": {"spec", "cascades", "classes", "class_counts", "timed", "node_features",
               "report"},
      "protocol": {"splits", "folds", "seed", "val_fraction"},
      "test": {"accuracy": {"mean", "std"}, "macro_f1": {...}, "per_class_f1": {...}},
      "val": {...},                    # plain numbers instead of {"mean", "std"} for one split
      "per_fold": [{"fold", "sizes", "test", "val", ...}, ...],
      "early_detection": [{"hours": h | null, "test", "val", "per_fold"}, ...],  # if asked
      "seconds": wall-clock seconds
    }

``hours: null`` is the whole cascade. Rounds of the early-detection windows use the same
splits as the main evaluation.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gnnkit.data.cascades.dataset import CascadeSet
from gnnkit.data.cascades.folds import (
    FoldSplit,
    cross_validation_splits,
    given_split,
    holdout_split,
)
from gnnkit.workflows.cascades.baseline import baseline_features, baseline_folds
from gnnkit.workflows.cascades.early import plot_early_detection
from gnnkit.workflows.cascades.evaluation import GNNSettings, train_folds

METRICS_FILE = "metrics.json"
EARLY_DETECTION_PLOT = "early_detection.png"
#: ``(window, folder) -> {"test", "val", "per_fold"}``
Evaluate = Callable[[float | None, Path], dict[str, Any]]


@dataclass(slots=True)
class CascadeExperiment:
    """Data and protocol shared by every model evaluated on it.

    Attributes:
        data: the cascades; every one must be labelled.
        spec: how the data was named (e.g. ``twitter:DIR``), for the record.
        folds: ``k >= 2`` for stratified k-fold; 1 for one split (the data's own split when it
            ships one, else a stratified 20 % test split).
        seed: seeds the splits (and, in the runners, models and classifiers).
        val_fraction: share of the training folds carved out for validation.
        observe_hours: early-detection windows (``None``: the whole cascade); empty for none.
    """

    data: CascadeSet
    spec: str
    folds: int = 5
    seed: int = 0
    val_fraction: float = 0.1
    observe_hours: Sequence[float | None] = ()

    def __post_init__(self) -> None:
        if not self.data.timed and any(hours is not None for hours in self.observe_hours):
            raise ValueError(
                f"{self.spec} has no re-post delays (e.g. UPFD), so its cascades cannot be "
                "observed up to a time; drop --observe-hours (or keep only 'all')"
            )

    def splits(self) -> list[FoldSplit]:
        labels = self.data.labels()
        if (labels < 0).any():
            raise ValueError(
                f"{int((labels < 0).sum())} cascade(s) have no label; evaluation needs all"
            )
        if self.folds >= 2:
            return cross_validation_splits(labels, self.folds, self.seed, self.val_fraction)
        if self.folds == 1:
            if self.data.split is not None:
                return [given_split(self.data.split)]
            return [holdout_split(labels, self.seed, val_fraction=self.val_fraction)]
        raise ValueError(f"folds must be at least 1, got {self.folds}")

    def protocol(self) -> dict[str, Any]:
        if self.folds >= 2:
            kind = "stratified k-fold, validation carved from the training folds"
        elif self.data.split is not None:
            kind = "the split shipped with the data"
        else:
            kind = "one stratified split: 20% test, validation carved from the rest"
        return {
            "splits": kind,
            "folds": self.folds,
            "seed": self.seed,
            "val_fraction": self.val_fraction,
        }

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

    def run(
        self, header: dict[str, Any], evaluate: Evaluate, out_dir: str | os.PathLike
    ) -> dict[str, Any]:
        """Evaluate on the whole cascades and on every window, write ``metrics.json`` (and
        ``early_detection.png``), and return the metrics."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        main = evaluate(None, out_dir)
        metrics = {**header, "data": self.describe_data(), "protocol": self.protocol(), **main}
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


def featurizer_settings(data: CascadeSet, hours: float | None) -> dict[str, Any]:
    """What a checkpoint needs to rebuild its input graphs (stored in ``model.pt``)."""
    return {
        "kind": "cascade",
        "classes": list(data.classes),
        "node_features": list(data.node_feature_names()),
        "observe_hours": hours,
    }


def run_gnn(
    experiment: CascadeExperiment, settings: GNNSettings, out_dir: str | os.PathLike
) -> dict[str, Any]:
    """Cross-validate a cascade network (see :func:`~.evaluation.train_folds`); each window's
    rounds are written to ``out_dir/fold<f>`` or ``out_dir/early/hours_<h>/fold<f>``."""
    splits, data = experiment.splits(), experiment.data

    def evaluate(hours: float | None, folder: Path) -> dict[str, Any]:
        return train_folds(
            data.to_graphs(hours),
            splits,
            data.classes,
            settings,
            folder,
            featurizer=featurizer_settings(data, hours),
        )

    header = {
        "kind": "gnn",
        "model": settings.model,
        "hparams": settings.hparams,
        "train_config": asdict(settings.config),
    }
    return experiment.run(header, evaluate, out_dir)


def run_baseline(
    experiment: CascadeExperiment, classifier: str, out_dir: str | os.PathLike
) -> dict[str, Any]:
    """Evaluate the statistics baseline (see :mod:`~.baseline`) on the same splits."""
    splits, data = experiment.splits(), experiment.data
    labels = data.labels()

    def evaluate(hours: float | None, _folder: Path) -> dict[str, Any]:
        features = baseline_features(data.cascades, hours)
        return baseline_folds(features, labels, splits, data.classes, classifier, experiment.seed)

    header = {"kind": "baseline", "model": f"baseline-{classifier}", "classifier": classifier}
    return experiment.run(header, evaluate, out_dir)
