"""Atom-level explanations of a trained molecule run: ``attributions.csv`` and one picture per
molecule (the ``gnnkit mol explain`` command)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from rdkit import Chem
from rdkit.Chem.Draw import SimilarityMaps, rdMolDraw2D
from rdkit.Geometry import Point2D

from gnnkit.data.molecules.featurizer import parse_smiles
from gnnkit.workflows.molecules.attribution import atom_attributions
from gnnkit.workflows.molecules.columns import prediction_slot
from gnnkit.workflows.molecules.predict import (
    featurize_file,
    load_molecule_ensemble,
    report_invalid,
)

ATTRIBUTIONS = "attributions.csv"
#: Folder of ``out_dir`` that holds the pictures, ``row_<row>.png`` each.
IMAGES = "images"
IMAGE_SIZE = (400, 400)
LEGEND_FONT_SIZE = 16


def explain_molecules(
    model_dir: str | Path,
    data: str | Path,
    out_dir: str | Path,
    *,
    method: str = "integrated-gradients",
    target: str | None = None,
    max_images: int = 50,
    smiles_column: str | None = None,
    smiles_columns: Sequence[str] = (),
    descriptor_file: str | Path | None = None,
    workers: int = 1,
    batch_size: int = 256,
    allow_partial: bool = False,
) -> pd.DataFrame:
    """Attribute the prediction of every valid row of ``data`` to its atoms.

    ``target`` names the explained prediction column as ``predict`` writes it (default: the
    first; a multiclass task names one class, ``<task>_class<c>``, whose probability is
    explained). Regression explains the un-scaled value, classification the probability; an
    ensemble (or folds) its mean prediction. ``method``: ``integrated-gradients``, ``saliency``
    or ``occlusion`` (see :mod:`~gnnkit.workflows.molecules.attribution`).

    Writes ``out_dir/attributions.csv``, one line per atom (RDKit's atom order of the SMILES,
    with explicit hydrogens when the model was trained with them): ``row`` (0-based data row),
    ``smiles``, ``atom`` (index), ``symbol``, ``attribution``; and for the first ``max_images``
    valid rows ``out_dir/images/row_<row>.png``, the molecule drawn by RDKit as a similarity
    map of its attributions (:func:`draw_attributions`), pictures of an earlier run there being
    removed first. Rows whose SMILES RDKit rejects are listed in ``out_dir/invalid_smiles.csv``,
    as ``predict`` does; the reading options (``smiles_column``, ``smiles_columns``,
    ``descriptor_file``, ``workers``, ``batch_size``, ``allow_partial``) are ``predict``'s.
    Returns the attribution table. Models of several molecules per row are refused.
    """
    ensemble = load_molecule_ensemble(model_dir, allow_partial)
    if ensemble.featurizer.get("smiles_columns"):
        raise ValueError(
            f"{model_dir} reads several molecules per row; mol explain attributes the "
            "predictions of models of one molecule per row"
        )
    column, slot = prediction_slot(ensemble.task, target)
    table, inputs = featurize_file(
        ensemble, data, smiles_column, descriptor_file, workers, smiles_columns
    )
    add_hydrogens = bool(ensemble.featurizer.get("add_hydrogens", False))
    rows, smiles, atoms, symbols, values, pictures = [], [], [], [], [], []
    positions = iter(inputs.positions.tolist())
    for batch in inputs.batches(batch_size):
        attribution = atom_attributions(ensemble, batch, slot, method)
        if len(pictures) < max_images:  # the prediction is only for the pictures' legends
            with torch.no_grad():
                prediction = ensemble.predict(iter([batch])).mean[slot]
        for molecule, start in enumerate(batch.ptr[:-1].tolist()):
            row = next(positions)
            mol = parse_smiles(table.smiles[row], add_hydrogens)
            weights = attribution[start : batch.ptr[molecule + 1]].tolist()
            rows += [row] * len(weights)
            smiles += [table.smiles[row]] * len(weights)
            atoms += range(len(weights))
            symbols += [atom.GetSymbol() for atom in mol.GetAtoms()]
            values += weights
            if len(pictures) < max_images:
                legend = f"row {row}: {column} {float(prediction[molecule]):.3g}"
                pictures.append((row, mol, weights, legend))
    frame = pd.DataFrame(
        {"row": rows, "smiles": smiles, "atom": atoms, "symbol": symbols, "attribution": values}
    )
    out_dir = Path(out_dir)
    images = out_dir / IMAGES
    images.mkdir(parents=True, exist_ok=True)
    for old in images.glob("row_*.png"):
        old.unlink()
    frame.to_csv(out_dir / ATTRIBUTIONS, index=False)
    for row, mol, weights, legend in pictures:
        draw_attributions(mol, weights, images / f"row_{row}.png", legend)
    report_invalid(table, inputs.failures, data, out_dir / ATTRIBUTIONS)
    return frame


def draw_attributions(
    mol: Chem.Mol, weights: list[float], path: str | Path, legend: str = ""
) -> None:
    """A PNG of ``mol`` with its atoms coloured by ``weights`` (one per atom) and ``legend``
    below, drawn as RDKit's similarity maps
    (:func:`~rdkit.Chem.Draw.SimilarityMaps.GetSimilarityMapFromWeights` on a Cairo drawer): a
    Gaussian around each atom, green where the weight is positive, pink where it is negative,
    scaled so that the largest absolute weight of the molecule gets the strongest colour. A
    molecule of one atom, which a similarity map cannot draw, is drawn plain."""
    width, height = IMAGE_SIZE
    drawer = rdMolDraw2D.MolDraw2DCairo(width, height)
    if mol.GetNumAtoms() < 2:
        drawer.DrawMolecule(mol)
    else:
        scale = -1 if np.any(np.asarray(weights) != 0) else 1  # -1: by the largest |weight|
        SimilarityMaps.GetSimilarityMapFromWeights(Chem.Mol(mol), weights, drawer, scale=scale)
    drawer.SetFontSize(LEGEND_FONT_SIZE)
    drawer.DrawString(legend, Point2D(width / 2, height - LEGEND_FONT_SIZE), 0, True)
    drawer.FinishDrawing()
    Path(path).write_bytes(drawer.GetDrawingText())
