"""Twitter15 cascade classification: GCNFN, BiGCN and UPFD-style networks against the
statistics baseline, 5-fold, from structure and timing alone, plus the early-detection curve.

    python benchmarks/cascades.py [--data ../shared/data/twitter15] [--out runs/benchmarks/cascades]
                                  [--folds 5] [--epochs 30] [--seed 0]
                                  [--hours 1 2 4 8 24 all]

Every method is evaluated on the same stratified folds; networks early-stop on a validation
split carved from the training folds and score each test fold once (``gnnkit.models.cascade.
experiment``). The early-detection curve is drawn for the baseline and for the network with the
best mean *validation* accuracy (choosing by test accuracy would leak). Each run writes its own
``metrics.json`` under ``--out`` and is skipped when rerun, so an interrupted benchmark
continues where it stopped. Prints a Markdown table, the early-detection table and the wall time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from gnnkit.data.cascades import load_twitter
from gnnkit.models.cascade import CASCADE_MODELS
from gnnkit.train import TrainConfig
from gnnkit.workflows.cascades.early import parse_hours, plot_early_detection
from gnnkit.workflows.cascades.evaluation import GNNSettings
from gnnkit.workflows.cascades.experiment import (
    METRICS_FILE,
    CascadeExperiment,
    run_baseline,
    run_gnn,
)

REPOSITORY = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPOSITORY.parent / "shared" / "data" / "twitter15"
BASELINES = ("forest", "logistic")


def cached(run: Callable[..., dict[str, Any]], *args: Any, out: Path) -> dict[str, Any]:
    """``out/metrics.json`` if an earlier invocation wrote it, else ``run(*args, out)``."""
    if (out / METRICS_FILE).is_file():
        return json.loads((out / METRICS_FILE).read_text())
    return run(*args, out)


def score(value: dict[str, float]) -> str:
    return f"{100 * value['mean']:.1f} ± {100 * value['std']:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="Twitter15 folder")
    parser.add_argument("--out", type=Path, default=REPOSITORY / "runs" / "benchmarks" / "cascades")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hours", nargs="+", default=["1", "2", "4", "8", "24", "all"])
    args = parser.parse_args(argv)
    if not (args.data / "label.txt").is_file():
        print(
            f"Twitter15 not found: {args.data} has no label.txt. This benchmark needs the "
            "Twitter15 folder (label.txt and tree/<id>.txt); pass --data DIR.",
            file=sys.stderr,
        )
        return 2
    torch.set_num_threads(1)  # small graphs: one thread is fastest, and robust on a busy machine
    start = time.perf_counter()
    data = load_twitter(args.data)
    print(data.report.summary())
    windows = parse_hours(args.hours)
    plain = CascadeExperiment(data, f"twitter:{args.data}", folds=args.folds, seed=args.seed)
    early = CascadeExperiment(
        data, f"twitter:{args.data}", folds=args.folds, seed=args.seed, observe_hours=windows
    )
    config = TrainConfig(
        task="multiclass",
        epochs=args.epochs,
        batch_size=32,
        max_lr=5e-3,
        monitor="loss",
        patience=10,
        seed=args.seed,
        progress="none",
    )
    hparams = {"hidden_channels": 64, "dropout": 0.2}

    results: dict[str, dict[str, Any]] = {}
    for classifier in BASELINES:
        out = args.out / f"baseline-{classifier}"
        experiment = early if classifier == "forest" else plain
        results[f"baseline-{classifier}"] = cached(run_baseline, experiment, classifier, out=out)
    for model in CASCADE_MODELS:
        out = args.out / model
        results[model] = cached(run_gnn, plain, GNNSettings(model, hparams, config), out=out)
        print(f"{model}: test accuracy {score(results[model]['test']['accuracy'])}")

    best = max(CASCADE_MODELS, key=lambda m: results[m]["val"]["accuracy"]["mean"])
    out = args.out / f"{best}-early"
    curve = cached(run_gnn, early, GNNSettings(best, hparams, config), out=out)
    curves = {
        best: curve["early_detection"],
        "baseline (forest)": results["baseline-forest"]["early_detection"],
    }
    plot_early_detection(curves, args.out / "early_detection.png")

    lines = [
        f"Twitter15, {len(data)} cascades, {args.folds}-fold stratified CV (seed {args.seed}), "
        "structure and timing only; mean ± sd over folds, in %.",
        "",
        "| method | accuracy | macro-F1 | validation accuracy | seconds |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, metrics in results.items():
        test, val = metrics["test"], metrics["val"]
        lines.append(
            f"| {name} | {score(test['accuracy'])} | {score(test['macro_f1'])} "
            f"| {score(val['accuracy'])} | {metrics['seconds']:.0f} |"
        )
    lines += [
        "",
        f"Early detection (test accuracy, %; network: {best}, best validation accuracy):",
        "",
    ]
    lines.append("| hours observed | " + " | ".join(curves) + " |")
    lines.append("| --- |" + " ---: |" * len(curves))
    for index, window in enumerate(windows):
        cells = [score(entries[index]["test"]["accuracy"]) for entries in curves.values()]
        label = "all" if window is None else f"{window:g}"
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", f"Per-class F1 of {best} (%):", ""]
    per_class = results[best]["test"]["per_class_f1"]
    lines.append("| " + " | ".join(per_class) + " |")
    lines.append("|" + " ---: |" * len(per_class))
    lines.append("| " + " | ".join(score(v) for v in per_class.values()) + " |")
    table = "\n".join(lines)
    (args.out / "results.md").write_text(table + "\n")
    print(table)
    print(f"\nwall time {time.perf_counter() - start:.0f} s; results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
