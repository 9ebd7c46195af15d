"""Default hyper-parameters against a search, on the ESOL subset, same split.

    python benchmarks/hpopt.py [--trials 20] [--epochs 30] [--out runs/benchmarks/hpopt]

1. Default: ``gnnkit mol train`` with its default D-MPNN (hidden 300, depth 3, one 300-wide
   FFN layer, chemprop's learning rates) for ``--epochs`` on ``../shared/data/molecules/
   esol_500.csv`` (500 molecules, logSolubility), random 80/10/10 split with seed 0.
2. Search: ``gnnkit mol hpopt`` with ``--trials`` trials of the default search space (TPE,
   median pruner, local engine) with the same data, epochs and split; its wall time.
3. Best: ``gnnkit mol train --config best_config.json`` (the same split).

Prints the test RMSE of the default and the best setting, the best validation RMSE and the
search's time, with the commands.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import pandas as pd
from timing import gnnkit_mol, timed
from vs_chemprop import SHARED

ESOL = SHARED / "esol_500.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--data", type=Path, default=ESOL)
    parser.add_argument("--out", type=Path, default=Path("runs/benchmarks/hpopt"))
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"{args.data} is missing: this benchmark needs the ESOL subset of ../shared/data")
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    common = ["--data", str(args.data), "--epochs", str(args.epochs), "--seed", "0"]
    common += ["--progress", "none"]
    commands = {
        "default": gnnkit_mol("train", *common, "--out", str(args.out / "default")),
        "search": gnnkit_mol(
            "hpopt", *common, "--trials", str(args.trials), "--out", str(args.out / "search")
        ),
        "best": gnnkit_mol(
            "train",
            "--config",
            str(args.out / "search" / "best_config.json"),
            "--out",
            str(args.out / "best"),
        ),
    }
    seconds = {name: timed(command, args.out / f"{name}.log") for name, command in commands.items()}
    summary = json.loads((args.out / "search" / "hpopt.json").read_text())
    trials = pd.read_csv(args.out / "search" / "trials.csv")
    rows = []
    for name in ("default", "best"):
        metrics = json.loads((args.out / name / "metrics.json").read_text())
        rows.append(
            {
                "setting": name,
                "val RMSE": round(metrics["val"]["rmse"], 3),
                "test RMSE": round(metrics["test"]["rmse"], 3),
                "train s": round(seconds[name]),
            }
        )
    print("| " + " | ".join(rows[0]) + " |")
    print("|" + "---|" * len(rows[0]))
    for row in rows:
        print("| " + " | ".join(str(value) for value in row.values()) + " |")
    counts = trials.state.value_counts().to_dict()
    print(
        f"\nsearch: {len(trials)} trials ({counts}) in {seconds['search']:.0f} s "
        f"({seconds['search'] / 60:.1f} min); best trial {summary['best']['number']}, "
        f"validation RMSE {summary['best']['value']:.3f}"
    )
    best_config = json.loads((args.out / "search" / "best_config.json").read_text())
    print("best parameters:", json.dumps({name: best_config[name] for name in summary["space"]}))
    for name, command in commands.items():
        print(f"{name}: gnnkit {' '.join(command[3:])}")


if __name__ == "__main__":
    main()
