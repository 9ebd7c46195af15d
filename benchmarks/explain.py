"""The nitrogen sanity check of ``gnnkit mol explain``: ROC-AUC of nitrogen atoms against the
others, per attribution method, for models trained to count nitrogen atoms.

    python benchmarks/explain.py [--epochs 30] [--nci 500] [--out runs/benchmarks/explain]

1. Data: the target of every molecule is its number of nitrogen atoms, a known function of its
   atoms. Two sets that RDKit's wheel ships: the first ``--nci`` NCI molecules
   (``rdkit/Data/NCI/first_5K.smi``) with at most 40 heavy atoms, and the embedded ChEMBL set
   (1,017 aryl sulfonamides: every molecule has 2 to 7 nitrogens).
2. Models, trained with ``gnnkit mol train`` for ``--epochs`` (random 80/10/10 split, seed 0):
   chemprop's default D-MPNN (hidden 300, depth 3, norm aggregation) and the small one of the
   test suite (hidden 32, FFN 32, sum aggregation, learning rate 3e-3).
3. ``gnnkit mol explain`` with each method on the held-out test molecules; ROC-AUC
   (scikit-learn) over all their atoms with label "is a nitrogen atom", and the command's wall
   seconds (one run each; the machine may be loaded by other jobs).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
from rdkit import Chem, rdBase
from screen import NCI
from sklearn.metrics import roc_auc_score
from timing import gnnkit_mol, timed

from gnnkit.choices import ATTRIBUTION_METHODS
from gnnkit.data.molecules.catalog import embedded_chembl

MODELS = {
    "default (300, norm)": [],
    "small (32, sum)": [
        *("--hidden", "32", "--ffn-hidden", "32", "--aggregation", "sum", "--max-lr", "3e-3"),
    ],
}


def nitrogens(smiles: str) -> int:
    return sum(atom.GetSymbol() == "N" for atom in Chem.MolFromSmiles(smiles).GetAtoms())


def datasets(workdir: Path, nci: int) -> dict[str, Path]:
    """CSV files of ``smiles`` and ``nitrogens``: NCI molecules and the embedded ChEMBL set."""
    rows = []
    with rdBase.BlockLogs():
        for line in NCI.read_text().splitlines():
            mol = Chem.MolFromSmiles(line.split()[0])
            if mol is not None and mol.GetNumHeavyAtoms() <= 40:
                rows.append(line.split()[0])
            if len(rows) == nci:
                break
    chembl = pd.read_csv(embedded_chembl().path).smiles.tolist()
    files = {}
    for name, smiles in ((f"NCI ({nci})", rows), ("ChEMBL (1,017)", chembl)):
        path = workdir / f"{name.split()[0].lower()}_nitrogens.csv"
        pd.DataFrame({"smiles": smiles, "nitrogens": [nitrogens(s) for s in smiles]}).to_csv(
            path, index=False
        )
        files[name] = path
    return files


def test_molecules(data: Path, run: Path, out: Path) -> Path:
    """The test split of ``run`` (its ``splits.json``) as a file of its own."""
    (split,) = json.loads((run / "splits.json").read_text())
    pd.read_csv(data).iloc[split["test"]].to_csv(out, index=False)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--nci", type=int, default=500, help="NCI molecules")
    parser.add_argument("--out", type=Path, default=Path("runs/benchmarks/explain"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    lines = []
    for dataset, data in datasets(args.out, args.nci).items():
        for model, options in MODELS.items():
            name = f"{data.stem}_{model.split()[0]}"
            run = args.out / name
            if not (run / "model.pt").exists():
                train = gnnkit_mol("train", "--data", str(data), "--target-columns", "nitrogens")
                train += ["--epochs", str(args.epochs), "--progress", "none", *options]
                timed([*train, "--out", str(run)], args.out / f"{name}_train.log")
            r2 = json.loads((run / "metrics.json").read_text())["test"]["r2"]
            test = test_molecules(data, run, args.out / f"{name}_test.csv")
            for method in ATTRIBUTION_METHODS:
                out = args.out / f"{name}_{method}"
                explain = gnnkit_mol("explain", "--model", str(run), "--data", str(test))
                explain += ["--out", str(out), "--method", method, "--max-images", "0"]
                seconds = timed(explain, args.out / f"{name}_{method}.log")
                frame = pd.read_csv(out / "attributions.csv")
                auc = roc_auc_score(frame.symbol == "N", frame.attribution)
                line = (
                    f"| {dataset} | {model} | {r2:.3f} | {method} | {auc:.3f} | "
                    f"{frame.row.nunique()} | {len(frame)} | {seconds:.1f} |"
                )
                lines.append(line)
                print(line, flush=True)
    print()
    print("| data | model | test R² | method | ROC-AUC (N atoms) | molecules | atoms | wall s |")
    print("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
