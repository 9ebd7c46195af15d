"""gnnkit against chemprop 2.3 on the same data, splits and hyper-parameters, in one run.

    python benchmarks/vs_chemprop.py --chemprop /path/to/chemprop-venv/bin/chemprop \
        [--epochs 30] [--seeds 0 1 2] [--datasets chembl esol tox21] [--out runs/vs_chemprop]

chemprop lives in its own virtual environment (``pip install torch==2.13.0 chemprop==2.3.1``);
``--chemprop`` points at its ``chemprop`` executable, and the Python beside it runs chemprop's
featurizer. Both tools train with chemprop's defaults (hidden 300, depth 3, one 300-wide FFN
layer, norm aggregation, batch 64, no early stopping, best validation checkpoint) on the same
``splits.json``; test metrics of both are computed from their prediction files by the same code.

Measured:

1. featurization, SMILES → graph per second: gnnkit's featurizer (1 process and 2 workers) and
   chemprop's ``SimpleMoleculeMolGraphFeaturizer`` (1 process) on the same list (RDKit's NCI
   5K file plus the ChEMBL set), median of 7 turns (``--featurization-repeats``) in which the
   tools alternate; the features of the two are also compared (``--featurization-only``
   stops after this);
2. training throughput, samples per second: the time of one more epoch, from the wall times of
   an E-epoch and a 3-epoch run of each whole command (start-up and featurization cancel);
3. whole-command wall time and test RMSE (regression) or mean ROC-AUC (classification) of each
   tool, per seed, summarised as median / mean ± sd.

Data (``--datasets``): the embedded ChEMBL set (``chembl``), a seeded 642-molecule sample of it
(``chembl642``); ``../shared/data/molecules/esol_500.csv`` and ``tox21_500.csv`` when present
(the script says so when they are missing).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import rdkit
import torch
from timing import timed

from gnnkit.data.molecules import MoleculeFeaturizer
from gnnkit.data.molecules.catalog import TOX21_TASKS, embedded_chembl
from gnnkit.data.splits import random_split, write_splits
from gnnkit.train.metrics import compute_metrics
from gnnkit.train.tasks import Task

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "molecules"
NCI = Path(rdkit.__file__).parent / "Data" / "NCI" / "first_5K.smi"
#: Epochs of the short run whose wall time is subtracted (chemprop needs more than its 2
#: warm-up epochs).
SHORT = 3

CHEMPROP_FEATURIZE = """
import sys, time, json, numpy as np
from rdkit import Chem, rdBase
from chemprop.featurizers import SimpleMoleculeMolGraphFeaturizer
smiles = open(sys.argv[1]).read().split()
featurizer = SimpleMoleculeMolGraphFeaturizer()
start = time.perf_counter()
with rdBase.BlockLogs():
    graphs = [featurizer(m) for m in map(Chem.MolFromSmiles, smiles) if m is not None]
seconds = time.perf_counter() - start
np.savez(sys.argv[2], V=np.concatenate([g.V for g in graphs]),
         E=np.concatenate([g.E for g in graphs]))
