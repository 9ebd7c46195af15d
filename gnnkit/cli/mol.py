"""``gnnkit mol``: molecular property prediction (train, predict, fingerprint, screen, explain).

The options come from pure-Python modules (:mod:`gnnkit.choices`, the settings records); each
command imports the workflow it runs when it runs, so ``--help`` needs no torch.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gnnkit.choices import (
    AGGREGATIONS,
    ATTRIBUTION_METHODS,
    CALIBRATIONS,
    DEDUPLICATE_MODES,
    ENGINES,
    FINGERPRINT_LAYERS,
    PRECISIONS,
    PRUNERS,
    RANK_BY,
    SPLIT_TYPES,
)
from gnnkit.cli.config_file import ConfigFileParser, add_config_file
from gnnkit.cli.errors import set_handler
from gnnkit.train.config import (
    add_config_arguments,
    config_from_arguments,
    non_negative_int,
    positive_int,
)
from gnnkit.workflows.molecules.config import MOLECULE_MODELS, TASKS, MoleculeTrainConfig
from gnnkit.workflows.screen.config import ScreenConfig

#: Training settings that ``mol train`` derives from its own options.
TRAIN_FIELDS_SET_HERE = ("task", "task_names", "n_classes", "class_names", "id_key")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "mol",
        help="molecular property prediction with a D-MPNN (train, predict, fingerprint, screen, "
        "explain)",
        description="Molecular property prediction with a directed message-passing network.",
    )
    commands = parser.add_subparsers(
        title="commands", metavar="COMMAND", parser_class=ConfigFileParser
    )
    _add_train(commands)
    _add_hpopt(commands)
    _add_predict(commands)
    _add_fingerprint(commands)
    _add_screen(commands)
    _add_explain(commands)
    parser.set_defaults(handler=lambda args: parser.print_help() or 2)


def _add_train(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "train",
        help="train a D-MPNN on a CSV of SMILES and targets (default: the embedded ChEMBL set)",
        description=(
            "Train a D-MPNN (or with --model egnn an EGNN on 3-D conformers). Without --data "
            "it trains on the embedded ChEMBL set "
            "(CHEMBL2321810, 1,017 molecules, pIC50), which needs no network. Writes "
            "metrics.json, model.pt, test_predictions.csv, epochs.csv, splits.json, run.json "
            "and plots (with a reliability diagram where the model has an uncertainty) to "
            "--out, and calibration.json with --calibration. A folder that holds a run is left "
            "alone unless --resume is given, which continues the run only on the files it was "
            "trained on (run.json records their SHA-256) and with the same settings; a run "
            "without run.json (older gnnkit) cannot be resumed. --config FILE reads options "
            "from a JSON file (such as the best_config.json of mol hpopt); options given on "
            "the command line override it."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_config_file(parser)
    _add_training_arguments(parser)
    parser.add_argument("--out", default="runs/mol", help="output folder")
    set_handler(parser, run_train)


def _add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """The data, model and training options of ``mol train`` (and of ``mol hpopt``)."""
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data",
        help="CSV/TSV/.smi/.sdf file (optionally .gz), or esol, freesolv, lipophilicity, bbbp, "
        "tox21, hiv, chembl; an SD file's properties are its columns",
    )
    data.add_argument("--smiles-column", help="SMILES column (default: 'smiles' or the first)")
    data.add_argument(
        "--smiles-columns",
        nargs="+",
        metavar="COLUMN",
        help="two or more SMILES columns: one molecule of each per row (e.g. solute solvent), "
        "one D-MPNN per column, their molecule vectors concatenated before the FFN",
    )
    data.add_argument("--target-columns", nargs="+", help="target columns (default: all others)")
    data.add_argument("--weight-column", help="per-row sample weights")
    data.add_argument(
        "--deduplicate",
        choices=DEDUPLICATE_MODES,
        default="keep",
        help="rows holding the same molecule (same canonical SMILES): keep them all, with a "
        "warning naming them, each molecule's rows in one part of every split; mean: merge "
        "them into one row with the mean of their targets per task, missing values ignored "
        "(regression); first: keep the first row; error: refuse the file, naming the rows",
    )
    data.add_argument("--task", choices=list(TASKS), default="regression")
    data.add_argument("--split", choices=SPLIT_TYPES, default="random")
    data.add_argument("--split-sizes", nargs=3, type=float, default=[0.8, 0.1, 0.1])
    data.add_argument("--splits-file", help="chemprop-format splits.json with row indices")
    data.add_argument(
        "--folds",
        type=positive_int,
        help="k >= 2: k-fold cross-validation (mean ± sd per metric); 1: one split by --split",
    )
    data.add_argument("--workers", type=positive_int, default=1, help="featurization processes")
    model = parser.add_argument_group("model")
    model.add_argument(
        "--ensemble",
        type=positive_int,
        default=1,
        help="models per split (seeds seed, seed+1, …); predict reports their mean and std",
    )
    model.add_argument(
        "--model",
        choices=list(MOLECULE_MODELS),
        default="dmpnn",
        help="dmpnn: D-MPNN on the 2-D graph; egnn: E(3)-invariant EGNN on one ETKDG conformer "
        "per molecule (molecules that cannot be embedded go to invalid_smiles.csv)",
    )
    model.add_argument(
        "--conformer-seed",
        type=non_negative_int,
        default=0,
        help="ETKDG seed of the conformers (egnn)",
    )
    model.add_argument(
        "--hidden",
        type=positive_int,
        help="message-passing width; unset: 300 for dmpnn, 128 for egnn",
    )
    model.add_argument(
        "--depth", type=positive_int, help="message-passing steps; unset: 3 for dmpnn, 4 for egnn"
    )
    model.add_argument("--dropout", type=float, default=0.0)
    model.add_argument("--aggregation", choices=AGGREGATIONS, default="norm")
    model.add_argument("--ffn-hidden", type=positive_int, default=300)
    model.add_argument(
        "--ffn-layers", type=non_negative_int, default=1, help="hidden layers of the FFN head"
    )
    model.add_argument("--descriptors", choices=["rdkit2d"], help="add RDKit 2-D descriptors")
    model.add_argument(
        "--descriptors-file", help="numeric CSV of molecule descriptors, one row per data row"
    )
    model.add_argument("--atom-features", choices=["v2", "rich"], default="v2")
    model.add_argument(
        "--shared-encoder",
        action="store_true",
        help="one D-MPNN encodes the molecules of every --smiles-columns column",
    )
    tuning = parser.add_argument_group("fine-tuning")
    tuning.add_argument(
        "--init-from",
        metavar="RUN",
        help="start from the weights of a trained run (its folder, the first model of an "
        "ensemble or of folds, or a model.pt); its featurizer and descriptors must match this "
        "run's, and options of the architecture left at their defaults take its values; the "
        "output layer is rebuilt when the number of tasks or the task kind differs",
    )
    tuning.add_argument(
        "--freeze-encoder",
        action="store_true",
        help="keep the message-passing weights of --init-from as they are",
    )
    tuning.add_argument(
        "--freeze-ffn-layers",
        type=non_negative_int,
        default=0,
        metavar="K",
        help="keep the first K layers of the FFN head of --init-from as they are",
    )
    uncertainty = parser.add_argument_group(
        "uncertainty (--loss mve|evidential predicts a variance; see also the training options)"
    )
    uncertainty.add_argument(
        "--calibration",
        choices=CALIBRATIONS,
        default="none",
        help="fitted on the validation split and stored with the run: zscaling (scales the "
        "std) or conformal (intervals; any regression model) for regression, platt or "
        "isotonic (probabilities) for binary classification",
    )
    uncertainty.add_argument(
        "--alpha",
        type=float,
        default=0.1,
        help="miscoverage of the calibrated intervals: predict writes <target>_lower and "
        "<target>_upper holding 1 - alpha of the targets",
    )
    add_config_arguments(parser, exclude=TRAIN_FIELDS_SET_HERE, defaults={"patience": None})


def training_options(args: argparse.Namespace) -> dict[str, Any]:
    """The values of the options :func:`_add_training_arguments` adds, by name."""
    parser = argparse.ArgumentParser(add_help=False)
    _add_training_arguments(parser)
    return {name: getattr(args, name) for name in vars(parser.parse_args([]))}


def _add_hpopt(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "hpopt",
        help="search hyper-parameters of mol train (Optuna TPE; locally or on Ray Tune)",
        description=(
            "Try --trials settings of the hidden width, depth, dropout, FFN layers and width, "
            "aggregation, batch size and learning rates (or of the dimensions of "
            "--search-space) with Optuna's TPE sampler, each trained with the other mol train "
            "options on the same split (train and validation parts; the test part is not "
            "used) and scored by the validation metric of --monitor/--mode. Trials whose "
            "metric after an epoch is poor are pruned (--pruner). A trial that fails is "
            "recorded with its error and the search goes on. Writes trials.csv, trials.png, "
            "hpopt.json and best_config.json to --out; mol train --config best_config.json "
            "trains with the best setting. --seed seeds the split, every trial and the sampler."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    search = parser.add_argument_group("search")
    search.add_argument("--trials", type=positive_int, default=20, help="settings to try")
    search.add_argument("--out", required=True, help="output folder")
    search.add_argument(
        "--search-space",
        metavar="FILE",
        help='JSON object of dimensions, replacing the default space, e.g. {"hidden": {"type": '
        '"int", "low": 100, "high": 600, "step": 100}, "dropout": {"type": "float", "low": 0, '
        '"high": 0.4}, "max_lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": true}, '
        '"aggregation": {"type": "categorical", "choices": ["norm", "sum"]}} (see README)',
    )
    search.add_argument(
        "--pruner",
        choices=PRUNERS,
        default="median",
        help="median: stop a trial worse than the median of earlier ones at the same epoch; "
        "asha: asynchronous successive halving; none",
    )
    ray = parser.add_argument_group("distributed (--engine ray, needs gnnkit[distributed])")
    ray.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="local: trials one after another in this process; ray: on Ray Tune",
    )
    ray.add_argument(
        "--ray-address",
        help="a running Ray cluster (e.g. auto, or ray://head:10001; default: $RAY_ADDRESS, "
        "else a Ray instance on this machine)",
    )
    ray.add_argument("--cpus-per-trial", type=float, default=1.0, help="CPUs each trial asks for")
    ray.add_argument("--gpus-per-trial", type=float, default=0.0, help="GPUs each trial asks for")
    ray.add_argument(
        "--max-concurrent-trials",
        type=positive_int,
        help="trials running at once (default: as many as the resources allow)",
    )
    _add_training_arguments(parser)
    set_handler(parser, run_hpopt)


def _add_model_input_arguments(
    parser: argparse.ArgumentParser,
    *,
    data_option: str = "--data",
    descriptor_file: bool = True,
    precision: bool = True,
) -> None:
    """Options shared by the commands that run a trained model on a molecule file (named by
    ``data_option``; ``descriptor_file``: offer ``--descriptors-file``; ``precision``: offer
    ``--precision``)."""
    parser.add_argument(
        "--model", required=True, help="a run folder (one model, an ensemble or folds)"
    )
    parser.add_argument(
        data_option, required=True, help="CSV/TSV/.smi/.sdf file of molecules (optionally .gz)"
    )
    parser.add_argument("--smiles-column", help="SMILES column (default: as in training)")
    parser.add_argument(
        "--smiles-columns",
        nargs="+",
        default=(),
        metavar="COLUMN",
        help="the SMILES columns of a model of several molecules per row, in training order "
        "(default: as in training)",
    )
    if descriptor_file:
        parser.add_argument(
            "--descriptors-file",
            help="descriptor CSV, one row per input row (if the model uses one)",
        )
    parser.add_argument(
        "--workers", type=non_negative_int, default=1, help="featurization processes"
    )
    parser.add_argument("--batch-size", type=positive_int, default=256)
    if not precision:
        return
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="fp32",
        help="int8: quantized linear layers on the CPU, faster, predictions within about 1 %% "
        "(refused on a GPU; see README)",
    )


def _add_allow_partial(parser: argparse.ArgumentParser) -> None:
    """``--allow-partial``: use a run whose training stopped before every model was trained."""
    parser.add_argument(
        "--allow-partial",
        action="store_true",
        help="use the trained models of a run whose training stopped before every fold or "
        "member was trained (refused otherwise)",
    )


def _model_input_options(args: argparse.Namespace) -> dict[str, Any]:
    """The values of :func:`_add_model_input_arguments`' and :func:`_add_allow_partial`'s
    options for a file of molecules (``--data``), as the workflows' keyword arguments."""
    options = {
        "smiles_column": args.smiles_column,
        "smiles_columns": args.smiles_columns,
        "descriptor_file": args.descriptors_file,
        "workers": args.workers,
        "batch_size": args.batch_size,
        "allow_partial": args.allow_partial,
    }
    if "precision" in args:
        options["precision"] = args.precision
    return options


