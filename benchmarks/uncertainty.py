"""Calibrated uncertainty of a mean-variance (``--loss mve``) D-MPNN: interval coverage on the
test split and the miscalibration area before and after z-scaling.

    python benchmarks/uncertainty.py [--epochs 30] [--seeds 0 1 2] [--alpha 0.1] \
        [--out runs/benchmarks/uncertainty]

For each data set and seed, ``train_molecules`` trains chemprop's default D-MPNN with
``--loss mve --calibration conformal --alpha A`` on a random 80/10/10 split (the split's seed is
the run's). On the test split it reports:

- the coverage of the conformal intervals (goal: 1 − A within ±0.05);
- the coverage of the Gaussian intervals μ ± z·s·σ of z-scaling, fitted on the same
  validation predictions;
- the miscalibration area and the Gaussian NLL of the head's own σ, then of s·σ.

Data: the embedded ChEMBL set (1,017 molecules, pIC50; ships with RDKit) and the ESOL subset
``../shared/data/molecules/esol_500.csv`` (500 molecules, logSolubility), skipped with a note
when that file is missing.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import torch
from vs_chemprop import SHARED

from gnnkit.train import TrainConfig, fit_calibration, load_ensemble
from gnnkit.train.data import stack_targets
from gnnkit.train.uncertainty_metrics import coverage, gaussian_nll, miscalibration_area
from gnnkit.workflows.molecules import (
    MoleculeTrainConfig,
    load_dataset,
    make_splits,
    split_parts,
    train_molecules,
)

ESOL = SHARED / "esol_500.csv"
DATASETS = {"ChEMBL (embedded)": (None, None), "ESOL subset": (ESOL, ["logSolubility"])}
COLUMNS = (
    "data set",
    "seed",
    "test n",
    "conformal coverage",
    "z-scaling coverage",
    "miscal. area raw",
    "miscal. area z-scaled",
    "NLL raw",
    "NLL z-scaled",
)


def measure(config: MoleculeTrainConfig, run: Path) -> dict[str, float]:
    """Train ``config`` into ``run`` (unless done) and score its test split."""
    if not (run / "metrics.json").exists():
        train_molecules(config, run)
    dataset = load_dataset(config)
    parts = split_parts(dataset, make_splits(config, dataset)[0])
    ensemble = load_ensemble(run)
    conformal, ensemble.calibration = ensemble.calibration, None
    val, test = (ensemble.predict(parts[name]) for name in ("val", "test"))
    val_y, test_y = stack_targets(parts["val"]), stack_targets(parts["test"])
    zscaling = fit_calibration("zscaling", ensemble.task, val, val_y, config.alpha)
    scaled, intervals = zscaling.apply(test), conformal.apply(test)

    def first(tensor: torch.Tensor) -> torch.Tensor:
        return tensor[:, 0]

    y = first(test_y)
    return {
        "test n": len(y),
        "conformal coverage": coverage(y, first(intervals.lower), first(intervals.upper)),
        "z-scaling coverage": coverage(y, first(scaled.lower), first(scaled.upper)),
        "miscal. area raw": miscalibration_area(first(test.mean), first(test.std), y),
        "miscal. area z-scaled": miscalibration_area(first(scaled.mean), first(scaled.std), y),
        "NLL raw": gaussian_nll(first(test.mean), first(test.std), y),
        "NLL z-scaled": gaussian_nll(first(scaled.mean), first(scaled.std), y),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--alpha", type=float, default=0.1)
    parser.add_argument("--out", type=Path, default=Path("runs/benchmarks/uncertainty"))
    args = parser.parse_args()
    rows = []
    for name, (path, targets) in DATASETS.items():
        if path is not None and not path.is_file():
            print(f"{name}: {path} is missing; skipped (see ../shared/data/README.md)")
            continue
        for seed in args.seeds:
            config = MoleculeTrainConfig(
                data=str(path) if path else None,
                target_columns=targets,
                calibration="conformal",
                alpha=args.alpha,
                train=TrainConfig(
                    epochs=args.epochs, seed=seed, patience=None, progress="none", loss="mve"
                ),
            )
            slug = name.split()[0].lower()
            rows.append(
                {"data set": name, "seed": seed, **measure(config, args.out / f"{slug}_{seed}")}
            )
            print(rows[-1], flush=True)
    print(f"\nalpha = {args.alpha}, {args.epochs} epochs, chemprop's default D-MPNN, --loss mve\n")
    print("| " + " | ".join(COLUMNS) + " |")
    print("| --- | ---: |" + " ---: |" * (len(COLUMNS) - 2))
    for name in dict.fromkeys(row["data set"] for row in rows):
        group = [row for row in rows if row["data set"] == name]
        mean = {key: statistics.mean(row[key] for row in group) for key in COLUMNS[2:]}
        for row in [*group, {"data set": name, "seed": "mean", **mean}]:
            cells = [str(row["data set"]), str(row["seed"]), f"{row['test n']:.0f}"]
            cells += [f"{row[key]:.3f}" for key in COLUMNS[3:]]
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
