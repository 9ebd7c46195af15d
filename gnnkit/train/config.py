"""Every setting of a training run, as one plain record, and its command-line options.

Pure Python: the command line builds its options from here without importing torch (the
metrics that :meth:`TrainConfig.validate` checks names against are imported when it runs)."""

from __future__ import annotations

import argparse
import types
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from gnnkit.choices import REGRESSION_LOSSES, TASK_KINDS, RegressionLoss, TaskKind

PROGRESS_MODES: tuple[str, ...] = ("auto", "bar", "lines", "none")
DEFAULT_MONITOR = {"regression": "rmse", "binary": "roc_auc", "multiclass": "accuracy"}
#: Settings that may change when a run is resumed: where and how it runs, not what it computes.
RESUMABLE_CHANGES = frozenset(
    {"resume", "progress", "num_workers", "accelerator", "devices", "num_nodes", "strategy"}
)
#: The least value of each integer setting (``patience`` may also be ``None``), checked by
#: :meth:`TrainConfig.validate` and, for options, when the command line is parsed.
INT_MINIMUMS = {"epochs": 1, "batch_size": 1, "num_nodes": 1, "patience": 1, "num_workers": 0}


@dataclass(slots=True)
class TrainConfig:
    r"""Settings of :func:`gnnkit.train.fit`.

    Task:
        task: ``"regression"``, ``"binary"`` or ``"multiclass"``.
        task_names: one name per target column (default ``task0, task1, …``).
        n_classes: classes of a multiclass task (default: largest label in the data + 1).
        class_names: the text label of each class of a multiclass task, in class order (the
            targets hold class indices); stored with the model, and predictions name the
            classes by them.
        class_balance: weight the classes of each task so that they count equally in the loss
            (see :func:`~gnnkit.train.tasks.balanced_class_weights`).
        loss: regression loss: ``"mse"``, or ``"mve"`` / ``"evidential"`` for a head that also
            predicts a variance (see :mod:`gnnkit.train.losses`).
        evidential_lambda: weight :math:`\lambda` of the evidential regulariser.
    Optimisation (chemprop's defaults):
        epochs, batch_size: the most epochs to run and graphs per batch (per process under DDP).
        warmup_epochs, init_lr, max_lr, final_lr: Adam's rate climbs linearly from ``init_lr``
            to ``max_lr`` over ``warmup_epochs``, then decays exponentially to ``final_lr`` at
            the last epoch (per step; see :mod:`gnnkit.train.schedule`).
        grad_clip: clip the gradients' global 2-norm to this value (``None``: no clipping).
    Model selection:
        monitor: validation metric for early stopping and the best checkpoint (``"loss"`` or a
            metric of the task kind; default ``rmse``, ``roc_auc`` or ``accuracy``).
        mode: ``"min"`` or ``"max"`` (default: ``min`` for loss/rmse/mae, else ``max``).
        patience: epochs without improvement before stopping (``None``: never stop early).
    Reproducibility and faults:
        seed: seeds the data order, dropout and everything else random in training (seed
            before building the model to fix its initial weights too).
        deterministic: ask torch for deterministic algorithms; ``None`` (the default) decides
            by device: on for the CPU, off on accelerators (see :func:`resolve_deterministic`).
        resume: continue the run in the output folder from its ``checkpoints/last.ckpt``.
    Hardware (Lightning's ``Trainer`` arguments):
        accelerator, devices, num_nodes, strategy: e.g. ``"cpu"``, ``2``, ``1``, ``"ddp"``.
        num_workers: data-loading worker processes.
    Output:
        id_key: graph attribute identifying each graph in the predictions CSV (default: the
            first of ``id``, ``smiles``, ``name`` that every graph has, else the row number).
        progress: ``"bar"``, ``"lines"`` (one line per epoch), ``"none"``, or ``"auto"``: a bar
            on an interactive terminal, lines otherwise.
    """

    task: TaskKind = "regression"
    task_names: list[str] | None = None
    n_classes: int | None = None
    class_names: list[str] | None = None
    class_balance: bool = False
    loss: RegressionLoss = "mse"
    evidential_lambda: float = 0.2
    epochs: int = 50
    batch_size: int = 64
    warmup_epochs: float = 2.0
    init_lr: float = 1e-4
    max_lr: float = 1e-3
    final_lr: float = 1e-4
    grad_clip: float | None = None
    monitor: str | None = None
    mode: Literal["min", "max"] | None = None
    patience: int | None = 10
    seed: int = 0
    deterministic: bool | None = None
    resume: bool = False
    accelerator: str = "auto"
    devices: int | str = 1
    num_nodes: int = 1
    strategy: str = "auto"
    num_workers: int = 0
    id_key: str | None = None
    progress: Literal["auto", "bar", "lines", "none"] = "auto"

    def validate(self) -> None:
        """Raise ``ValueError`` on an inconsistent setting, naming the valid choices."""
        from gnnkit.train.metrics import metric_names

        if self.task not in TASK_KINDS:
            raise ValueError(f"unknown task {self.task!r}; expected one of {', '.join(TASK_KINDS)}")
        for name, minimum in INT_MINIMUMS.items():
            value = getattr(self, name)
            if value is not None and value < minimum:
                raise ValueError(f"{name} must be at least {minimum}, got {value}")
        if not 0 <= self.seed < 2**32:
            raise ValueError(f"seed must lie in [0, 2**32), got {self.seed}")
        if not 0 <= self.warmup_epochs <= self.epochs:
            raise ValueError(f"warmup_epochs must lie in [0, epochs], got {self.warmup_epochs}")
        if min(self.init_lr, self.max_lr, self.final_lr) <= 0:
            raise ValueError("init_lr, max_lr and final_lr must be positive")
        if self.grad_clip is not None and self.grad_clip <= 0:
            raise ValueError(f"grad_clip must be positive or None, got {self.grad_clip}")
        if self.class_balance and self.task == "regression":
            raise ValueError("class_balance applies to binary and multiclass tasks")
        if self.loss not in REGRESSION_LOSSES:
            raise ValueError(
                f"loss must be one of {', '.join(REGRESSION_LOSSES)}, got {self.loss!r}"
            )
        if self.loss != "mse" and self.task != "regression":
            raise ValueError(
                f"loss {self.loss!r} predicts a variance for regression tasks; a {self.task} "
                "task trains with cross-entropy (drop --loss)"
            )
        if not self.evidential_lambda >= 0:
            raise ValueError(f"evidential_lambda must be >= 0, got {self.evidential_lambda}")
        if self.n_classes is not None and (self.task != "multiclass" or self.n_classes < 2):
            raise ValueError("n_classes is set only for multiclass tasks, and to at least 2")
        if self.class_names is not None:
            if self.task != "multiclass" or len(set(self.class_names)) < 2:
                raise ValueError("class_names is set only for multiclass tasks, to 2 or more names")
            if self.n_classes is not None and self.n_classes != len(self.class_names):
                raise ValueError(
                    f"n_classes={self.n_classes} but {len(self.class_names)} class_names given"
                )
        valid = ("loss", *metric_names(self.task))
        if self.monitor_name not in valid:
            raise ValueError(
                f"unknown monitor metric {self.monitor!r} for a {self.task} task; valid names: "
                f"{', '.join(valid)}"
            )
        if self.mode not in (None, "min", "max"):
            raise ValueError(f"mode must be 'min', 'max' or None, got {self.mode!r}")
        if self.progress not in PROGRESS_MODES:
            raise ValueError(
                f"progress must be one of {', '.join(PROGRESS_MODES)}, got {self.progress!r}"
            )

    @property
    def monitor_name(self) -> str:
        """The monitored validation metric, without the ``val_`` prefix."""
        name = self.monitor or DEFAULT_MONITOR[self.task]
        return name.removeprefix("val_")

    @property
    def monitor_mode(self) -> Literal["min", "max"]:
        from gnnkit.train.metrics import metric_mode

        return self.mode or metric_mode(self.monitor_name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def resume_conflicts(self, saved: dict[str, Any]) -> list[str]:
        """Settings that differ from ``saved`` (a run's :meth:`to_dict`) and may not change on
        resume; ``deterministic`` counts as resolved on this run's accelerator
        (:func:`resolve_deterministic`)."""
        # `deterministic` is compared as it resolves on this run's device: None (by device)
        # equals the True or False it stands for here.
        saved = {
            **saved,
            "deterministic": resolve_deterministic(saved.get("deterministic"), self.accelerator),
        }
        current = {
            **self.to_dict(),
            "deterministic": resolve_deterministic(self.deterministic, self.accelerator),
        }
        return setting_changes(saved, current, RESUMABLE_CHANGES)


def accelerator_type(accelerator: str) -> str:
    """The device type Lightning's ``Trainer(accelerator=...)`` runs on: ``"cpu"``, ``"cuda"``
    (also for ``"gpu"``), ``"mps"``, …; ``"auto"`` picks CUDA, then MPS, when present."""
    if accelerator == "auto":
        import torch  # only here: the command line reads these settings without torch

        if torch.cuda.is_available():
            return "cuda"
        return "mps" if torch.backends.mps.is_available() else "cpu"
    return "cuda" if accelerator == "gpu" else accelerator


def resolve_deterministic(deterministic: bool | None, accelerator: str) -> bool:
    """Whether a run asks torch for deterministic algorithms.

    ``True`` or ``False`` stand as given. ``None`` decides by device: on for the CPU, where
    the deterministic kernels cost nothing, so a seed fixes the result; off on CUDA and other
    accelerators, where deterministic versions of scatter-add and ``index_add_`` (every
    message-passing layer's aggregation) serialise the atomic adds and cost throughput, and
    results then vary in the last bits from run to run.
    """
    if deterministic is not None:
        return deterministic
    return accelerator_type(accelerator) == "cpu"


def setting_changes(
    saved: dict[str, Any], current: dict[str, Any], resumable: Collection[str]
) -> list[str]:
    """``"name: saved -> current"`` for every setting of ``current`` outside ``resumable``
    whose value differs from ``saved``."""
    return [
        f"{name}: {saved.get(name)!r} -> {value!r}"
        for name, value in current.items()
        if name not in resumable and saved.get(name) != value
    ]


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse ``type`` that reads an integer of at least ``minimum`` (argparse reports
    anything else as a one-line usage error)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


#: argparse ``type`` of widths and counts (``--hidden``, ``--epochs``, ``--folds``, …).
positive_int = int_at_least(1)
#: argparse ``type`` of counts that may be 0 and of seeds and 0-based indices.
non_negative_int = int_at_least(0)


def _int_or_str(text: str) -> int | str:
    return int(text) if text.lstrip("-").isdigit() else text


def _argument_options(annotation: Any) -> dict[str, Any]:
    """``add_argument`` options for a :class:`TrainConfig` field's type."""
    if get_origin(annotation) in (types.UnionType, Union):
        options = [a for a in get_args(annotation) if a is not type(None)]
        if options == [int, str]:
            return {"type": _int_or_str}
        (annotation,) = options
    if annotation is bool:
        return {"action": argparse.BooleanOptionalAction}
    if get_origin(annotation) is Literal:
        return {"choices": get_args(annotation)}
    if get_origin(annotation) is list:
        return {"nargs": "+"}
    return {"type": annotation}


def add_config_arguments(
    parser: argparse.ArgumentParser,
    *,
    exclude: tuple[str, ...] = (),
    defaults: dict[str, Any] | None = None,
) -> None:
    """Add one option per :class:`TrainConfig` field to ``parser``: ``--max-lr 1e-3``,
    ``--devices 2``, ``--resume``/``--no-resume``, ``--task-names a b``, …

    ``exclude`` leaves fields out (a command that sets them itself); ``defaults`` replaces
    field defaults (e.g. ``{"patience": None}``)."""
    group = parser.add_argument_group("training (gnnkit.train.TrainConfig)")
    hints = get_type_hints(TrainConfig)
    defaults = defaults or {}
    for field in fields(TrainConfig):
        if field.name in exclude:
            continue
        options = _argument_options(hints[field.name])
        if field.name in INT_MINIMUMS:
            options["type"] = int_at_least(INT_MINIMUMS[field.name])
        group.add_argument(
            f"--{field.name.replace('_', '-')}",
            default=defaults.get(field.name, field.default),
            help="default: %(default)s",
            **options,
        )


def config_from_arguments(arguments: argparse.Namespace, **fixed: Any) -> TrainConfig:
    """The :class:`TrainConfig` of arguments parsed with :func:`add_config_arguments`; ``fixed``
    gives the fields it excluded."""
    values = {
        field.name: getattr(arguments, field.name)
        for field in fields(TrainConfig)
        if field.name not in fixed
    }
    return TrainConfig(**values, **fixed)
