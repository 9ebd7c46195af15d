"""The gnnkit trainer: one Lightning-based loop for every gnnkit model and task kind.

:func:`fit` trains and writes a run's artefacts; :func:`load_model` rebuilds a trained model
from its ``model.pt``; :class:`TrainedModel` predicts; :func:`load_ensemble` gathers the models
of a run (ensemble members, cross-validation folds) into one :class:`Ensemble` predicting their
mean and spread; :func:`set_precision` quantizes them to int8 for CPU inference.
"""

from gnnkit.train.checkpoint import CheckpointError, load_model, save_checkpoint
from gnnkit.train.config import TrainConfig, add_config_arguments, config_from_arguments
from gnnkit.train.ensemble import Ensemble, EnsemblePrediction, find_model_files, load_ensemble
from gnnkit.train.metrics import compute_metrics, metric_names
from gnnkit.train.precision import PRECISIONS, set_precision
from gnnkit.train.predict import TrainedModel
from gnnkit.train.scaling import TargetScaler
from gnnkit.train.tasks import Task, TaskKind
from gnnkit.train.trainer import TrainResult, fit

__all__ = [
    "PRECISIONS",
    "CheckpointError",
    "Ensemble",
    "EnsemblePrediction",
    "TargetScaler",
    "Task",
    "TaskKind",
    "TrainConfig",
    "TrainResult",
    "TrainedModel",
    "add_config_arguments",
    "compute_metrics",
    "config_from_arguments",
    "find_model_files",
    "fit",
    "load_ensemble",
    "load_model",
    "metric_names",
    "save_checkpoint",
    "set_precision",
]
