"""Prediction columns written beside a molecule file's own columns."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

import numpy as np
import pandas as pd

from gnnkit.train import Ensemble, EnsemblePrediction
from gnnkit.train.tasks import Task

#: Column that predictions of a partial run (``allow_partial``) add: the models used.
MODELS_USED = "models_used"


def _prediction_slots(task: Task) -> list[tuple[str, tuple[slice | int, ...], bool]]:
    """``(column, index into a [B, T] or [B, T, C] prediction, holds a class label)``: one
    per target, or per target and class (multiclass). Classes with text labels (see
    :attr:`~gnnkit.train.tasks.Task.class_names`) get ``<target>`` holding the most probable
    class's label, then ``<target>_prob_<label>`` per class; integer classes get
    ``<target>_class<c>``."""
    slots: list[tuple[str, tuple[slice | int, ...], bool]] = []
    for t, name in enumerate(task.names):
        if task.kind != "multiclass":
            slots.append((name, (slice(None), t), False))
        elif task.class_names is None:
            slots += [
                (f"{name}_class{c}", (slice(None), t, c), False) for c in range(task.n_classes)
            ]
        else:
            slots.append((name, (slice(None), t), True))
            slots += [
                (f"{name}_prob_{label}", (slice(None), t, c), False)
                for c, label in enumerate(task.class_names)
            ]
    return slots


def prediction_columns(task: Task, prediction: EnsemblePrediction) -> dict[str, np.ndarray]:
    """Column name → values: one per target, or per target and class (multiclass; with the
    predicted label first when the classes have names), each value or probability followed by
    a column per uncertainty part the prediction holds (``_std``, and ``_aleatoric_std``,
    ``_epistemic_std``, ``_lower``, ``_upper`` where present; see
    :data:`~gnnkit.train.predict.UNCERTAINTY_PARTS`)."""
    columns: dict[str, np.ndarray] = {}
    for column, index, label in _prediction_slots(task):
        if label:
            best = prediction.mean[index].argmax(dim=-1).numpy()
            columns[column] = np.asarray(task.class_names, dtype=object)[best]
            continue
        columns[column] = prediction.mean[index].numpy()
        for part in prediction.parts:
            columns[f"{column}_{part}"] = getattr(prediction, part)[index].numpy()
    return columns


def prediction_column_names(
    task: Task, parts: Sequence[str] = (), taken: Iterable[str] = (), labels: bool = True
) -> list[str]:
    """The names of :func:`prediction_columns` for a prediction holding the uncertainty
    ``parts`` (e.g. ``("std",)``; without the predicted-label columns unless ``labels``), as
    written beside input columns: a name in ``taken`` gets ``_pred`` appended."""
    taken = set(taken)
    names = [
        name
        for column, _, label in _prediction_slots(task)
        if labels or not label
        for name in (column, *(() if label else (f"{column}_{part}" for part in parts)))
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
        filled = np.full(len(frame), None if values.dtype == object else np.nan, values.dtype)
        filled[positions] = values
        out[name] = filled
    return out


def prediction_slot(task: Task, column: str | None) -> tuple[str, tuple[slice | int, ...]]:
    """The prediction column ``column`` (as :func:`prediction_column_names` names it beside no
    input columns; ``None``: the first) and its index into a ``[B, T]`` or ``[B, T, C]``
    prediction; a predicted-label column (text classes) is not one, its ``_prob_`` columns are.

    Raises:
        ValueError: ``column`` is not a prediction of ``task``; the message lists those that are.
    """
    slots = {column: index for column, index, label in _prediction_slots(task) if not label}
    column = column or next(iter(slots))
    if column not in slots:
        raise ValueError(
            f"--target {column!r} is not a prediction of this model; choose one of "
            f"{', '.join(slots)}"
        )
    return column, slots[column]
