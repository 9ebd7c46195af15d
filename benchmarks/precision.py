"""Fidelity and speed of ``--precision int8`` against fp32, in one run.

    python benchmarks/precision.py [--library-lines 10000] [--screen-lines 50000] [--repeats 3] \
        [--out runs/benchmarks/precision]

1. Models: chemprop's default D-MPNN (hidden 300, depth 3, one 300-wide FFN layer) trained for
   ``--epochs`` on the embedded ChEMBL set, once as regression of pIC50 and once as
   classification of pIC50 ≥ 6.5 (active), with ``gnnkit mol train``.
2. Library: ``screen.py``'s randomised NCI SMILES (cached under
   ``$GNNKIT_CACHE/benchmarks/screen/``), its first ``--library-lines`` lines.
3. Fidelity: each model predicts the library in fp32 and in int8 (``predict_molecules``);
   Spearman's ρ of the two, overlap of their top 100 (highest pIC50, highest probability of
   being active) and the largest absolute difference. Floors: ρ ≥ 0.99, overlap ≥ 90.
4. Speed: molecules/s of the whole ``predict_molecules`` call (reading, featurization with one
   worker, prediction, writing) and of the forward passes alone (:func:`forward_rates`), fp32
   and int8 alternated, median of ``--repeats``; then the
   whole ``gnnkit mol screen`` command with default settings (``--predictors`` chosen by
   itself) on the first ``--screen-lines`` lines of the library, fp32 and int8 alternated,
   median of ``--repeats`` (0 lines: skipped).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr
from screen import build_library, gnnkit_screen, head
from timing import timed

from gnnkit.data.molecules.catalog import embedded_chembl
from gnnkit.data.molecules.inputs import prediction_inputs
from gnnkit.train import load_ensemble, set_precision
from gnnkit.workflows.molecules import predict_molecules

#: Classification target: pIC50 at or above this is active.
ACTIVE = 6.5
TOP = 100
PRECISIONS = ("fp32", "int8")


def train(workdir: Path, task: str, epochs: int) -> Path:
    """A run folder of chemprop's default D-MPNN for ``task`` (trained once, then reused)."""
    run = workdir / f"{task}_model"
    if (run / "model.pt").exists():
        return run
    data = pd.read_csv(embedded_chembl().path)
    if task == "classification":
        data["active"] = (data.pIC50 >= ACTIVE).astype(float)
    path = workdir / f"chembl_{task}.csv"
    data.drop(columns="pIC50" if task == "classification" else []).to_csv(path, index=False)
    timed(
        [
            sys.executable, "-m", "gnnkit", "mol", "train", "--data", str(path),
            "--smiles-column", "smiles", "--target-columns",
            "active" if task == "classification" else "pIC50", "--task", task,
            "--epochs", str(epochs), "--progress", "none", "--accelerator", "cpu",
            "--out", str(run),
        ],
        workdir / f"{task}_train.log",
    )  # fmt: skip
    return run


def predictions(run: Path, library: Path, out: Path, precision: str) -> tuple[np.ndarray, float]:
    """The first prediction column for every valid row, and the call's wall seconds."""
    start = time.perf_counter()
    frame = predict_molecules(run, library, out, workers=1, precision=precision)
    seconds = time.perf_counter() - start
    column = next(c for c in frame.columns if c not in ("smiles", "name"))
    return frame[column].to_numpy(), seconds


def forward_rates(run: Path, library: Path, repeats: int) -> dict[str, float]:
    """Molecules/s of the forward passes alone (featurized once, batches of 64, one torch
    thread, ``torch.inference_mode``), fp32 and int8 alternated, median of ``repeats``."""
    models = {p: set_precision(load_ensemble(run), p) for p in PRECISIONS}
    inputs = prediction_inputs(pd.read_csv(library).smiles.tolist(), models["fp32"].featurizer)
    batches = list(inputs.batches(64))
    seconds: dict[str, list[float]] = {p: [] for p in PRECISIONS}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with torch.inference_mode():
        for _ in range(repeats):
            for precision, ensemble in models.items():
                start = time.perf_counter()
                ensemble.predict(iter(batches))
                seconds[precision].append(time.perf_counter() - start)
    torch.set_num_threads(threads)
    return {p: len(inputs) / statistics.median(seconds[p]) for p in PRECISIONS}


def fidelity(fp32: np.ndarray, int8: np.ndarray) -> dict[str, float]:
    """Spearman's ρ, top-``TOP`` overlap (highest first) and max |fp32 − int8| over the rows
    both predict."""
    valid = ~np.isnan(fp32)
    fp32, int8 = fp32[valid], int8[valid]
    top = len(set(np.argsort(-fp32)[:TOP]) & set(np.argsort(-int8)[:TOP]))
    return {
        "spearman": spearmanr(fp32, int8).statistic,
        "top": top,
        "max_abs": float(np.abs(fp32 - int8).max()),
        "rows": int(valid.sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library-lines", type=int, default=10_000)
    parser.add_argument("--screen-lines", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("runs/benchmarks/precision"))
    args = parser.parse_args()
    workdir = args.out
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"runs in {workdir}; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f}", flush=True)
    source = build_library(max(args.library_lines, args.screen_lines))
    library = head(
        source, args.library_lines, workdir / f"library_{args.library_lines}.csv", csv=True
    )

    print(f"\nfp32 against int8 on {args.library_lines:,} library molecules")
    print(
        "| model | Spearman ρ | top-100 overlap | max abs diff | predict mol/s fp32 → int8 "
        "| forward mol/s fp32 → int8 |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for task in ("regression", "classification"):
        run = train(workdir, task, args.epochs)
        values: dict[str, np.ndarray] = {}
        seconds: dict[str, list[float]] = {p: [] for p in PRECISIONS}
        for _ in range(args.repeats):
            for precision in PRECISIONS:
                out = workdir / f"{task}_{precision}.csv"
                values[precision], wall = predictions(run, library, out, precision)
                seconds[precision].append(wall)
        f = fidelity(values["fp32"], values["int8"])
        rates = [f["rows"] / statistics.median(seconds[p]) for p in PRECISIONS]
        forward = forward_rates(run, library, args.repeats)
        print(
            f"| {task} | {f['spearman']:.4f} | {f['top']} | {f['max_abs']:.4f} | "
            f"{rates[0]:,.0f} → {rates[1]:,.0f} | {forward['fp32']:,.0f} → "
            f"{forward['int8']:,.0f} |",
            flush=True,
        )

    if args.screen_lines:
        piece = head(source, args.screen_lines, workdir / f"screen_{args.screen_lines}.smi", False)
        regression = workdir / "regression_model"
        walls: dict[str, list[float]] = {p: [] for p in PRECISIONS}
        for _ in range(args.repeats):
            for precision in PRECISIONS:
                settings = ["--precision", precision]
                command = gnnkit_screen(regression, piece, workdir / "hits.csv", settings)
                walls[precision].append(timed(command, workdir / f"screen_{precision}.log"))
        print(f"\ngnnkit mol screen on {args.screen_lines:,} lines, whole command, defaults")
        print("| precision | median wall s | molecules/s |\n| --- | ---: | ---: |")
        for precision in PRECISIONS:
            wall = statistics.median(walls[precision])
            print(f"| {precision} | {wall:.1f} | {args.screen_lines / wall:,.0f} |")
    print(f"\nload at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
