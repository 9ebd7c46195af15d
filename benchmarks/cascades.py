"""Twitter15 cascade classification: feature sets × models × protocols, and early detection.

    python benchmarks/cascades.py [--data ../shared/data/twitter15] [--out runs/benchmarks/cascades]
                                  [--folds 5] [--epochs 30] [--seed 0]
                                  [--hours 1 2 4 8 24 all] [--worker K/N] [--report-only]
                                  [--select PATTERN ...] [--input-norm]

Feature sets (``structure``, ``users``, ``text``, ``all``; the baselines also ``users+text``)
are crossed with the models (statistics forest, logistic regression, GCNFN, BiGCN, UPFD-style)
and the two protocols (``stratified`` 5-fold, and ``claim``: near-duplicate source posts kept
on one side of every cut). Every method of a protocol is evaluated on the same folds, with user
and text tables fitted on each round's training split only; networks early-stop on a
validation split carved from the training folds and score each test fold once
(``gnnkit.workflows.cascades``). The early-detection curve is drawn, on stratified folds with
``--features all``, for the network with the best mean *validation* accuracy (choosing by test
accuracy would leak) and for the baseline with the best mean validation accuracy.

Each run writes its own ``metrics.json`` under ``--out`` and is skipped when rerun, so an
interrupted benchmark continues where it stopped. ``--worker K/N`` runs every N-th run from the
K-th (start N such processes to use N cores; the early-detection run waits for the stratified
``all`` networks); ``--select`` keeps the runs whose folder matches a pattern;
``--report-only`` prints the tables of the runs done so far. Prints Markdown tables and the wall
time.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from gnnkit.data.cascades import load_twitter
from gnnkit.data.cascades.dataset import CascadeSet
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
SPLITS = ("stratified", "claim")
NETWORK_FEATURES = ("structure", "users", "text", "all")
#: (feature set, classifier) of the baselines; ``None``: the feature set's default.
BASELINES = (
    ("structure", "forest"),
    ("structure", "logistic"),
    ("users", None),
    ("text", None),
    ("users+text", None),
    ("all", None),
)
MODEL_NAMES = {"gcnfn": "GCNFN", "bigcn": "BiGCN", "upfd": "UPFD-style"}


@dataclass(frozen=True, slots=True)
class Run:
    """One evaluation: a folder under ``--out`` and how to produce its metrics."""

    name: str
    split: str
    features: str
    model: str  # a network name, or "baseline-<classifier>"
    early: bool = False

    @property
    def folder(self) -> str:
        return f"{self.split}/{self.features}/{self.model}" + ("-early" if self.early else "")


def plan() -> list[Run]:
    """Every run, cheapest and most decisive first."""
    runs = [
        Run("baseline", split, features, f"baseline-{classifier or ''}".rstrip("-"))
        for split in SPLITS
        for features, classifier in BASELINES
    ]
    runs += [Run("network", split, "all", model) for split in SPLITS for model in CASCADE_MODELS]
    runs.append(Run("early", "stratified", "all", "best", early=True))
    runs += [
        Run("network", split, features, model)
        for features in NETWORK_FEATURES[:-1]
        for split in SPLITS
        for model in CASCADE_MODELS
    ]
    return runs


def selected(run: Run, patterns: list[str] | None) -> bool:
    """Whether ``run``'s folder matches one of ``patterns`` (every run when there are none)."""
    return patterns is None or any(fnmatch.fnmatchcase(run.folder, p) for p in patterns)


def load(out: Path) -> dict[str, Any] | None:
    path = out / METRICS_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def score(value: dict[str, float] | None) -> str:
    if value is None:
        return "—"
    return f"{100 * value['mean']:.1f} ± {100 * value['std']:.1f}"


