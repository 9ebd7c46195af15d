"""``gnnkit mol``: molecular property prediction (train, predict)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gnnkit.data.splits import SPLIT_TYPES
from gnnkit.train import add_config_arguments, config_from_arguments
from gnnkit.workflows.molecules import (
    TASKS,
    MoleculeTrainConfig,
    predict_molecules,
    train_molecules,
)

#: Training settings that ``mol train`` derives from its own options.
TRAIN_FIELDS_SET_HERE = ("task", "task_names", "n_classes", "id_key")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "mol",
        help="molecular property prediction with a D-MPNN (train, predict)",
        description="Molecular property prediction with a directed message-passing network.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_train(commands)
    _add_predict(commands)
    parser.set_defaults(handler=lambda args: parser.print_help() or 2)


def _add_train(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "train",
        help="train a D-MPNN on a CSV of SMILES and targets (default: the embedded ChEMBL set)",
        description=(
            "Train a D-MPNN. Without --data it trains on the embedded ChEMBL set "
            "(CHEMBL2321810, 1,017 molecules, pIC50), which needs no network. Writes "
            "metrics.json, model.pt, test_predictions.csv, epochs.csv, splits.json and plots "
            "to --out."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data",
        help="CSV/TSV/.smi file, or esol, freesolv, lipophilicity, bbbp, tox21, hiv, chembl",
    )
    data.add_argument("--smiles-column", help="SMILES column (default: 'smiles' or the first)")
    data.add_argument("--target-columns", nargs="+", help="target columns (default: all others)")
    data.add_argument("--weight-column", help="per-row sample weights")
    data.add_argument("--task", choices=list(TASKS), default="regression")
    data.add_argument("--split", choices=SPLIT_TYPES, default="random")
    data.add_argument("--split-sizes", nargs=3, type=float, default=[0.8, 0.1, 0.1])
    data.add_argument("--splits-file", help="chemprop-format splits.json with row indices")
    data.add_argument("--folds", type=int, help="k-fold cross-validation (mean ± sd per metric)")
    data.add_argument("--workers", type=int, default=1, help="featurization processes")
    model = parser.add_argument_group("model")
    model.add_argument("--hidden", type=int, default=300, help="message-passing width")
    model.add_argument("--depth", type=int, default=3, help="message-passing steps")
    model.add_argument("--dropout", type=float, default=0.0)
    model.add_argument("--aggregation", choices=["norm", "mean", "sum"], default="norm")
    model.add_argument("--ffn-hidden", type=int, default=300)
    model.add_argument("--ffn-layers", type=int, default=1)
    model.add_argument("--descriptors", choices=["rdkit2d"], help="add RDKit 2-D descriptors")
    model.add_argument(
        "--descriptors-file", help="numeric CSV of molecule descriptors, one row per data row"
    )
    model.add_argument("--atom-features", choices=["v2", "rich"], default="v2")
    add_config_arguments(parser, exclude=TRAIN_FIELDS_SET_HERE, defaults={"patience": None})
    parser.add_argument("--out", default="runs/mol", help="output folder")
    parser.set_defaults(handler=run_train)


def _add_predict(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "predict",
        help="predict new molecules with a trained model",
        description=(
            "Predict every row of --data; the output keeps the input columns and adds one "
            "column per target. Rows whose SMILES RDKit rejects get empty predictions and are "
            "listed in invalid_smiles.csv beside --out."
        ),
    )
    parser.add_argument("--model", required=True, help="a run folder (or its model.pt)")
    parser.add_argument("--data", required=True, help="CSV/TSV/.smi file of molecules")
    parser.add_argument("--out", required=True, help="output CSV")
    parser.add_argument("--smiles-column", help="SMILES column (default: as in training)")
    parser.add_argument(
        "--descriptors-file", help="descriptor CSV, one row per input row (if the model uses one)"
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.set_defaults(handler=run_predict)


def config_from_args(args: argparse.Namespace) -> MoleculeTrainConfig:
    return MoleculeTrainConfig(
        data=args.data,
        smiles_column=args.smiles_column,
        target_columns=args.target_columns,
        weight_column=args.weight_column,
        task=args.task,
        split=args.split,
        sizes=tuple(args.split_sizes),
        splits_file=args.splits_file,
        folds=args.folds,
        hidden_channels=args.hidden,
        depth=args.depth,
        dropout=args.dropout,
        aggregation=args.aggregation,
        ffn_hidden_channels=args.ffn_hidden,
        ffn_layers=args.ffn_layers,
        descriptors=args.descriptors,
        descriptor_file=args.descriptors_file,
        atom_features=args.atom_features,
        workers=args.workers,
        train=config_from_arguments(
            args,
            task=TASKS[args.task],
            task_names=None,
            n_classes=None,
            id_key="smiles",
            warmup_epochs=min(args.warmup_epochs, args.epochs),
        ),
    )


def run_train(args: argparse.Namespace) -> int:
    metrics = train_molecules(config_from_args(args), args.out)
    test = {k: v for k, v in metrics["test"].items() if k not in ("per_task",)}
    print(f"test metrics: {json.dumps(test)}")
    print(f"artefacts in {Path(args.out).resolve()}")
    return 0


def run_predict(args: argparse.Namespace) -> int:
    frame = predict_molecules(
        args.model,
        args.data,
        args.out,
        smiles_column=args.smiles_column,
        descriptor_file=args.descriptors_file,
        workers=args.workers,
        batch_size=args.batch_size,
    )
    print(f"wrote {len(frame)} rows to {args.out}", file=sys.stderr)
    return 0
