"""The steps a screen runs on every chunk of the library, the same in every engine.

``chunk`` (a :class:`~gnnkit.data.molecules.stream.MoleculeStream` frame: ``row``, ``line``,
``smiles``, input columns) → :func:`featurize_chunk` → :func:`predict_chunk` (the chunk with
prediction columns and ``reason``) → :func:`split_results` (a :class:`ScreenedBlock` for the
driver's top-K and invalid-row report). Chunk boundaries and batches within a chunk are the
same in every engine, so every molecule gets bit-for-bit the same prediction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from gnnkit.data.molecules.inputs import PredictionInputs, prediction_inputs
from gnnkit.data.molecules.stream import READ_ERROR
from gnnkit.train import Ensemble
from gnnkit.workflows.molecules.columns import add_prediction_columns

#: Why a row has no prediction ("" when it has one).
REASON = "reason"
INVALID_COLUMNS = ("row", "line", "smiles", REASON)


@dataclass(slots=True)
class FeaturizedChunk:
    """A chunk as read, and its molecules featurized (positions index the chunk's rows)."""

    frame: pd.DataFrame
    inputs: PredictionInputs


@dataclass(slots=True)
class ScreenedBlock:
    """What the driver merges, per chunk (or per group of chunks).

    Attributes:
        screened: rows read.
        candidates: the rows with predictions that may enter the top-K: all of them, or
            (from an engine that ranks per block) the block's own top-K, already with their
            similarity columns.
        invalid: ``row``, ``line``, ``smiles``, ``reason`` of the rows without a prediction.
    """

    screened: int
    candidates: pd.DataFrame
    invalid: pd.DataFrame


def featurize_chunk(
    frame: pd.DataFrame, featurizer: dict[str, Any], columns: Mapping[str, str] | None = None
) -> FeaturizedChunk:
    """Featurize a chunk's SMILES as the model's featurizer settings say (one process).

    ``columns``: for a model of several molecules per row, the library's SMILES columns (in
    the model's order) → their names in the chunk; ``None`` reads the chunk's ``smiles``."""
    smiles: list[str] | dict[str, list[str]] = frame["smiles"].tolist()
    if columns:
        smiles = {name: [s.strip() for s in frame[inner]] for name, inner in columns.items()}
    return FeaturizedChunk(frame, prediction_inputs(smiles, featurizer))


def predict_chunk(
    ensemble: Ensemble, chunk: FeaturizedChunk, batch_size: int, device: str | torch.device
) -> pd.DataFrame:
    """The chunk's rows with the ensemble's prediction columns (mean, and ``_std`` for an
    ensemble; NaN where the molecule was not featurized) and :data:`REASON` (for an SD
    record whose molecule RDKit could not read, the chunk's
    :data:`~gnnkit.data.molecules.stream.READ_ERROR`)."""
    with torch.inference_mode():
        prediction = ensemble.predict(chunk.inputs.batches(batch_size), device=device)
    results = add_prediction_columns(chunk.frame, ensemble.task, prediction, chunk.inputs.positions)
    reasons = np.full(len(results), "", dtype=object)
    for position, reason in chunk.inputs.failures:
        reasons[position] = reason
    if READ_ERROR in results:
        unread = (results[READ_ERROR] != "").to_numpy()
        reasons[unread] = results[READ_ERROR].to_numpy()[unread]
    results[REASON] = reasons
    return results


def split_results(results: pd.DataFrame) -> ScreenedBlock:
    """A chunk's results as candidates (rows with a prediction) and invalid rows."""
    invalid = results[REASON] != ""
    return ScreenedBlock(
        len(results),
        results[~invalid].drop(columns=REASON),
        results.loc[invalid, list(INVALID_COLUMNS)],
    )
