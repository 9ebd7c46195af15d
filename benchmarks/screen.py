"""Screening throughput and memory: ``gnnkit mol screen`` against ``chemprop predict``, in one run.

    python benchmarks/screen.py --chemprop ../chemprop-venv/bin/chemprop \
        [--lines 1000000] [--slice 50000] [--repeats 3] [--out runs/benchmarks/screen]

chemprop 2.3.1 lives in its own virtual environment (see ``benchmarks/README.md``).

1. Library: the molecules of RDKit's NCI 5K file that RDKit parses, each written again and again
   as randomised SMILES (``MolToRandomSmilesVect``, seeded) until ``--lines`` lines: real SMILES,
   every line a different string, as in an enumerated library. Cached under
   ``$GNNKIT_CACHE/benchmarks/screen/`` (never in git), with its first 10,000 lines as a small
   library and its first ``--slice`` lines as the CSV both tools read.
2. Models: chemprop's default D-MPNN (hidden 300, depth 3, one 300-wide FFN layer, norm
   aggregation) trained for 3 epochs on the embedded ChEMBL set by each tool (throughput does
   not depend on the weights).
3. Throughput on the slice, whole command (start-up, reading, featurization, prediction,
   writing), median of ``--repeats``: ``gnnkit mol screen --top 100`` with 1 and 2 featurization
   workers beside the predicting process, and with 2 processes that each featurize and predict
   (``--predictors 2``), and ``chemprop predict`` with each of ``--chemprop-workers``
   data-loader workers (default 0, its default and, on two cores, its fastest); molecules/s =
   lines / wall seconds; the ratio is gnnkit's best over chemprop's best.
4. Memory: peak resident set size (GNU time's "Maximum resident set size", the largest
   process) of ``gnnkit mol screen``, with its fastest setting, on 10,000 lines and on all
   ``--lines`` lines, and their ratio (goal ≤ 1.2); the full screen's own rate too.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import sys
from pathlib import Path

import rdkit
from rdkit import Chem, rdBase
from timing import timed

from gnnkit.data.cache import cache_root
from gnnkit.data.molecules.catalog import embedded_chembl

NCI = Path(rdkit.__file__).parent / "Data" / "NCI" / "first_5K.smi"
SMALL = 10_000
TOP = "100"
#: Epochs of training for each tool's model.
EPOCHS = "3"


def build_library(lines: int, seed: int = 0) -> Path:
    """``lines`` randomised SMILES of the NCI molecules (``.smi``, ``SMILES name``), cached."""
    path = cache_root() / "benchmarks" / "screen" / f"nci_random_{lines}_{seed}.smi"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    molecules = []
    with rdBase.BlockLogs():
        for line in NCI.read_text().splitlines():
            smiles, name = line.split()
            mol = Chem.MolFromSmiles(smiles)
            if mol is not None:
                molecules.append((mol, name))
    copies = math.ceil(lines / len(molecules))
    variants = [
        Chem.MolToRandomSmilesVect(mol, copies, randomSeed=seed + k)
        for k, (mol, _) in enumerate(molecules)
    ]
    partial = path.with_suffix(".partial")
    with open(partial, "w") as handle:
        for line in range(lines):
            copy, k = divmod(line, len(molecules))
            handle.write(f"{variants[k][copy]} nci{molecules[k][1]}_{copy}\n")
    partial.rename(path)
    return path


def head(source: Path, lines: int, path: Path, csv: bool) -> Path:
    """The first ``lines`` lines of ``source`` as ``.smi`` or as a ``smiles,name`` CSV."""
    if not path.exists():
        with open(source) as handle, open(path, "w") as out:
            if csv:
                out.write("smiles,name\n")
            for _, line in zip(range(lines), handle):
                out.write(line.replace(" ", ",") if csv else line)
    return path


def peak_rss(command: list[str], log: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of ``command`` under ``/usr/bin/time -v``."""
    seconds = timed(["/usr/bin/time", "-v", *command], log)
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", log.read_text())
    if match is None:
        raise RuntimeError(f"no peak RSS in {log}")
    return seconds, int(match.group(1)) / 1024


def train_models(chemprop: Path, workdir: Path) -> tuple[Path, Path]:
    """A gnnkit run folder and a chemprop model file, both chemprop's default D-MPNN."""
    gnnkit_run, chemprop_run = workdir / "gnnkit_model", workdir / "chemprop_model"
    if not (gnnkit_run / "model.pt").exists():
        timed(
            [
                sys.executable, "-m", "gnnkit", "mol", "train", "--epochs", EPOCHS,
                "--progress", "none", "--accelerator", "cpu", "--out", str(gnnkit_run),
            ],
            workdir / "gnnkit_train.log",
        )  # fmt: skip
    chemprop_model = chemprop_run / "model_0" / "best.pt"
    if not chemprop_model.exists():
        timed(
            [
                str(chemprop), "train", "--data-path", str(embedded_chembl().path), "-s", "smiles",
                "--target-columns", "pIC50", "-t", "regression", "--epochs", EPOCHS,
                "--accelerator", "cpu", "--num-workers", "0", "-o", str(chemprop_run),
            ],
            workdir / "chemprop_train.log",
        )  # fmt: skip
    return gnnkit_run, chemprop_model


