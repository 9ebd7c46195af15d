"""Prediction columns written beside a molecule file's own columns."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

import numpy as np
import pandas as pd

from gnnkit.train import Ensemble, EnsemblePrediction
from gnnkit.train.tasks import Task

#: Column that predictions of a partial run (``allow_partial``) add: the models used.
MODELS_USED = "models_used"


def _prediction_slots(task: Task) -> list[tuple[str, tuple[slice | int, ...]]]:
    """``(column, index into a [B, T] or [B, T, C] prediction)``: one per target, or per
    target and class (multiclass)."""
    slots: list[tuple[str, tuple[slice | int, ...]]] = []
    for t, name in enumerate(task.names):
        if task.kind == "multiclass":
            slots += [(f"{name}_class{c}", (slice(None), t, c)) for c in range(task.n_classes)]
        else:
            slots.append((name, (slice(None), t)))
    return slots


def prediction_columns(task: Task, prediction: EnsemblePrediction) -> dict[str, np.ndarray]:
    """Column name → values: one per target, or per target and class (multiclass), each
    followed by a column per uncertainty part the prediction holds (``_std``, and
    ``_aleatoric_std``, ``_epistemic_std``, ``_lower``, ``_upper`` where present; see
    :data:`~gnnkit.train.predict.UNCERTAINTY_PARTS`)."""
    columns: dict[str, np.ndarray] = {}
    for column, index in _prediction_slots(task):
        columns[column] = prediction.mean[index].numpy()
        for part in prediction.parts:
            columns[f"{column}_{part}"] = getattr(prediction, part)[index].numpy()
    return columns


def prediction_column_names(
    task: Task, parts: Sequence[str] = (), taken: Iterable[str] = ()
) -> list[str]:
    """The names of :func:`prediction_columns` for a prediction holding the uncertainty
    ``parts`` (e.g. ``("std",)``), as written beside input columns: a name in ``taken`` gets
    ``_pred`` appended."""
    taken = set(taken)
    names = [
        name
        for column, _ in _prediction_slots(task)
        for name in (column, *(f"{column}_{part}" for part in parts))
    ]
    return [output_name(name, taken) for name in names]


def output_name(name: str, taken: Collection[str]) -> str:
    """``name`` for an output column beside input columns ``taken``: with ``_pred`` appended
    when an input column has it."""
    return f"{name}_pred" if name in taken else name


def add_models_used(frame: pd.DataFrame, ensemble: Ensemble) -> None:
    """Adds the :data:`MODELS_USED` column (the ensemble's size) to ``frame`` in place when
    ``ensemble`` is a partial run (``allow_partial``); otherwise leaves it as it is."""
    if ensemble.missing:
        frame[output_name(MODELS_USED, frame.columns)] = len(ensemble)


def add_prediction_columns(
    frame: pd.DataFrame, task: Task, prediction: EnsemblePrediction, positions: np.ndarray
) -> pd.DataFrame:
    """A copy of ``frame`` (one row per input row) with the :func:`prediction_columns` of the
    rows at ``positions`` (in order), NaN in the other rows; named by
    :func:`prediction_column_names` with ``frame``'s columns taken."""
    out = frame.copy()
    columns = prediction_columns(task, prediction)
    names = prediction_column_names(task, prediction.parts, frame.columns)
    for name, values in zip(names, columns.values()):
        filled = np.full(len(frame), np.nan)
        filled[positions] = values
        out[name] = filled
    return out
