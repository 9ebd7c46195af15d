"""Throughput on one device: D-MPNN training, library screening and scatter kernels.

    python benchmarks/gpu.py [--device cuda] [--chemprop ../chemprop-venv/bin/chemprop] \
        [--epochs 10] [--lines 50000] [--out runs/benchmarks/gpu]
    python benchmarks/gpu.py --device cpu --smoke --workers 0 --threads 1   # tiny: the tests

1. Training, molecules/s: chemprop's default D-MPNN and settings (hidden 300, depth 3, one
   300-wide FFN layer, norm aggregation, batch 64) on the embedded ChEMBL set's 80 % training
   split, through :func:`~gnnkit.workflows.molecules.train_molecules`; the rate is the training
   split over the median epoch time after the first (warm-up) epoch. With ``--chemprop``,
   ``chemprop train`` on the same split and device, rated like ``vs_chemprop.py``: the extra
   wall time of ``--epochs`` over 3 epochs.
2. Screening, molecules/s: :func:`~gnnkit.workflows.screen.screen_library` with that model on
   the first ``--lines`` lines of ``screen.py``'s library (randomised NCI SMILES), reading,
   featurization, prediction and ranking, start-up excluded; median of ``--repeats``.
3. Scatter kernels: forward and backward milliseconds of :func:`gnnkit.ops.scatter` of a
   ``[rows, channels]`` input onto ``rows / 20`` targets, for every installed backend
   (:func:`gnnkit.ops.available_backends`) and reduction, median of ``--kernel-repeats``.

Prints one markdown table per part and writes them to ``OUT/results.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd
import torch
from screen import build_library, head
from timing import timed
from vs_chemprop import SHORT, Dataset, chemprop_command, samples_per_second

from gnnkit.data.molecules.catalog import embedded_chembl
from gnnkit.data.splits import random_split, write_splits
from gnnkit.ops import available_backends, scatter, use_backend
from gnnkit.ops.scatter import REDUCTIONS
from gnnkit.train import TrainConfig
from gnnkit.workflows.molecules import MoleculeTrainConfig, train_molecules
from gnnkit.workflows.screen import ScreenConfig, screen_library


@dataclass(frozen=True, slots=True)
class Sizes:
    """How much each part measures."""

    molecules: int | None  # rows of the ChEMBL set (None: all 1,017)
    epochs: int
    lines: int
    repeats: int
    rows: int
    channels: int
    kernel_repeats: int


FULL = Sizes(None, 10, 50_000, 3, 200_000, 64, 21)
SMOKE = Sizes(96, 2, 200, 1, 2_000, 16, 3)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def training_data(workdir: Path, molecules: int | None) -> tuple[Path, Path, int]:
    """The ChEMBL CSV (its first ``molecules`` rows), a random 80/10/10 ``splits.json`` and
    the training split's size."""
    frame = pd.read_csv(embedded_chembl().path)
    frame = frame if molecules is None else frame.head(molecules)
    data, splits = workdir / "chembl.csv", workdir / "splits.json"
    frame.to_csv(data, index=False)
    split = random_split(len(frame), (0.8, 0.1, 0.1), seed=0)
    write_splits([split], splits)
    return data, splits, len(split.train)


def gnnkit_training(data: Path, splits: Path, sizes: Sizes, accelerator: str, out: Path) -> float:
    """Training molecules/s of gnnkit's default D-MPNN (chemprop's defaults)."""
    config = MoleculeTrainConfig(
        data=str(data),
        smiles_column="smiles",
        target_columns=["pIC50"],
        splits_file=str(splits),
        train=TrainConfig(
            epochs=sizes.epochs, patience=None, accelerator=accelerator, progress="none"
        ),
    )
    train_molecules(config, out)
    seconds = pd.read_csv(out / "epochs.csv")["train_seconds"].tolist()
    train_size = json.loads((out / "metrics.json").read_text())["splits"]["train"]
    return train_size / statistics.median(seconds[1:] or seconds)


def chemprop_training(
    chemprop: Path, data: Path, splits: Path, train_size: int, epochs: int, accelerator: str
) -> float:
    """Training molecules/s of ``chemprop train`` (its defaults), from an ``epochs``-epoch and
    a :data:`SHORT`-epoch run."""
    chembl = Dataset("chembl", data, ["pIC50"], "regression")
    with tempfile.TemporaryDirectory(prefix="chemprop_") as folder:
        walls = {
            run: timed(
                chemprop_command(
                    chemprop, chembl, splits, run, 0, Path(folder) / str(run), accelerator
                ),
                Path(folder) / f"{run}.log",
            )
            for run in (epochs, SHORT)
        }
    return samples_per_second(train_size, walls[epochs], walls[SHORT], epochs)


