"""Predictions and learned fingerprints of a trained molecule run on a molecule file."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import Data

from gnnkit.data.molecules import write_invalid_rows
from gnnkit.data.molecules.components import MoleculeColumns, reading_columns
from gnnkit.data.molecules.descriptors import (
    DescriptorMismatchError,
    check_descriptor_record,
    read_descriptor_file,
)
from gnnkit.data.molecules.inputs import PredictionInputs, featurizer_config, prediction_inputs
from gnnkit.data.molecules.table import read_molecule_table
from gnnkit.models import model_spec
from gnnkit.models.cascade import CASCADE_MODELS
from gnnkit.train import CheckpointError, Ensemble, TrainedModel, load_ensemble, set_precision
from gnnkit.workflows.molecules.columns import add_models_used, add_prediction_columns
from gnnkit.workflows.molecules.config import MOLECULE_MODELS


def featurize_for_prediction(
    smiles: list[str],
    featurizer: dict[str, Any],
    workers: int = 1,
    descriptor_rows: np.ndarray | None = None,
) -> tuple[list[Data], np.ndarray, list[tuple[int, str]]]:
    """Graphs of the SMILES that parse (and, for a model trained on conformers, embed: then
    each graph has ``pos``), their positions, and ``(position, reason)`` of those that do not
    (see :func:`~gnnkit.data.molecules.inputs.prediction_inputs`, which hands the same
    molecules over as batches)."""
    inputs = prediction_inputs(smiles, featurizer, workers, descriptor_rows)
    return inputs.graphs(), inputs.positions, inputs.failures


def check_molecule_model(trained: TrainedModel, source: Path) -> None:
    """Raise :class:`~gnnkit.train.CheckpointError` naming ``source`` unless it holds a
    molecule model whose featurizer makes the atom and bond features its weights expect, and
    whose RDKit descriptors (if any) the installed RDKit computes."""
    spec = model_spec(trained.model)
    if spec.name not in MOLECULE_MODELS:
        kind = "a cascade model" if spec.name in CASCADE_MODELS else "a model"
        raise CheckpointError(
            f"{source} is {kind} ({spec.name}), not a molecule model ({', '.join(MOLECULE_MODELS)})"
        )
    featurizer = featurizer_config(trained.featurizer or {})
    for part, width in (("atom", featurizer.atom_dim), ("bond", featurizer.bond_dim)):
        expected = spec.hparams.get(f"{part}_dim")
        if expected is not None and expected != width:
            raise CheckpointError(
                f"{source}: its featurizer ({featurizer.atom_features!r} atom features) gives "
                f"{width} {part} features but the weights expect {expected}"
            )
    _check_descriptors(trained, spec.hparams.get("descriptor_dim"), source)


def _check_descriptors(trained: TrainedModel, width: int | None, source: Path) -> None:
    """:func:`~gnnkit.data.molecules.descriptors.check_descriptor_record` for a checkpoint:
    a mismatch is a :class:`~gnnkit.train.CheckpointError` naming ``source``, a warning goes
    to stderr."""
    try:
        warning = check_descriptor_record(trained.featurizer or {}, width)
    except DescriptorMismatchError as error:
        raise CheckpointError(f"{source}: {error}") from error
    if warning:
        print(f"warning: {source}: {warning}", file=sys.stderr)


def load_molecule_ensemble(model_dir: str | Path, allow_partial: bool = False) -> Ensemble:
    """The models of a molecule run (see :func:`~gnnkit.train.load_ensemble`), each checked
    by :func:`check_molecule_model`."""
    ensemble = load_ensemble(model_dir, allow_partial=allow_partial)
    for member, source in zip(ensemble.members, ensemble.sources):
        check_molecule_model(member, source)
    return ensemble


def featurize_file(
    ensemble: Ensemble,
    data: str | Path,
    smiles_column: str | None,
    descriptor_file: str | Path | None,
    workers: int,
    smiles_columns: Sequence[str] = (),
) -> tuple[Any, PredictionInputs]:
    """The table of ``data`` and its molecules featurized as the ensemble's training molecules
    were (see :func:`~gnnkit.data.molecules.inputs.prediction_inputs`), read from the SMILES
    column(s) of :func:`~gnnkit.data.molecules.components.reading_columns`."""
    featurizer = ensemble.featurizer
    column, columns = reading_columns(featurizer, smiles_column, smiles_columns)
    table = read_molecule_table(
        data, smiles_column=column, smiles_columns=columns, target_columns=[]
    )
    rows = len(table.smiles)
    descriptor_rows = read_descriptor_file(descriptor_file, rows) if descriptor_file else None
    molecules = MoleculeColumns.of_table(table)
    smiles = dict(zip(molecules.names, molecules.smiles)) if molecules.several else table.smiles
    return table, prediction_inputs(smiles, featurizer, workers, descriptor_rows)


def report_invalid(table: Any, failures: list[tuple[int, str]], data: Any, out: Path) -> None:
    """``invalid_smiles.csv`` beside ``out`` and a count on stderr, when rows failed; else no
    ``invalid_smiles.csv`` (one from an earlier output is removed)."""
    (out.parent / "invalid_smiles.csv").unlink(missing_ok=True)
    if not failures:
        return
    molecules = MoleculeColumns.of_table(table)
    invalid = [table.invalid_row(i, reason, molecules.row_text(i)) for i, reason in failures]
    write_invalid_rows(invalid, out.parent / "invalid_smiles.csv")
    print(
        f"{data}: {len(failures)} of {len(table.smiles)} rows could not be featurized (RDKit "
        f"rejects the SMILES or SD record, or cannot embed a conformer); they have no output (see "
        f"{out.parent / 'invalid_smiles.csv'} for each row's reason)",
        file=sys.stderr,
    )


def predict_molecules(
    model_dir: str | Path,
    data: str | Path,
    out: str | Path,
    *,
    smiles_column: str | None = None,
    descriptor_file: str | Path | None = None,
    workers: int = 1,
    batch_size: int = 256,
    mc_dropout: int = 0,
    smiles_columns: Sequence[str] = (),
    seed: int = 0,
    allow_partial: bool = False,
    precision: str = "fp32",
) -> pd.DataFrame:
    """Predict every row of ``data`` with the model(s) in ``model_dir``.

    ``model_dir`` is a run folder of one model, an ensemble or cross-validation folds (see
    :func:`~gnnkit.workflows.ensemble.load_ensemble`); several models predict their mean. The
    output CSV keeps the input columns and adds one column per target (named after the target,
    with ``_pred`` appended if the input already has that column; multiclass adds one
    probability column per class), and a ``_std`` column after each when there are several
    samples per molecule (an ensemble, or ``mc_dropout`` passes per model, drawn after
    ``torch.manual_seed(seed)``). Rows whose SMILES RDKit rejects get empty predictions and are
    listed in ``invalid_smiles.csv`` beside ``out``.

    A run whose training stopped before every fold or member was trained is refused; with
    ``allow_partial`` its trained models predict, a warning goes to stderr and the output gets
    a :data:`MODELS_USED` column holding their number. ``precision``: ``"fp32"`` or ``"int8"``
    (see :mod:`gnnkit.train.precision`). A model of several molecules per row reads them from
    its training columns, or from ``smiles_columns`` (as many, in the same order); a row with
    an invalid molecule is listed with the column that holds it.
    """
    ensemble = set_precision(load_molecule_ensemble(model_dir, allow_partial), precision)
    table, inputs = featurize_file(
        ensemble, data, smiles_column, descriptor_file, workers, smiles_columns
    )
    torch.manual_seed(seed)
    prediction = ensemble.predict(inputs.batches(batch_size), mc_samples=mc_dropout)
    frame = add_prediction_columns(table.frame, ensemble.task, prediction, inputs.positions)
    add_models_used(frame, ensemble)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    report_invalid(table, inputs.failures, data, out)
    return frame


def fingerprint_molecules(
    model_dir: str | Path,
    data: str | Path,
    out: str | Path,
    *,
    layer: str = "aggregate",
    member: int = 0,
    smiles_column: str | None = None,
    descriptor_file: str | Path | None = None,
    workers: int = 1,
    batch_size: int = 256,
    allow_partial: bool = False,
    precision: str = "fp32",
    smiles_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """Learned fingerprints of every valid row of ``data``: one model's molecule vector
    (``layer`` ``"aggregate"`` or ``"penultimate"``, see
    :meth:`~gnnkit.workflows.ensemble.Ensemble.fingerprints`), ``[rows, F]``.

    ``out`` ending in ``.csv`` gets columns ``row`` (0-based data row), ``smiles`` and
    ``fp_0 … fp_{F-1}``; ending in ``.npy`` it gets the float32 matrix, and ``<stem>.rows.csv``
    beside it the ``row`` and ``smiles`` of each of its rows. Invalid rows are left out and
    listed in ``invalid_smiles.csv`` beside ``out``. Returns the ``row``/``smiles`` table (with
    the ``fp_k`` columns). ``allow_partial``, ``precision`` and ``smiles_columns``: as in
    :func:`predict_molecules`. For a model of several molecules per row the fingerprint is the
    concatenation of the molecules' vectors (then the descriptors), and ``smiles`` holds the
    row's SMILES separated by spaces.
    """
    out = Path(out)
    if out.suffix not in (".csv", ".npy"):
        raise ValueError(f"{out}: the fingerprint file must end in .csv or .npy")
    ensemble = set_precision(load_molecule_ensemble(model_dir, allow_partial), precision)
    table, inputs = featurize_file(
        ensemble, data, smiles_column, descriptor_file, workers, smiles_columns
    )
    positions = inputs.positions
    vectors = ensemble.fingerprints(inputs.batches(batch_size), layer=layer, member=member).numpy()
    index = pd.DataFrame({"row": positions, "smiles": inputs.smiles})
    frame = pd.concat(
        [index, pd.DataFrame(vectors, columns=[f"fp_{k}" for k in range(vectors.shape[1])])],
        axis=1,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npy":
        np.save(out, vectors.astype(np.float32))
        index.to_csv(out.with_suffix(".rows.csv"), index=False)
    else:
        frame.to_csv(out, index=False)
    report_invalid(table, inputs.failures, data, out)
    return frame
