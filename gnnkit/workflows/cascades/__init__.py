"""Cascade classification end to end: leak-free cross-validation of the classifiers in
:mod:`gnnkit.models.cascade` and of the statistics baseline, early detection, prediction.

Usage::

    from gnnkit.data.cascades import generate
    from gnnkit.workflows.cascades import CascadeExperiment, GNNSettings, run_baseline, run_gnn

    experiment = CascadeExperiment(generate(600, seed=0), "synthetic", folds=5, seed=0,
                                   observe_hours=[1.0, 4.0, None])
    gnn = run_gnn(experiment, GNNSettings("bigcn"), "runs/bigcn")
    baseline = run_baseline(experiment, "forest", "runs/forest")
    print(gnn["test"]["accuracy"], baseline["test"]["accuracy"])
"""

from gnnkit.workflows.cascades.baseline import baseline_features, baseline_folds, make_classifier
from gnnkit.workflows.cascades.early import parse_hours, plot_early_detection
from gnnkit.workflows.cascades.evaluation import GNNSettings, train_folds
from gnnkit.workflows.cascades.experiment import (
    CascadeExperiment,
    featurizer_settings,
    run_baseline,
    run_gnn,
)
from gnnkit.workflows.cascades.predict import load_cascade_models, predict_cascades
from gnnkit.workflows.cascades.scores import classification_scores, summarize

__all__ = [
    "CascadeExperiment",
    "GNNSettings",
    "baseline_features",
    "baseline_folds",
    "classification_scores",
    "featurizer_settings",
    "load_cascade_models",
    "make_classifier",
    "parse_hours",
    "plot_early_detection",
    "predict_cascades",
    "run_baseline",
    "run_gnn",
    "summarize",
    "train_folds",
]