print(json.dumps({"seconds": seconds, "graphs": len(graphs)}))
"""


@dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    path: Path
    targets: list[str]
    task: str  # "regression" or "classification"

    @property
    def metric(self) -> str:
        return "rmse" if self.task == "regression" else "roc_auc"


def datasets(names: list[str], workdir: Path) -> list[Dataset]:
    """The named datasets; ``chembl642`` is a seeded sample of 642 molecules of the embedded
    ChEMBL set (written to ``workdir``), a training set of the size where start-up weighs more."""
    chembl = embedded_chembl().path
    sample = workdir / "chembl_642.csv"
    if "chembl642" in names:
        pd.read_csv(chembl).sample(642, random_state=0).to_csv(sample, index=False)
    available = {
        "chembl": Dataset("chembl", chembl, ["pIC50"], "regression"),
        "chembl642": Dataset("chembl642", sample, ["pIC50"], "regression"),
    }
    esol, tox21 = SHARED / "esol_500.csv", SHARED / "tox21_500.csv"
    if esol.exists():
        available["esol"] = Dataset("esol", esol, ["logSolubility"], "regression")
    if tox21.exists():
        available["tox21"] = Dataset("tox21", tox21, TOX21_TASKS, "classification")
    missing = [n for n in names if n not in available]
    if missing:
        print(f"note: {', '.join(missing)} not found under {SHARED}; skipped", file=sys.stderr)
    return [available[n] for n in names if n in available]


def featurization(chemprop_python: Path, workdir: Path, repeats: int) -> dict[str, float]:
    """SMILES/s of each tool, median of ``repeats``; within each repeat the tools take turns, so
    that a slow spell of the machine hits all of them."""
    smiles = [line.split()[0] for line in NCI.read_text().splitlines() if line.strip()]
    smiles += pd.read_csv(embedded_chembl().path).smiles.tolist()
    listing = workdir / "featurize.smi"
    listing.write_text("\n".join(smiles) + "\n")
    arrays = workdir / "chemprop_features.npz"
    times: dict[str, list[float]] = {"gnnkit_1": [], "gnnkit_2": [], "chemprop_1": []}
    for _ in range(repeats):
        for workers in (1, 2):
            start = time.perf_counter()
            ours = MoleculeFeaturizer().featurize(smiles, workers=workers)
            times[f"gnnkit_{workers}"].append(time.perf_counter() - start)
        result = subprocess.run(
            [str(chemprop_python), "-c", CHEMPROP_FEATURIZE, str(listing), str(arrays)],
            capture_output=True,
            text=True,
            check=True,
        )
        times["chemprop_1"].append(json.loads(result.stdout.strip().splitlines()[-1])["seconds"])
    rates: dict[str, float] = {k: len(smiles) / statistics.median(v) for k, v in times.items()}
    theirs = np.load(arrays)
    rates["features_identical"] = bool(
        np.array_equal(ours.x, theirs["V"]) and np.array_equal(ours.edge_attr, theirs["E"])
    )
    rates["molecules"] = len(smiles)
    return rates


def gnnkit_command(data: Dataset, splits: Path, epochs: int, seed: int, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "gnnkit", "mol", "train", "--data", str(data.path),
        "--smiles-column", "smiles", "--target-columns", *data.targets, "--task", data.task,
        "--splits-file", str(splits), "--epochs", str(epochs), "--seed", str(seed),
        "--progress", "none", "--accelerator", "cpu", "--out", str(out),
    ]  # fmt: skip


def chemprop_command(
    chemprop: Path,
    data: Dataset,
    splits: Path,
    epochs: int,
    seed: int,
    out: Path,
    accelerator: str = "cpu",
) -> list[str]:
    """``chemprop train`` with its defaults on ``data`` and ``splits``; ``accelerator`` is
    Lightning's (``cpu``, ``gpu``)."""
    return [
        str(chemprop), "train", "--data-path", str(data.path), "-s", "smiles",
        "--target-columns", *data.targets, "-t", data.task, "--splits-file", str(splits),
        "--epochs", str(epochs), "--pytorch-seed", str(seed), "--accelerator", accelerator,
        "--num-workers", "0", "-o", str(out),
    ]  # fmt: skip


def samples_per_second(train_size: int, wall: float, short_wall: float, epochs: int) -> float:
    """Training samples per second of the epochs an ``epochs``-epoch run takes beyond a
    :data:`SHORT` one (start-up and featurization cancel)."""
    return train_size * (epochs - SHORT) / (wall - short_wall)


def test_metric(data: Dataset, predictions: pd.DataFrame, test_rows: list[int]) -> float:
    """The dataset's metric from a tool's test predictions (rows in split order)."""
    frame = pd.read_csv(data.path)
    truth = torch.tensor(
        frame.loc[test_rows, data.targets].to_numpy(dtype=float), dtype=torch.float32
    )
    preds = torch.tensor(predictions.to_numpy(dtype=float), dtype=torch.float32)
    kind = "regression" if data.task == "regression" else "binary"
    task = Task.create(kind, len(data.targets), data.targets)
    return compute_metrics(task, preds, truth)[data.metric]


def gnnkit_predictions(run_dir: Path, data: Dataset) -> pd.DataFrame:
    frame = pd.read_csv(run_dir / "test_predictions.csv")
    return frame[[f"{t}_pred" for t in data.targets]]


def chemprop_predictions(run_dir: Path, data: Dataset) -> pd.DataFrame:
    frame = pd.read_csv(run_dir / "model_0" / "test_predictions.csv")
    return frame[data.targets]