def _add_predict(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "predict",
        help="predict new molecules with a trained model or ensemble",
        description=(
            "Predict every row of --data; the output keeps the input columns and adds one "
            "column per target, plus a <target>_std column when the model folder holds an "
            "ensemble (or cross-validation folds), a model trained with --loss mve or "
            "evidential, or with --mc-dropout (<target>_aleatoric_std and _epistemic_std where "
            "both parts exist), and <target>_lower and <target>_upper for a model trained with "
            "--calibration conformal or zscaling. Rows whose SMILES RDKit "
            "rejects get empty predictions and are listed in invalid_smiles.csv beside --out."
        ),
    )
    _add_model_input_arguments(parser)
    parser.add_argument("--out", required=True, help="output CSV")
    parser.add_argument(
        "--mc-dropout",
        type=non_negative_int,
        default=0,
        metavar="S",
        help="S stochastic passes per model with dropout on (needs a model trained with dropout)",
    )
    parser.add_argument(
        "--seed", type=non_negative_int, default=0, help="seed of the MC-dropout draws"
    )
    _add_allow_partial(parser)
    set_handler(parser, run_predict)


def _add_fingerprint(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "fingerprint",
        help="write learned molecule fingerprints (embeddings) of a trained model",
        description=(
            "One row per valid input row: the molecule vector after aggregation (--layer "
            "aggregate) or the output of the FFN's last hidden layer before its activation, "
            "as chemprop's encoding(i=-1) (--layer penultimate). A .csv gets "
            "row, smiles and fp_0.. columns; a .npy gets the matrix, with <name>.rows.csv beside "
            "it holding each row's input row and SMILES. Invalid rows go to invalid_smiles.csv."
        ),
    )
    _add_model_input_arguments(parser)
    parser.add_argument("--out", required=True, help="fp.npy or fp.csv")
    parser.add_argument("--layer", choices=FINGERPRINT_LAYERS, default="aggregate")
    parser.add_argument(
        "--member", type=non_negative_int, default=0, help="which model of an ensemble (0-based)"
    )
    _add_allow_partial(parser)
    set_handler(parser, run_fingerprint)