class Benchmark:
    """Runs and reports the plan on one data set."""

    def __init__(self, data: CascadeSet, args: argparse.Namespace) -> None:
        self.data, self.args = data, args
        self.experiments: dict[tuple[str, str, bool], CascadeExperiment] = {}
        self.config = TrainConfig(
            task="multiclass",
            epochs=args.epochs,
            batch_size=32,
            max_lr=5e-3,
            monitor="loss",
            patience=10,
            seed=args.seed,
            progress="none",
        )
        self.hparams = {"hidden_channels": 64, "dropout": 0.2, "input_norm": args.input_norm}

    def experiment(self, split: str, features: str, early: bool) -> CascadeExperiment:
        key = (split, features, early)
        if key not in self.experiments:
            self.experiments[key] = CascadeExperiment(
                self.data,
                f"twitter:{self.args.data}",
                folds=self.args.folds,
                seed=self.args.seed,
                observe_hours=parse_hours(self.args.hours) if early else (),
                features=features,
                split=split,
            )
        return self.experiments[key]

    def out(self, run: Run) -> Path:
        return self.args.out / run.folder

    def best(self, prefix: str, candidates: list[str]) -> str | None:
        """The candidate with the best mean validation accuracy on stratified ``all`` folds
        (``None`` until all of them are done)."""
        scores = {}
        for model in candidates:
            metrics = load(self.args.out / "stratified" / prefix / model)
            if metrics is None:
                return None
            scores[model] = metrics["val"]["accuracy"]["mean"]
        return max(scores, key=scores.__getitem__)

    def best_network(self, wait: bool) -> str | None:
        while True:
            best = self.best("all", list(CASCADE_MODELS))
            if best is not None or not wait:
                return best
            time.sleep(30)

    def best_baseline(self) -> tuple[str, str] | None:
        """(feature set, classifier folder) of the baseline with the best validation
        accuracy on stratified folds."""
        scores = {}
        for features, classifier in BASELINES:
            name = f"baseline-{classifier or ''}".rstrip("-")
            metrics = load(self.args.out / "stratified" / features / name)
            if metrics is None:
                return None
            scores[(features, name)] = metrics["val"]["accuracy"]["mean"]
        return max(scores, key=scores.__getitem__)

    def execute(self, run: Run) -> None:
        out = self.out(run)
        if load(out) is not None:
            return
        start = time.perf_counter()
        if run.early:
            self.execute_early()
            return
        experiment = self.experiment(run.split, run.features, early=False)
        if run.name == "baseline":
            classifier = run.model.removeprefix("baseline").removeprefix("-") or None
            run_baseline(experiment, classifier, out)
        else:
            settings = GNNSettings(run.model, self.hparams, self.config)
            run_gnn(experiment, settings, out)
        print(f"{run.folder}: {time.perf_counter() - start:.0f} s", flush=True)

    def execute_early(self) -> None:
        network = self.best_network(wait=True)
        features, name = self.best_baseline() or ("all", "baseline")
        experiment = self.experiment("stratified", "all", early=True)
        settings = GNNSettings(network, self.hparams, self.config)
        run_gnn(experiment, settings, self.args.out / "early" / network)
        baseline = self.experiment("stratified", features, early=True)
        classifier = name.removeprefix("baseline").removeprefix("-") or None
        run_baseline(baseline, classifier, self.args.out / "early" / f"{features}-{name}")
        (self.args.out / "stratified" / "all" / "best-early").mkdir(parents=True, exist_ok=True)
        (self.args.out / "stratified" / "all" / "best-early" / METRICS_FILE).write_text(
            json.dumps({"network": network, "baseline": [features, name]}) + "\n"
        )

    def report(self) -> str:
        lines = [
            f"Twitter15, {len(self.data)} cascades, {self.args.folds} folds (seed "
            f"{self.args.seed}); test scores, mean ± sd over folds, in %; networks "
            f"{'with' if self.args.input_norm else 'without'} input batch normalisation.",
        ]
        for split in SPLITS:
            protocol = None
            lines += [
                "",
                f"**{split}** folds:",
                "",
                "| features | method | accuracy | macro-F1 | validation accuracy | seconds |",
                "| --- | --- | ---: | ---: | ---: | ---: |",
            ]
            rows = [(f, f"baseline-{c or ''}".rstrip("-")) for f, c in BASELINES]
            rows += [(f, m) for f in NETWORK_FEATURES for m in CASCADE_MODELS]
            for features, model in rows:
                metrics = load(self.args.out / split / features / model)
                if metrics is None:
                    continue
                protocol = metrics["protocol"]
                label = MODEL_NAMES.get(model, f"{model} ({metrics.get('classifier')})")
                lines.append(
                    f"| {features} | {label} | {score(metrics['test']['accuracy'])} "
                    f"| {score(metrics['test']['macro_f1'])} "
                    f"| {score(metrics['val']['accuracy'])} | {metrics['seconds']:.0f} |"
                )
            if protocol is not None and "groups" in protocol:
                lines += [
                    "",
                    f"Claims: {protocol['groups']} groups at TF-IDF cosine ≥ "
                    f"{protocol['claim_threshold']}, the largest {protocol['largest_group']} "
                    "posts.",
                ]
        chosen = load(self.args.out / "stratified" / "all" / "best-early")
        if chosen is not None:
            features, name = chosen["baseline"]
            curves = {
                f"{MODEL_NAMES[chosen['network']]} (all)": load(
                    self.args.out / "early" / chosen["network"]
                )["early_detection"],
                f"{name} ({features})": load(self.args.out / "early" / f"{features}-{name}")[
                    "early_detection"
                ],
            }
            plot_early_detection(curves, self.args.out / "early_detection.png")
            lines += [
                "",
                "Early detection, stratified folds, test accuracy in % (network and baseline "
                "with the best validation accuracy):",
                "",
                "| hours observed | " + " | ".join(curves) + " |",
                "| --- |" + " ---: |" * len(curves),
            ]
            for index, entry in enumerate(next(iter(curves.values()))):
                cells = [score(entries[index]["test"]["accuracy"]) for entries in curves.values()]
                label = "all" if entry["hours"] is None else f"{entry['hours']:g}"
                lines.append(f"| {label} | " + " | ".join(cells) + " |")
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="Twitter15 folder")
    parser.add_argument("--out", type=Path, default=REPOSITORY / "runs" / "benchmarks" / "cascades")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hours", nargs="+", default=["1", "2", "4", "8", "24", "all"])
    parser.add_argument("--worker", default="0/1", help="K/N: run every N-th run from the K-th")
    parser.add_argument("--report-only", action="store_true", help="print the tables, run none")
    parser.add_argument(
        "--input-norm",
        action="store_true",
        help="networks batch-normalise their input features (off, as in the papers, by default)",
    )
    parser.add_argument(
        "--select",
        nargs="+",
        metavar="PATTERN",
        help="run only the runs whose folder (split/features/method) matches a glob pattern, "
        "e.g. '*/all/bigcn'",
    )
    args = parser.parse_args(argv)
    if not (args.data / "label.txt").is_file() or not (args.data / "source_tweets.txt").is_file():
        print(
            f"Twitter15 not found: {args.data} lacks label.txt or source_tweets.txt. This "
            "benchmark needs the Twitter15 folder (label.txt, tree/<id>.txt and "
            "source_tweets.txt); pass --data DIR.",
            file=sys.stderr,
        )
        return 2
    torch.set_num_threads(1)  # small graphs: one thread is fastest, and robust on a busy machine
    start = time.perf_counter()
    data = load_twitter(args.data)
    print(data.report.summary())
    benchmark = Benchmark(data, args)
    if not args.report_only:
        worker, workers = (int(part) for part in args.worker.split("/"))
        runs = [run for run in plan() if selected(run, args.select)]
        for run in runs[worker::workers]:
            benchmark.execute(run)
    table = benchmark.report()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(table + "\n")
    print(table)
    print(f"\nwall time {time.perf_counter() - start:.0f} s; results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