def benchmark_dataset(
    data: Dataset, chemprop: Path, seeds: list[int], epochs: int, workdir: Path
) -> dict[str, object]:
    rows = len(pd.read_csv(data.path))
    results: dict[str, dict[str, list[float]]] = {
        tool: {"wall": [], "metric": []} for tool in ("gnnkit", "chemprop")
    }
    short: dict[str, float] = {}
    for seed in seeds:
        split = random_split(rows, (0.8, 0.1, 0.1), seed=seed)
        splits = workdir / f"{data.name}_splits_{seed}.json"
        write_splits([split], splits)
        runs = [(e, seed) for e in (epochs, SHORT)] if seed == seeds[0] else [(epochs, seed)]
        for run_epochs, run_seed in runs:
            for tool in ("gnnkit", "chemprop"):
                out = workdir / f"{data.name}_{tool}_{run_seed}_{run_epochs}"
                command = (
                    gnnkit_command(data, splits, run_epochs, run_seed, out)
                    if tool == "gnnkit"
                    else chemprop_command(chemprop, data, splits, run_epochs, run_seed, out)
                )
                wall = timed(command, workdir / f"{out.name}.log")
                if run_epochs == SHORT:
                    short[tool] = wall
                    continue
                predictions = (gnnkit_predictions if tool == "gnnkit" else chemprop_predictions)(
                    out, data
                )
                results[tool]["wall"].append(wall)
                results[tool]["metric"].append(test_metric(data, predictions, split.test))
    train_size = len(random_split(rows, (0.8, 0.1, 0.1), seed=seeds[0]).train)
    summary: dict[str, object] = {"dataset": data.name, "metric": data.metric, "rows": rows}
    for tool, values in results.items():
        summary[tool] = {
            "wall_median": statistics.median(values["wall"]),
            "samples_per_second": samples_per_second(
                train_size, values["wall"][0], short[tool], epochs
            ),
            "metric_mean": float(np.mean(values["metric"])),
            "metric_sd": float(np.std(values["metric"], ddof=1)) if len(seeds) > 1 else 0.0,
            "metric_per_seed": values["metric"],
        }
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chemprop", required=True, type=Path, help="chemprop executable")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", default=["chembl", "esol", "tox21"])
    parser.add_argument("--out", type=Path, help="folder for runs (default: a temporary one)")
    parser.add_argument(
        "--featurization-repeats", type=int, default=7, help="timed turns of each featurizer"
    )
    parser.add_argument(
        "--featurization-only", action="store_true", help="measure featurization, then stop"
    )
    args = parser.parse_args()
    workdir = args.out or Path(tempfile.mkdtemp(prefix="vs_chemprop_"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"runs in {workdir}; torch threads {torch.get_num_threads()}", flush=True)

    rates = featurization(args.chemprop.parent / "python", workdir, args.featurization_repeats)
    print(
        f"\nfeaturization, SMILES → graph, {rates['molecules']:,} SMILES "
        f"(median of {args.featurization_repeats}, tools taking turns); "
        f"features identical to chemprop's: {rates['features_identical']}"
    )
    print(f"{'tool':<28}{'SMILES/s':>10}{'vs chemprop':>13}")
    for key, label in (
        ("chemprop_1", "chemprop, 1 process"),
        ("gnnkit_1", "gnnkit, 1 process"),
        ("gnnkit_2", "gnnkit, 2 worker processes"),
    ):
        print(f"{label:<28}{rates[key]:>10,.0f}{rates[key] / rates['chemprop_1']:>12.2f}×")
    if args.featurization_only:
        return

    summaries = []
    for data in datasets(args.datasets, workdir):
        summary = benchmark_dataset(data, args.chemprop, args.seeds, args.epochs, workdir)
        summaries.append(summary)
        (workdir / f"{data.name}_summary.json").write_text(json.dumps(summary, indent=1))
    print(
        f"\ntraining: {args.epochs} epochs, seeds {args.seeds}, same splits.json per seed; "
        f"throughput from the extra time of {args.epochs} vs {SHORT} epochs"
    )
    header = (
        f"{'dataset':<8}{'metric':<9}{'tool':<10}{'train samples/s':>16}{'wall s (median)':>17}"
        f"{'test metric mean ± sd':>24}"
    )
    print(header)
    for s in summaries:
        for tool in ("chemprop", "gnnkit"):
            r = s[tool]
            print(
                f"{s['dataset']:<8}{s['metric']:<9}{tool:<10}{r['samples_per_second']:>16,.0f}"
                f"{r['wall_median']:>17.1f}{r['metric_mean']:>16.3f} ± {r['metric_sd']:.3f}"
            )
        ours, theirs = s["gnnkit"], s["chemprop"]
        print(
            f"{'':<17}ratio gnnkit/chemprop: throughput "
            f"{ours['samples_per_second'] / theirs['samples_per_second']:.2f}×, wall "
            f"{ours['wall_median'] / theirs['wall_median']:.2f}, "
            f"{s['metric']} {ours['metric_mean'] / theirs['metric_mean']:.3f}"
        )


if __name__ == "__main__":
    main()
