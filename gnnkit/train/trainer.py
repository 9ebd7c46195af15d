"""Train any gnnkit model on graph-level regression or classification: :func:`fit`.

Usage::

    import lightning
    from gnnkit.models import build_model
    from gnnkit.train import TrainConfig, fit, load_model

    lightning.seed_everything(0)                 # the model's initial weights
    model = build_model("gin", {"in_channels": 9, "out_channels": 2})
    config = TrainConfig(task="regression", epochs=50, seed=0)
    result = fit(model, train_graphs, val_graphs, test_graphs, config, "runs/solubility")
    print(result.metrics["test"]["rmse"])

    trained = load_model("runs/solubility/model.pt")   # no user code needed
    preds = trained.predict(new_graphs)                # [B, T], un-scaled

Graphs are ``torch_geometric.data.Data`` with ``y`` ``[1, T]`` (NaN = missing label), an
optional ``weight`` and an optional identifier (see :mod:`gnnkit.train.data`).

A training script takes every setting as a command-line option (``--epochs``, ``--max-lr``,
``--resume``, ``--accelerator``, ``--devices``, ``--num-nodes``, ``--strategy``, …)::

    # train.py
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    add_config_arguments(parser)
    arguments = parser.parse_args()
    ...  # seed, build the model and the splits
    fit(model, train_graphs, val_graphs, test_graphs, config_from_arguments(arguments),
        arguments.out)

Output folder
-------------
``metrics.json``
    ``{"task", "tasks", "monitor", "best_epoch", "splits": {"train", "val", "test"},
    "train", "val", "test", "epochs", "train_seconds", "train_samples_per_second", "seed"}``;
    each split holds the metrics averaged over tasks and ``"per_task"``; undefined metrics are
    ``null``. The splits are scored with the best validation checkpoint.
``model.pt``
    gnnkit's checkpoint (:mod:`gnnkit.train.checkpoint`): rebuilds the model with
    :func:`~gnnkit.train.checkpoint.load_model`, loads with ``torch.load(weights_only=True)``.
``test_predictions.csv``
    identifiers, targets and predictions of the test split.
``epochs.csv``
    one row per epoch: learning rate, losses, validation metrics, training seconds.
``learning_curve.png``, ``parity.png`` (regression) or ``roc.png`` (classification), and
    ``reliability.png`` (:func:`~gnnkit.train.artefacts.plot_reliability`; regression: only
    for a head that predicts a variance).
``config.json``
    the :class:`~gnnkit.train.config.TrainConfig` of the run.
``checkpoints/last.ckpt``, ``checkpoints/best.ckpt``
    Lightning's training state, for ``resume=True`` (read with ``weights_only=True``).

Resuming
--------
A run that stops early (killed, pre-empted, out of time) continues from
``checkpoints/last.ckpt`` with the same arguments and ``TrainConfig(resume=True)`` (``--resume``)
and ends where an uninterrupted run would: the data order depends only on the seed and the
epoch, dropout only on the seed, the process's rank and the step (seeded for the model's forward
pass only, so callbacks find torch's random state untouched), and the optimiser, learning-rate
schedule, early stopping, best checkpoint and epoch log are restored. Settings that change
results may not differ on resume (:meth:`~gnnkit.train.config.TrainConfig.resume_conflicts`).
Bit for bit where torch's deterministic algorithms are on (``deterministic``; by default on the
CPU and off on CUDA, where the aggregations' atomic adds vary in the last bits from run to run).

Several devices and nodes
-------------------------
Training uses Lightning's DDP: each of ``W`` processes trains on its shard of every step's
graphs and gradients are averaged, so ``batch_size=b`` per process takes the steps one process
takes with ``W·b``; validation metrics are gathered over processes. Only the process of global
rank 0 writes files. On one machine, Lightning starts the processes itself::

    python train.py runs/x --accelerator gpu --devices 4 --strategy ddp   # 4 GPUs
    python train.py runs/x --accelerator cpu --devices 2 --strategy ddp   # 2 CPU processes, gloo

The script calling :func:`fit` is then run again in each extra process, so it must be a file
(not a notebook) and must build the same model and data in every process (seed before building
the model). On a cluster, start one process per device yourself and give the same
``devices``/``num_nodes``/``strategy="ddp"``; Lightning reads the rank from the environment.

With ``torchrun`` (on every node; here 2 nodes with 4 GPUs each)::

    torchrun --nnodes 2 --nproc-per-node 4 --rdzv-backend c10d \\
        --rdzv-endpoint HEAD_NODE:29500 train.py runs/x --devices 4 --num-nodes 2 --strategy ddp

With SLURM (``--ntasks-per-node`` must equal ``devices``; a pre-empted job that SLURM
requeues continues from its last checkpoint)::

    #!/bin/bash
    #SBATCH --nodes=2
    #SBATCH --ntasks-per-node=4
    #SBATCH --gres=gpu:4
    #SBATCH --requeue
    RESUME=$([ "${SLURM_RESTART_COUNT:-0}" -gt 0 ] && echo --resume)
    srun python train.py runs/x --devices 4 --num-nodes 2 --strategy ddp $RESUME
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from torch import nn
from torch_geometric.data import Batch, Data

from gnnkit.models import model_spec
from gnnkit.train.artefacts import (
    plot_learning_curve,
    plot_parity,
    plot_reliability,
    plot_roc,
    predictions_frame,
    write_json,
)
from gnnkit.train.checkpoint import read_safely, save_checkpoint
from gnnkit.train.config import TrainConfig, resolve_deterministic
from gnnkit.train.data import GraphDataModule, check_split, find_id_key, graph_ids, stack_targets
from gnnkit.train.epoch_log import EpochLog
from gnnkit.train.module import CONFIG_KEY, GraphTaskModule
from gnnkit.train.predict import EnsemblePrediction, TrainedModel
from gnnkit.train.scaling import TargetScaler
from gnnkit.train.tasks import Task, balanced_class_weights

#: Artefacts of a run: name in :attr:`TrainResult.files` → file in the output folder.
FILES = {
    "metrics": "metrics.json",
    "model": "model.pt",
    "predictions": "test_predictions.csv",
    "epochs": "epochs.csv",
    "config": "config.json",
    "learning_curve": "learning_curve.png",
    "parity": "parity.png",
    "roc": "roc.png",
    "reliability": "reliability.png",
}
CHECKPOINT_DIR = "checkpoints"
LAST_CHECKPOINT = "last.ckpt"
BEST_CHECKPOINT = "best.ckpt"
QUIET_LOGGERS = ("lightning.pytorch", "lightning.fabric")


@dataclass(slots=True)
class TrainResult:
    """What :func:`fit` returns (on every process under DDP).

    Attributes:
        metrics: the content of ``metrics.json``.
        trained: the model with its best validation weights, ready to predict.
        out_dir: the output folder.
        files: artefact name → path (``metrics``, ``model``, ``predictions``, ``epochs``,
            ``config``, ``learning_curve``, ``parity`` or ``roc``, and ``reliability`` when
            drawn).
    """

    metrics: dict[str, Any]
    trained: TrainedModel
    out_dir: Path
    files: dict[str, Path]


def make_task(config: TrainConfig, splits: dict[str, Sequence[Data]]) -> Task:
    """The task of ``config`` for these splits, after checking every split's targets."""
    counts = {name: check_split(graphs, name) for name, graphs in splits.items()}
    if len(set(counts.values())) != 1:
        raise ValueError(f"the splits have different numbers of targets: {counts}")
    targets = {name: stack_targets(graphs) for name, graphs in splits.items()}
    n_classes = config.n_classes or 2
    if config.task == "multiclass" and config.n_classes is None:
        labels = torch.cat([y[~torch.isnan(y)] for y in targets.values()])
        n_classes = max(int(labels.max().item()) + 1, 2) if labels.numel() else 2
    task = Task.create(
        config.task,
        counts["train"],
        config.task_names,
        n_classes,
        config.class_names,
        regression_loss=config.loss,
        evidential_lambda=config.evidential_lambda,
    )
    for name, y in targets.items():
        task.check_targets(y, f"the {name} split")
    return task


