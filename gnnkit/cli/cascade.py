"""``gnnkit cascade``: train, evaluate and apply classifiers of news propagation cascades.

Subcommands: ``train`` (a network, cross-validated), ``baseline`` (cascade statistics and a
standard classifier on the same folds), ``predict``, ``generate`` (synthetic cascades in the
Twitter15/16 format) and ``stats`` (per-class statistics, loader report, calibration). The
options come from :mod:`gnnkit.choices`; each command imports what it runs on when it runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnnkit.choices import (
    CASCADE_MODELS,
    CASCADE_SPLITS,
    CLASSIFIERS,
    FEATURE_SETS,
    UPFD_ENCODERS,
    UPFD_FEATURES,
    parse_feature_set,
)
from gnnkit.cli.errors import set_handler

if TYPE_CHECKING:
    from gnnkit.workflows.cascades.experiment import CascadeExperiment

DATA_HELP = (
    "twitter:DIR (Twitter15/16 folder, with source_tweets.txt for text), upfd:DIR (UPFD raw "
    "folder), upfd:politifact or upfd:gossipcop (downloaded once), or synthetic (calibrated "
    "generator, with user pools and templated texts)"
)
FEATURES_HELP = (
    "what the models read: structure (tree shape and timing), users (each post's author: "
    "class credibility from the training cascades, activity, unknown flag), text (the source "
    "post's TF-IDF), all, or groups joined by '+' (e.g. users+text)"
)


def feature_set(value: str) -> str:
    """``--features`` value, checked."""
    try:
        parse_feature_set(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cascade",
        help="classify news propagation cascades (Twitter15/16, UPFD, synthetic)",
        description=(
            "Tell false from true news by how it spreads: GCNFN, BiGCN and UPFD-style "
            "networks and a statistics baseline, cross-validated without leaks, with early "
            "detection from the first hours of a cascade."
        ),
    )
    commands = parser.add_subparsers(title="subcommands", metavar="SUBCOMMAND")
    commands.required = True
    _add_train(commands)
    _add_baseline(commands)
    _add_predict(commands)
    _add_generate(commands)
    _add_stats(commands)


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help=DATA_HELP)
    parser.add_argument(
        "--upfd-feature",
        choices=UPFD_FEATURES,
        default=None,
        help="UPFD node features to append to the structural ones (default: structure alone)",
    )
    parser.add_argument("--synthetic-n", type=int, default=400, help="cascades to generate")
    parser.add_argument(
        "--synthetic-scale",
        type=float,
        default=1.0,
        help="size scale of generated cascades (0.1: about ten times smaller)",
    )


def _add_protocol_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--features",
        type=feature_set,
        default="structure",
        metavar="{" + ",".join(FEATURE_SETS) + "}",
        help=FEATURES_HELP + " (default: structure)",
    )
    parser.add_argument(
        "--split",
        choices=CASCADE_SPLITS,
        default="stratified",
        help="stratified k-fold, or claim: source posts with TF-IDF cosine >= "
        "--claim-threshold form one claim, kept on one side of every cut (needs texts)",
    )
    parser.add_argument(
        "--claim-threshold",
        type=float,
        default=0.5,
        help="TF-IDF cosine similarity joining two source posts into one claim (--split claim)",
    )
    parser.add_argument(
        "--text-dims",
        type=int,
        default=32,
        help="SVD dimensions of the networks' text features, beside the class probabilities "
        "of a TF-IDF logistic regression",
    )
    parser.add_argument(
        "--folds",
        type=int,
        default=5,
        help="k of stratified k-fold; 1 for one split (the data's own split if it ships one)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seeds splits, models and data")
    parser.add_argument(
        "--val-fraction",
        type=float,
        default=0.1,
        help="share of the training folds used for validation (early stopping, model choice)",
    )
    parser.add_argument(
        "--observe-hours",
        nargs="+",
        default=[],
        metavar="H",
        help="early detection: also train and test on cascades observed up to H hours "
        "(numbers, or 'all')",
    )
    parser.add_argument("--out", required=True, help="output folder (metrics.json, runs, plot)")


def _add_train(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "train",
        help="cross-validate a cascade network",
        description="Train a network on every fold (validation carved from the training "
        "folds), score each test fold once, and write OUT/metrics.json.",
    )
    _add_data_options(parser)
    parser.add_argument("--model", required=True, choices=CASCADE_MODELS)
    _add_protocol_options(parser)
    parser.add_argument("--epochs", type=int, default=30, help="most epochs per fold")
    parser.add_argument("--patience", type=int, default=10, help="early-stopping patience")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-3, help="peak learning rate")
    parser.add_argument(
        "--hidden", type=int, help="hidden width; unset: the paper's (64, upfd 128)"
    )
    parser.add_argument(
        "--dropout", type=float, help="dropout rate; unset: the paper's (0.5, upfd 0)"
    )
    parser.add_argument(
        "--input-norm",
        action="store_true",
        help="batch-normalise the node features before the network (none of the papers does)",
    )
    parser.add_argument(
        "--encoder", choices=sorted(UPFD_ENCODERS), default="sage", help="upfd only"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (1 is fastest for these small graphs on a shared machine)",
    )
    set_handler(parser, run_train)


def _add_baseline(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "baseline",
        help="cascade statistics and a standard classifier, on the same folds",
        description="Size, depth, breadth, structural virality, timing statistics and a "
        "scikit-learn classifier, evaluated on exactly the folds of `cascade train`.",
    )
    _add_data_options(parser)
    parser.add_argument(
        "--classifier",
        choices=CLASSIFIERS,
        default=None,
        help="default: forest for --features structure, logistic regression otherwise",
    )
    _add_protocol_options(parser)
    set_handler(parser, run_baseline_command)


def _add_predict(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "predict",
        help="classify cascades with a trained run",
        description="Average the class probabilities of a run's fold models (or one model.pt). "
        "A Twitter15/16 folder needs no label.txt here: every tree/<source_id>.txt is "
        "classified, and the labels label.txt gives (where present) are written beside the "
        "predictions and scored.",
    )
    parser.add_argument(
        "--model", required=True, help="a `cascade train` output folder or a model.pt"
    )
    _add_data_options(parser)
    parser.add_argument(
        "--observe-hours",
        type=float,
        default=None,
        metavar="H",
        help="observe cascades up to H hours (default: the window the models were trained on)",
    )
    parser.add_argument(
        "--features",
        type=feature_set,
        default=None,
        metavar="{" + ",".join(FEATURE_SETS) + "}",
        help="the feature set the models must read (default: theirs; a mismatch is an error)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of --data synthetic")
    parser.add_argument("--out", required=True, help="predictions CSV")
    set_handler(parser, run_predict)


def _add_generate(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "generate",
        help="write synthetic cascades in the Twitter15/16 format",
        description="Draw cascades from the branching process calibrated on Twitter15 and "
        "write label.txt and tree/<id>.txt (readable with --data twitter:DIR).",
    )
    parser.add_argument(
        "--n", type=int, required=True, help="cascades to draw (classes take turns)"
    )
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size-scale", type=float, default=1.0)
    parser.add_argument("--max-nodes", type=int, default=3000)
    set_handler(parser, run_generate)


def _add_stats(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "stats",
        help="per-class cascade statistics, loader report and calibration",
        description="Print the loader's quirk report, per-class statistics (Markdown) and, "
        "for timed data, the generator parameters calibrated on it (JSON).",
    )
    _add_data_options(parser)
    parser.add_argument("--seed", type=int, default=0)
    set_handler(parser, run_stats)


def _load(args: argparse.Namespace, require_labels: bool = True) -> Any:
    """The ``--data`` cascades, with their loader report printed; ``require_labels=False``
    also reads unlabelled cascades (see :class:`~gnnkit.data.cascades.DataOptions`)."""
    from gnnkit.data.cascades import DataOptions, load_cascades

    options = DataOptions(
        upfd_feature=args.upfd_feature,
        synthetic_n=args.synthetic_n,
        synthetic_scale=args.synthetic_scale,
        seed=args.seed,
        require_labels=require_labels,
    )
    data = load_cascades(args.data, options)
    if data.report is not None:
        print(data.report.summary())
    return data


def _experiment(args: argparse.Namespace) -> CascadeExperiment:
    from gnnkit.workflows.cascades.early import parse_hours
    from gnnkit.workflows.cascades.experiment import CascadeExperiment

    return CascadeExperiment(
        data=_load(args),
        spec=args.data,
        folds=args.folds,
        seed=args.seed,
        val_fraction=args.val_fraction,
        observe_hours=parse_hours(args.observe_hours),
        features=args.features,
        split=args.split,
        claim_threshold=args.claim_threshold,
        text_dims=args.text_dims,
    )


def _score(value: Any) -> str:
    return (
        f"{value['mean']:.3f} ± {value['std']:.3f}" if isinstance(value, dict) else f"{value:.3f}"
    )


def _print_metrics(metrics: dict[str, Any], out: str) -> None:
    test = metrics["test"]
    print(
        f"{metrics['model']}: test accuracy {_score(test['accuracy'])}, "
        f"macro-F1 {_score(test['macro_f1'])}"
    )
    for entry in metrics.get("early_detection", []):
        window = "all" if entry["hours"] is None else f"{entry['hours']:g} h"
        print(f"  observed {window}: accuracy {_score(entry['test']['accuracy'])}")
    print(f"wrote {out}/metrics.json ({metrics['seconds']:.0f} s)")


def check_fresh_output(out: str) -> None:
    """Refuse an ``--out`` folder where a ``cascade train`` run has left fold checkpoints:
    training cannot resume those folds, and a new run must not mix with them."""
    from gnnkit.train.trainer import CHECKPOINT_DIR

    folder = Path(out)
    for pattern in (f"fold*/{CHECKPOINT_DIR}", f"early/hours_*/fold*/{CHECKPOINT_DIR}"):
        for checkpoints in sorted(folder.glob(pattern)):
            if checkpoints.is_dir() and any(checkpoints.iterdir()):
                raise FileExistsError(
                    f"{out} already holds a cascade training run ({checkpoints} is not empty); "
                    "choose another --out or delete the folder"
                )


def run_train(args: argparse.Namespace) -> int:
    import torch

    from gnnkit.train import TrainConfig
    from gnnkit.workflows.cascades.evaluation import GNNSettings
    from gnnkit.workflows.cascades.experiment import run_gnn

    check_fresh_output(args.out)
    torch.set_num_threads(args.threads)
    given = {"hidden_channels": args.hidden, "dropout": args.dropout}
    hparams: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
    if args.input_norm:
        hparams["input_norm"] = True
    if args.model == "upfd":
        hparams["encoder"] = args.encoder
    config = TrainConfig(
        task="multiclass",
        epochs=args.epochs,
        batch_size=args.batch_size,
        max_lr=args.lr,
        warmup_epochs=min(2.0, float(args.epochs)),
        monitor="loss",
        patience=args.patience,
        seed=args.seed,
        progress="none",
    )
    metrics = run_gnn(_experiment(args), GNNSettings(args.model, hparams, config), args.out)
    _print_metrics(metrics, args.out)
    return 0


def run_baseline_command(args: argparse.Namespace) -> int:
    from gnnkit.workflows.cascades.experiment import run_baseline

    metrics = run_baseline(_experiment(args), args.classifier, args.out)
    _print_metrics(metrics, args.out)
    return 0


def run_predict(args: argparse.Namespace) -> int:
    from gnnkit.workflows.cascades.predict import load_cascade_models, predict_cascades

    models = load_cascade_models(args.model, args.features)
    frame = predict_cascades(models, _load(args, require_labels=False), args.observe_hours)
    frame.to_csv(args.out, index=False)
    known = frame["label"] != ""
    accuracy = (frame["label"][known] == frame["predicted"][known]).mean() if known.any() else None
    summary = (
        f", accuracy {accuracy:.3f} on {int(known.sum())} labelled" if accuracy is not None else ""
    )
    print(f"wrote {len(frame)} predictions ({len(models)} model(s)) to {args.out}{summary}")
    return 0


def run_generate(args: argparse.Namespace) -> int:
    from gnnkit.data.cascades import generate, write_twitter

    data = generate(args.n, seed=args.seed, size_scale=args.size_scale, max_nodes=args.max_nodes)
    write_twitter(data, args.out)
    print(
        f"wrote {len(data)} cascades "
        f"({', '.join(f'{k} {v}' for k, v in data.class_counts().items())}) to {args.out}"
    )
    return 0


def run_stats(args: argparse.Namespace) -> int:
    from gnnkit.data.cascades import calibrate, class_summary
    from gnnkit.data.cascades.statistics import format_summary
    from gnnkit.data.cascades.synthetic import params_table

    data = _load(args)
    print(format_summary(class_summary(data.cascades, data.classes)))
    if data.timed:
        print(json.dumps({"calibration": params_table(calibrate(data))}, indent=2))
    return 0
