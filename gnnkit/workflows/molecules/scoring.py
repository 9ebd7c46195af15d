"""Scores of a split's ensemble and of cross-validation folds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gnnkit.data.molecules import MoleculeCSVDataset
from gnnkit.train import Ensemble, EnsemblePrediction, TrainConfig, compute_metrics
from gnnkit.train.artefacts import write_json
from gnnkit.train.data import stack_targets
from gnnkit.train.trainer import write_test_artefacts


def score_ensemble(
    ensemble: Ensemble,
    parts: dict[str, MoleculeCSVDataset],
    predictions: dict[str, EnsemblePrediction],
    out_dir: Path,
    train_config: TrainConfig,
    header: dict[str, Any],
) -> dict[str, Any]:
    """Metrics of the ensemble's (calibrated) ``predictions`` of every part, after ``header``,
    written to ``out_dir`` as ``metrics.json`` with the test predictions (mean, spread,
    interval), the parity or ROC plot and the reliability diagram."""
    task = ensemble.task
    metrics: dict[str, Any] = dict(header)
    for name, graphs in parts.items():
        p = predictions[name]
        metrics[name] = compute_metrics(
            task, p.mean, stack_targets(graphs), std=p.std, lower=p.lower, upper=p.upper
        )
    calibration = ensemble.calibration
    if calibration is not None:
        metrics["calibration"] = {
            "method": calibration.method,
            "alpha": calibration.alpha,
            "fitted_on": "val",
        }
    write_json(out_dir / "metrics.json", metrics)
    write_test_artefacts(out_dir, task, parts["test"], predictions["test"], train_config.id_key)
    return metrics


def summarise_folds(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and standard deviation over folds of every averaged test, val and train metric."""
    summary: dict[str, Any] = {"task": runs[0]["task"], "folds": len(runs)}
    for part in ("train", "val", "test"):
        names = [k for k, v in runs[0][part].items() if isinstance(v, (int, float)) or v is None]
        summary[part] = {}
        for name in names:
            values = [run[part][name] for run in runs if run[part].get(name) is not None]
            summary[part][name] = (
                {
                    "mean": float(np.mean(values)),
                    "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
                }
                if values
                else None
            )
    summary["per_fold"] = runs
    return summary