def check_model_output(model: nn.Module, graphs: Sequence[Data], task: Task) -> None:
    """Run ``model`` on two graphs and check it returns ``[2, task.n_outputs]``."""
    batch = Batch.from_data_list(list(graphs[:2]))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        output = model(batch)
    model.train(was_training)
    expected = [batch.num_graphs, task.n_outputs]
    if not isinstance(output, torch.Tensor) or list(output.shape) != expected:
        shape = list(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
        classes = f" × {task.n_classes} classes" if task.kind == "multiclass" else ""
        raise ValueError(
            f"the model maps a batch of {batch.num_graphs} graphs to {shape}; this {task.kind} "
            f"task ({task.n_tasks} tasks{classes}) needs {expected}: build the model with "
            f"{task.n_outputs} outputs"
        )


def holds_checkpoints(folder: Path) -> bool:
    """Whether ``folder`` holds a run: its ``checkpoints/`` folder is not empty."""
    checkpoint_dir = folder / CHECKPOINT_DIR
    return checkpoint_dir.is_dir() and any(checkpoint_dir.iterdir())


def run_exists_error(out_dir: Path, folder: Path) -> FileExistsError:
    """The refusal of a fresh run in ``out_dir``, where ``folder`` holds a run's checkpoints."""
    return FileExistsError(
        f"{out_dir} already holds a run ({folder / CHECKPOINT_DIR} is not empty); pass "
        "resume=True (--resume) to continue it, or choose another output folder"
    )


def resume_checkpoint(config: TrainConfig, out_dir: Path) -> Path | None:
    """The checkpoint to resume from (``None`` for a fresh run), after checking that a fresh
    run does not overwrite another and that a resumed one keeps its settings."""
    last = out_dir / CHECKPOINT_DIR / LAST_CHECKPOINT
    if not config.resume:
        if holds_checkpoints(out_dir):
            raise run_exists_error(out_dir, out_dir)
        return None
    if not last.is_file():
        raise FileNotFoundError(
            f"resume=True but {last} does not exist; start the run without resume"
        )
    saved = read_safely(last).get(CONFIG_KEY, {})
    conflicts = config.resume_conflicts(saved)
    if conflicts:
        raise ValueError(f"cannot resume {out_dir} with different settings: {'; '.join(conflicts)}")
    return last


def progress_outputs(mode: str, stream: TextIO | None = None) -> tuple[bool, TextIO | None]:
    """``(progress bar on, stream for one line per epoch)`` for a ``TrainConfig.progress``
    mode; ``"auto"`` shows the bar when ``stream`` (default ``sys.stderr``) is a terminal."""
    stream = stream if stream is not None else sys.stderr
    if mode == "auto":
        mode = "bar" if stream.isatty() else "lines"
    return mode == "bar", stream if mode == "lines" else None


@contextlib.contextmanager
def lightning_scope() -> Iterator[None]:
    """Silence Lightning's start-up notices and restore torch's determinism flag afterwards
    (``Trainer(deterministic=True)`` sets it for the whole process)."""
    deterministic = torch.are_deterministic_algorithms_enabled()
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*does not have many workers.*")
            warnings.filterwarnings("ignore", message=".*number of training batches.*")
            warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
            warnings.filterwarnings("ignore", message="Checkpoint directory .* is not empty")
            yield
    finally:
        torch.use_deterministic_algorithms(deterministic)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def build_trainer(
    config: TrainConfig, out_dir: Path, callbacks: Sequence[L.Callback] = ()
) -> tuple[L.Trainer, EpochLog, ModelCheckpoint]:
    """Lightning's ``Trainer`` for ``config``, with the epoch log, the best-validation
    checkpoint, a last checkpoint saved every epoch and early stopping."""
    show_bar, echo = progress_outputs(config.progress)
    monitor = f"val_{config.monitor_name}"
    epoch_log = EpochLog(out_dir / FILES["epochs"], config.monitor_name, echo)
    best = ModelCheckpoint(
        dirpath=out_dir / CHECKPOINT_DIR,
        filename=BEST_CHECKPOINT.removesuffix(".ckpt"),
        monitor=monitor,
        mode=config.monitor_mode,
        enable_version_counter=False,
    )
    # Saved after `best` every epoch, so it holds `best`'s updated state (Lightning's own
    # save_last only saves when the monitored metric improved).
    last = ModelCheckpoint(
        dirpath=out_dir / CHECKPOINT_DIR,
        filename=LAST_CHECKPOINT.removesuffix(".ckpt"),
        enable_version_counter=False,
    )
    stopping: list[L.Callback] = []
    if config.patience is not None:
        stopping.append(
            EarlyStopping(
                monitor, patience=config.patience, mode=config.monitor_mode, check_finite=False
            )
        )
    trainer = L.Trainer(
        max_epochs=config.epochs,
        accelerator=config.accelerator,
        devices=config.devices,
        num_nodes=config.num_nodes,
        strategy=config.strategy,
        deterministic=resolve_deterministic(config.deterministic, config.accelerator),
        gradient_clip_val=config.grad_clip,
        callbacks=[epoch_log, *stopping, best, last, *callbacks],
        logger=False,
        enable_progress_bar=show_bar,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        use_distributed_sampler=False,
        default_root_dir=out_dir,
    )
    return trainer, epoch_log, best


def fit(
    model: nn.Module,
    train: Sequence[Data],
    val: Sequence[Data],
    test: Sequence[Data],
    config: TrainConfig | None = None,
    out_dir: str | os.PathLike = "runs/train",
    *,
    featurizer: dict[str, Any] | None = None,
    callbacks: Sequence[L.Callback] = (),
    extra_metrics: dict[str, Any] | None = None,
) -> TrainResult:
    """Train ``model`` on ``train``, select it on ``val``, score it on every split and write the
    run's artefacts to ``out_dir`` (see the module docstring).

    Args:
        model: built by :func:`gnnkit.models.build_model`; maps a PyG ``Batch`` to
            ``[num_graphs, n_outputs]`` with ``n_outputs`` = tasks (× classes for multiclass).
        train, val, test: the splits (lists of ``Data``; see :mod:`gnnkit.train.data`).
        config: the run's settings (default :class:`TrainConfig`).
        out_dir: output folder; must not hold another run unless ``config.resume``.
        featurizer: settings that made the graphs (plain data), stored in ``model.pt``.
        callbacks: extra Lightning callbacks.
        extra_metrics: plain data added to ``metrics.json`` (e.g. where the initial weights
            came from).

    Returns:
        A :class:`TrainResult` holding the best validation model.
    """
    config = config if config is not None else TrainConfig()
    config.validate()
    out_dir = Path(out_dir)
    splits = {"train": train, "val": val, "test": test}
    task = make_task(config, splits)
    model_spec(model)  # fails now, not after training, if a checkpoint could not rebuild it
    check_model_output(model, train, task)
    ckpt_path = resume_checkpoint(config, out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    train_targets = stack_targets(train)
    scaler = TargetScaler.fit(train_targets) if task.kind == "regression" else None
    class_weight = balanced_class_weights(task, train_targets) if config.class_balance else None

    L.seed_everything(config.seed, workers=True, verbose=False)
    module = GraphTaskModule(model, task, config, scaler, class_weight)
    data = GraphDataModule(
        train, val, batch_size=config.batch_size, seed=config.seed, num_workers=config.num_workers
    )
    with lightning_scope():
        trainer, epoch_log, best = build_trainer(config, out_dir, callbacks)
        trainer.fit(module, datamodule=data, ckpt_path=ckpt_path, weights_only=True)

    best_state = read_safely(best.best_model_path)
    module.load_state_dict(best_state["state_dict"])
    trained = TrainedModel(model, task, scaler, featurizer)
    device = trainer.strategy.root_device
    evaluations = {
        name: trained.evaluate(graphs, batch_size=config.batch_size, device=device)
        for name, graphs in splits.items()
    }
    trained.to("cpu")
    epochs, seconds = len(epoch_log.rows), epoch_log.train_seconds
    metrics = {
        "task": task.kind,
        "tasks": list(task.names),
        **({"class_names": list(task.class_names)} if task.class_names else {}),
        "monitor": best.monitor,
        "best_epoch": int(best_state["epoch"]) + 1,
        "splits": {name: len(graphs) for name, graphs in splits.items()},
        **{name: report for name, (_, report) in evaluations.items()},
        "epochs": epochs,
        "train_seconds": seconds,
        "train_samples_per_second": len(train) * epochs / seconds if seconds > 0 else None,
        "seed": config.seed,
        **(extra_metrics or {}),
    }
    absent = {"roc" if task.kind == "regression" else "parity"}
    if task.kind == "regression" and evaluations["test"][0].std is None:
        absent.add("reliability")
    files = {key: out_dir / name for key, name in FILES.items() if key not in absent}
    if trainer.is_global_zero:
        write_run(files, trained, metrics, config, epoch_log.rows, test, evaluations["test"][0])
    return TrainResult(metrics, trained, out_dir, files)


def write_run(
    files: dict[str, Path],
    trained: TrainedModel,
    metrics: dict[str, Any],
    config: TrainConfig,
    epoch_rows: Sequence[dict[str, float]],
    test: Sequence[Data],
    test_prediction: EnsemblePrediction,
) -> None:
    """Write a finished run's artefacts (``files`` as in :attr:`TrainResult.files`)."""
    write_json(files["metrics"], metrics)
    write_json(files["config"], config.to_dict())
    save_checkpoint(trained, files["model"])
    plot_learning_curve(files["learning_curve"], epoch_rows, config.monitor_name)
    write_test_artefacts(
        files["metrics"].parent, trained.task, test, test_prediction, config.id_key
    )


def write_test_artefacts(
    out_dir: Path,
    task: Task,
    test: Sequence[Data],
    prediction: EnsemblePrediction,
    id_key: str | None,
) -> None:
    """The test split's predictions CSV (with every uncertainty part of ``prediction``), its
    parity (regression) or ROC plot, and its reliability diagram, into ``out_dir``."""
    files = {key: out_dir / name for key, name in FILES.items()}
    target = stack_targets(test)
    ids = graph_ids(test, find_id_key(test, id_key))
    extra = {part: getattr(prediction, part) for part in prediction.parts if part != "std"}
    frame = predictions_frame(task, ids, prediction.mean, target, prediction.std, extra)
    frame.to_csv(files["predictions"], index=False)
    if task.kind == "regression":
        plot_parity(files["parity"], task, prediction.mean, target)
    else:
        plot_roc(files["roc"], task, prediction.mean, target)
    files["reliability"].unlink(missing_ok=True)
    plot_reliability(files["reliability"], task, prediction, target)
