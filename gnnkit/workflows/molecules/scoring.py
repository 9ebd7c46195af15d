"""Scores of a split's ensemble and of cross-validation folds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gnnkit.data.molecules import MoleculeCSVDataset
from gnnkit.train import Ensemble, TrainConfig, compute_metrics
from gnnkit.train.artefacts import plot_parity, plot_roc, predictions_frame, write_json
from gnnkit.train.data import find_id_key, graph_ids, stack_targets


def score_ensemble(
    ensemble: Ensemble,
    parts: dict[str, MoleculeCSVDataset],
    member_metrics: list[dict[str, Any]],
    out_dir: Path,
    train_config: TrainConfig,
) -> dict[str, Any]:
    """Metrics of the ensemble's mean prediction on every part, written with the test
    predictions (mean and spread) and the parity or ROC plot to ``out_dir``."""
    task = ensemble.task
    metrics: dict[str, Any] = {
        "task": task.kind,
        "tasks": list(task.names),
        "ensemble": len(ensemble),
        "splits": {name: len(graphs) for name, graphs in parts.items()},
        "seed": train_config.seed,
    }
    predictions = {
        name: ensemble.predict(graphs, batch_size=train_config.batch_size)
        for name, graphs in parts.items()
    }
    for name, graphs in parts.items():
        metrics[name] = compute_metrics(task, predictions[name].mean, stack_targets(graphs))
    metrics["members"] = member_metrics
    write_json(out_dir / "metrics.json", metrics)
    test, prediction = parts["test"], predictions["test"]
    target = stack_targets(test)
    ids = graph_ids(test, find_id_key(test, train_config.id_key))
    predictions_frame(task, ids, prediction.mean, target, prediction.std).to_csv(
        out_dir / "test_predictions.csv", index=False
    )
    if task.kind == "regression":
        plot_parity(out_dir / "parity.png", task, prediction.mean, target)
    else:
        plot_roc(out_dir / "roc.png", task, prediction.mean, target)
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