def _add_screen(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "screen",
        help="rank a molecule library (any size) by a trained model; keep the top K",
        description=(
            "Stream --library (.smi, .csv, .tsv, .sdf, optionally .gz; never read whole) through "
            "the model or ensemble and write the best --top molecules to --out: rank, row, smiles, "
            "the library's other columns, the predictions (with _std columns for an ensemble), "
            "and the Tanimoto similarity (Morgan, radius 2, 2048 bits) of each hit to its "
            "nearest training molecule. On a CPU, by default, one process per core each "
            "featurizes and predicts whole chunks (--predictors); with --predictors 1, or on a "
            "GPU, --workers featurization processes run beside the one that predicts (0: "
            "none). Rows whose SMILES RDKit rejects are "
            "counted and listed in <out stem>.invalid.csv. Ctrl-C writes the best molecules "
            "screened so far and exits with status 130; a library that cannot be read to its "
            "end (a truncated .gz, a line that is not UTF-8) writes them too, then exits with "
            "status 1 and an error naming the line."
        ),
    )
    defaults = ScreenConfig()
    _add_model_input_arguments(parser, data_option="--library", descriptor_file=False)
    parser.set_defaults(batch_size=None)  # by device: 64 on a CPU, 1024 on a GPU
    parser.add_argument("--out", required=True, help="hits CSV")
    parser.add_argument("--top", type=positive_int, default=defaults.top_k, metavar="K")
    parser.add_argument(
        "--target", help="prediction column to rank by (default: the first; multiclass: T_classC)"
    )
    parser.add_argument("--ascending", action="store_true", help="lower predictions rank first")
    parser.add_argument(
        "--rank-by",
        choices=RANK_BY,
        default="mean",
        help="rank by the prediction or a bound of its calibrated interval (a model trained "
        "with --calibration conformal or zscaling): lower is the cautious choice when higher "
        "is better, upper with --ascending",
    )
    parser.add_argument(
        "--max-train-similarity",
        type=float,
        metavar="S",
        help="leave out molecules more similar than S to the nearest training molecule",
    )
    parser.add_argument("--chunk-size", type=positive_int, default=defaults.chunk_size)
    _add_allow_partial(parser)
    parser.add_argument(
        "--predictors",
        type=positive_int,
        default=defaults.predictors,
        metavar="P",
        help="CPU processes that each featurize and predict whole chunks; P > 1 replaces "
        "--workers (default: one per CPU core this process may use, at most torch's thread "
        "count and the library's chunks; 1 on a GPU)",
    )
    parser.add_argument(
        "--device", help="cpu, cuda, cuda:1, … (default: cuda if available; cpu for int8)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    ray = parser.add_argument_group("distributed (--engine ray, needs gnnkit[distributed])")
    ray.add_argument("--engine", choices=ENGINES, default="local")
    ray.add_argument(
        "--ray-address",
        help="a running Ray cluster (e.g. auto, or ray://head:10001; default: $RAY_ADDRESS, "
        "else a Ray instance on this machine)",
    )
    ray.add_argument(
        "--ray-predictors",
        type=positive_int,
        help="model actors (default: one per GPU, else per CPU)",
    )
    ray.add_argument(
        "--ray-gpus", type=float, help="GPUs per model actor (default: 1 if the cluster has GPUs)"
    )
    set_handler(parser, run_screen)


def _add_explain(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "explain",
        help="attribute a trained model's predictions to the atoms of each molecule",
        description=(
            "Per-atom attributions of the prediction of every valid row of --data, written to "
            "--out/attributions.csv (row, smiles, atom, symbol, attribution; one line per "
            "atom), and for the first --max-images molecules a picture, --out/images/"
            "row_<row>.png, with the atoms coloured by attribution (green raises the "
            "prediction, pink lowers it). Attributed: the atom features, by Captum; the bond "
            "features and descriptors are held fixed. Regression explains the predicted value, "
            "classification the predicted probability, an ensemble its mean. Rows whose SMILES "
            "RDKit rejects are listed in --out/invalid_smiles.csv."
        ),
    )
    _add_model_input_arguments(parser, precision=False)
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument(
        "--method",
        choices=ATTRIBUTION_METHODS,
        default="integrated-gradients",
        help="integrated-gradients: from all-zero atom features, the attributions of a "
        "molecule add up to its prediction minus the baseline's; saliency: |gradient|; "
        "occlusion: the prediction lost when an atom's features are zeroed",
    )
    parser.add_argument(
        "--target",
        help="prediction column to explain (default: the first; multiclass: T_classC, the "
        "probability of class C)",
    )
    parser.add_argument(
        "--max-images",
        type=non_negative_int,
        default=50,
        metavar="N",
        help="pictures of the first N valid molecules",
    )
    _add_allow_partial(parser)
    set_handler(parser, run_explain)


def config_from_args(args: argparse.Namespace) -> MoleculeTrainConfig:
    return MoleculeTrainConfig(
        data=args.data,
        smiles_column=args.smiles_column,
        target_columns=args.target_columns,
        weight_column=args.weight_column,
        deduplicate=args.deduplicate,
        task=args.task,
        split=args.split,
        sizes=tuple(args.split_sizes),
        splits_file=args.splits_file,
        folds=args.folds,
        model=args.model,
        conformer_seed=args.conformer_seed,
        hidden_channels=args.hidden,
        depth=args.depth,
        dropout=args.dropout,
        aggregation=args.aggregation,
        ffn_hidden_channels=args.ffn_hidden,
        ffn_layers=args.ffn_layers,
        descriptors=args.descriptors,
        descriptor_file=args.descriptors_file,
        atom_features=args.atom_features,
        smiles_columns=args.smiles_columns,
        shared_encoder=args.shared_encoder,
        workers=args.workers,
        ensemble=args.ensemble,
        init_from=args.init_from,
        freeze_encoder=args.freeze_encoder,
        freeze_ffn_layers=args.freeze_ffn_layers,
        calibration=args.calibration,
        alpha=args.alpha,
        train=config_from_arguments(
            args,
            task=TASKS[args.task],
            task_names=None,
            n_classes=None,
            class_names=None,
            id_key="smiles",
            warmup_epochs=min(args.warmup_epochs, args.epochs),
        ),
    )


def run_train(args: argparse.Namespace) -> int:
    from gnnkit.workflows.molecules.train import train_molecules

    metrics = train_molecules(config_from_args(args), args.out)
    test = {k: v for k, v in metrics["test"].items() if k not in ("per_task",)}
    print(f"test metrics: {json.dumps(test)}")
    print(f"artefacts in {Path(args.out).resolve()}")
    return 0


def run_hpopt(args: argparse.Namespace) -> int:
    from gnnkit.workflows.hpopt import HpoptConfig, read_space, search

    hpopt = HpoptConfig(
        trials=args.trials,
        pruner=args.pruner,
        seed=args.seed,
        engine=args.engine,
        ray_address=args.ray_address,
        cpus_per_trial=args.cpus_per_trial,
        gpus_per_trial=args.gpus_per_trial,
        max_concurrent_trials=args.max_concurrent_trials,
    )
    if args.search_space:
        hpopt.space = read_space(args.search_space)
    best, trials = search(config_from_args(args), hpopt, args.out, training_options(args))
    out = Path(args.out).resolve()
    if best is None:
        raise ValueError(f"none of the {len(trials)} trials completed; see {out / 'trials.csv'}")
    print(f"best trial {best.number}: validation {best.value:.4f} with {json.dumps(best.params)}")
    print(f"train it: gnnkit mol train --config {out / 'best_config.json'} --out RUN")
    return 0


def run_predict(args: argparse.Namespace) -> int:
    from gnnkit.workflows.molecules.predict import predict_molecules

    frame = predict_molecules(
        args.model,
        args.data,
        args.out,
        mc_dropout=args.mc_dropout,
        seed=args.seed,
        **_model_input_options(args),
    )
    print(f"wrote {len(frame)} rows to {args.out}", file=sys.stderr)
    return 0


def run_fingerprint(args: argparse.Namespace) -> int:
    from gnnkit.workflows.molecules.predict import fingerprint_molecules

    frame = fingerprint_molecules(
        args.model,
        args.data,
        args.out,
        layer=args.layer,
        member=args.member,
        **_model_input_options(args),
    )
    width = frame.shape[1] - 2
    print(f"wrote {len(frame)} fingerprints of {width} values to {args.out}", file=sys.stderr)
    return 0


def run_screen(args: argparse.Namespace) -> int:
    from gnnkit.workflows.screen.run import screen_library

    config = ScreenConfig(
        top_k=args.top,
        target=args.target,
        ascending=args.ascending,
        rank_by=args.rank_by,
        max_train_similarity=args.max_train_similarity,
        smiles_column=args.smiles_column,
        smiles_columns=tuple(args.smiles_columns),
        chunk_size=args.chunk_size,
        workers=args.workers,
        predictors=args.predictors,
        batch_size=args.batch_size,
        device=args.device,
        precision=args.precision,
        engine=args.engine,
        ray_address=args.ray_address,
        ray_predictors=args.ray_predictors,
        ray_gpus=args.ray_gpus,
        progress=not args.no_progress,
        allow_partial=args.allow_partial,
    )
    result = screen_library(args.model, args.library, args.out, config)
    return 130 if result.interrupted else 0


def run_explain(args: argparse.Namespace) -> int:
    from gnnkit.workflows.molecules.explain import explain_molecules

    frame = explain_molecules(
        args.model,
        args.data,
        args.out,
        method=args.method,
        target=args.target,
        max_images=args.max_images,
        **_model_input_options(args),
    )
    molecules = frame["row"].nunique()
    print(
        f"wrote attributions of {len(frame)} atoms of {molecules} molecules to {args.out}",
        file=sys.stderr,
    )
    return 0