def screening(model: Path, sizes: Sizes, device: str, workers: int, workdir: Path) -> float:
    """Screened molecules/s (median of ``sizes.repeats``, start-up excluded)."""
    library = build_library(sizes.lines)
    piece = head(library, sizes.lines, workdir / "library.smi", csv=False)
    config = ScreenConfig(device=device, workers=workers, progress=False)
    rates = []
    for _ in range(sizes.repeats):
        result = screen_library(model, piece, workdir / "hits.csv", config)
        rates.append(result.screened / result.seconds)
    return statistics.median(rates)


def scatter_kernels(sizes: Sizes, device: torch.device) -> dict[str, dict[str, float]]:
    """Backend → reduction → median milliseconds of one forward and backward scatter."""
    generator = torch.Generator().manual_seed(0)
    targets = max(sizes.rows // 20, 1)
    src = torch.randn(sizes.rows, sizes.channels, generator=generator).to(device)
    index = torch.randint(0, targets, (sizes.rows,), generator=generator).to(device)
    src.requires_grad_(True)
    timings: dict[str, dict[str, float]] = {}
    for backend in available_backends():
        timings[backend] = {}
        with use_backend(backend):
            for reduce in REDUCTIONS:
                times = []
                for _ in range(sizes.kernel_repeats + 1):  # the first is a warm-up
                    synchronize(device)
                    start = time.perf_counter()
                    scatter(src, index, dim_size=targets, reduce=reduce).sum().backward()
                    synchronize(device)
                    times.append(time.perf_counter() - start)
                timings[backend][reduce] = 1e3 * statistics.median(times[1:])
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda, cuda:1, … or cpu")
    parser.add_argument("--chemprop", type=Path, help="chemprop executable (its own venv)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: check that it runs")
    parser.add_argument("--epochs", type=int, help=f"training epochs (default {FULL.epochs})")
    parser.add_argument("--lines", type=int, help=f"library lines (default {FULL.lines:,})")
    parser.add_argument("--workers", type=int, default=1, help="screening featurization workers")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument("--out", type=Path, help="output folder (default: a temporary one)")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    sizes = SMOKE if args.smoke else FULL
    sizes = replace(sizes, epochs=args.epochs or sizes.epochs, lines=args.lines or sizes.lines)
    device = torch.device(args.device)
    accelerator = "gpu" if device.type == "cuda" else device.type
    workdir = args.out or Path(tempfile.mkdtemp(prefix="gpu_benchmark_"))
    workdir.mkdir(parents=True, exist_ok=True)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(
        f"device {device} ({name}), torch {torch.__version__}, {torch.get_num_threads()} "
        f"threads; runs in {workdir}",
        flush=True,
    )

    data, splits, train_size = training_data(workdir, sizes.molecules)
    run = workdir / "gnnkit_run"
    training = {"gnnkit": gnnkit_training(data, splits, sizes, accelerator, run)}
    if args.chemprop is not None:
        training["chemprop"] = chemprop_training(
            args.chemprop, data, splits, train_size, max(sizes.epochs, SHORT + 1), accelerator
        )
    results = {
        "device": str(device),
        "device_name": name,
        "training_molecules_per_second": training,
        "screening_molecules_per_second": screening(run, sizes, str(device), args.workers, workdir),
        "scatter_ms": scatter_kernels(sizes, device),
        "sizes": asdict(sizes),
    }
    (workdir / "results.json").write_text(json.dumps(results, indent=1))

    print(f"\ntraining, {train_size:,} molecules, {sizes.epochs} epochs (chemprop's defaults)")
    print("| tool | molecules/s |\n| --- | ---: |")
    for tool, rate in training.items():
        print(f"| {tool} | {rate:,.0f} |")
    print(
        f"\nscreening, {sizes.lines:,} lines: {results['screening_molecules_per_second']:,.0f} /s"
    )
    print(f"\nscatter forward+backward ms, {sizes.rows:,} × {sizes.channels}")
    print("| backend | " + " | ".join(REDUCTIONS) + " |")
    print("| --- |" + " ---: |" * len(REDUCTIONS))
    for backend, row in results["scatter_ms"].items():
        print(f"| {backend} | " + " | ".join(f"{row[r]:.3f}" for r in REDUCTIONS) + " |")


if __name__ == "__main__":
    main()
