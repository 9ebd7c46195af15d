"""The gnnkit trainer: one Lightning-based loop for every gnnkit model and task kind.

:func:`fit` trains and writes a run's artefacts; :func:`load_model` rebuilds a trained model
from its ``model.pt``; :class:`TrainedModel` predicts; :func:`load_ensemble` gathers the models
of a run (ensemble members, cross-validation folds) into one :class:`Ensemble` predicting their
mean and spread; :func:`set_precision` quantizes them to int8 for CPU inference.
"""

from gnnkit.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    globals(),
    {
        ".calibration": ("Calibration", "fit_calibration", "read_calibration"),
        ".checkpoint": ("load_model", "save_checkpoint"),
        ".config": ("TrainConfig", "add_config_arguments", "config_from_arguments"),
        ".ensemble": ("Ensemble", "find_model_files", "load_ensemble"),
        ".metrics": ("compute_metrics", "metric_names"),
        ".precision": ("set_precision",),
        ".predict": ("EnsemblePrediction", "TrainedModel"),
        ".scaling": ("TargetScaler",),
        ".tasks": ("Task", "TaskKind"),
        ".trainer": ("TrainResult", "fit"),
        "gnnkit.choices": ("PRECISIONS",),
        "gnnkit.errors": ("CheckpointError",),
    },
)