#: How gnnkit's local engine uses the two cores: one predicting process beside one or two
#: featurization workers, or two processes that each featurize and predict (the default there).
GNNKIT_SETTINGS = {
    "--workers 1": ["--predictors", "1", "--workers", "1"],
    "--workers 2": ["--predictors", "1", "--workers", "2"],
    "--predictors 2": ["--predictors", "2"],
}


def gnnkit_screen(model: Path, library: Path, out: Path, settings: list[str]) -> list[str]:
    return [
        sys.executable, "-m", "gnnkit", "mol", "screen", "--model", str(model),
        "--library", str(library), "--top", TOP, *settings, "--no-progress", "--out", str(out),
    ]  # fmt: skip


def chemprop_predict(chemprop: Path, model: Path, library: Path, out: Path, workers: int):
    return [
        str(chemprop), "predict", "-i", str(library), "-s", "smiles", "--model-paths",
        str(model), "--accelerator", "cpu", "--num-workers", str(workers), "-o", str(out),
    ]  # fmt: skip


def median_rate(command: list[str], lines: int, repeats: int, log: Path) -> float:
    return lines / statistics.median(timed(command, log) for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chemprop", required=True, type=Path, help="chemprop executable")
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines of the library")
    parser.add_argument("--slice", type=int, default=50_000, help="lines both tools predict")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--chemprop-workers",
        type=int,
        nargs="+",
        default=[0],
        help="chemprop data-loader workers to try (its default 0 is its fastest on 2 cores)",
    )
    parser.add_argument("--out", type=Path, default=Path("runs/benchmarks/screen"))
    args = parser.parse_args()
    workdir = args.out
    workdir.mkdir(parents=True, exist_ok=True)
    print(
        f"runs in {workdir}; {os.cpu_count()} CPUs; OMP_NUM_THREADS="
        f"{os.environ.get('OMP_NUM_THREADS', 'unset')}",
        flush=True,
    )
    library = build_library(args.lines)
    small = head(library, SMALL, library.with_name(f"{library.stem}_head{SMALL}.smi"), False)
    piece = head(library, args.slice, library.with_name(f"{library.stem}_{args.slice}.csv"), True)
    gnnkit_model, chemprop_model = train_models(args.chemprop, workdir)

    gnnkit_rates = {
        name: median_rate(
            gnnkit_screen(gnnkit_model, piece, workdir / "hits.csv", settings),
            args.slice,
            args.repeats,
            workdir / f"gnnkit_{'_'.join(settings).strip('-')}.log",
        )
        for name, settings in GNNKIT_SETTINGS.items()
    }
    best = max(gnnkit_rates, key=gnnkit_rates.get)
    chemprop_rates = {
        workers: median_rate(
            chemprop_predict(args.chemprop, chemprop_model, piece, workdir / "preds.csv", workers),
            args.slice,
            args.repeats,
            workdir / f"chemprop_{workers}.log",
        )
        for workers in args.chemprop_workers
    }
    small_seconds, small_rss = peak_rss(
        gnnkit_screen(gnnkit_model, small, workdir / "hits_small.csv", GNNKIT_SETTINGS[best]),
        workdir / "rss_small.log",
    )
    full_seconds, full_rss = peak_rss(
        gnnkit_screen(gnnkit_model, library, workdir / "hits_full.csv", GNNKIT_SETTINGS[best]),
        workdir / "rss_full.log",
    )

    reference = max(chemprop_rates.values())
    print(
        f"\nthroughput on the first {args.slice:,} lines, whole command, median of {args.repeats}"
    )
    print("| tool | molecules/s | vs chemprop's best |\n| --- | ---: | ---: |")
    rows = [(f"gnnkit mol screen {name}", r) for name, r in gnnkit_rates.items()]
    rows += [(f"chemprop predict, {w} loader worker(s)", r) for w, r in chemprop_rates.items()]
    for name, rate in rows:
        print(f"| {name} | {rate:,.0f} | {rate / reference:.2f}× |")
    print(f"\ngnnkit's best / chemprop's best: {max(gnnkit_rates.values()) / reference:.2f}×")
    print(f"\nmemory: gnnkit mol screen {best} (the fastest), peak RSS of the largest process")
    print("| library lines | wall s | molecules/s | peak RSS MiB |\n| ---: | ---: | ---: | ---: |")
    for lines, seconds, rss in (
        (SMALL, small_seconds, small_rss),
        (args.lines, full_seconds, full_rss),
    ):
        print(f"| {lines:,} | {seconds:.1f} | {lines / seconds:,.0f} | {rss:,.0f} |")
    print(f"\npeak RSS, {args.lines:,} / {SMALL:,} lines: {full_rss / small_rss:.2f}")


if __name__ == "__main__":
    main()
