r"""Task kinds, their masked and weighted losses, and per-task class balancing.

Every task kind reads targets ``y`` ``[B, T]`` (``T`` tasks; ``NaN`` marks a missing label) and
model outputs ``[B, T]`` (regression, binary) or ``[B, T·C]`` (multiclass, ``C`` classes). With
the element loss :math:`\ell_{it}`, the mask :math:`m_{it} = [y_{it} \neq \mathrm{NaN}]`, an
optional sample weight :math:`w_i` and an optional class weight :math:`c_{t, y_{it}}`, the loss
is the weighted mean over labelled elements

.. math::
    \mathcal{L} = \frac{\sum_{i,t} \omega_{it}\,\ell_{it}}{\sum_{i,t} \omega_{it}},
    \qquad \omega_{it} = m_{it}\, w_i\, c_{t, y_{it}}

with :math:`\ell` the regression head's loss on standardised targets (squared error, or the
negative log-likelihood of a predicted distribution: see :mod:`gnnkit.train.losses`), binary
cross-entropy with logits (binary) or cross-entropy over the task's ``C`` logits (multiclass).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from gnnkit.choices import TASK_KINDS, TaskKind
from gnnkit.train.losses import (
    EVIDENTIAL_LAMBDA,
    PARAMETERS,
    check_loss,
    element_loss,
    head_parameters,
    head_variances,
)


@dataclass(frozen=True, slots=True)
class Task:
    r"""What a model predicts: the kind, one name per task and, for multiclass, the classes.

    Attributes:
        kind: ``"regression"``, ``"binary"`` or ``"multiclass"``.
        names: one name per task (column names in predictions and per-task metrics).
        n_classes: classes per task (2 for binary, 1 for regression).
        class_names: for a multiclass task with text labels, the label of each class (class
            ``k`` is ``class_names[k]``, shared by all tasks); ``None`` for integer labels.
        regression_loss: ``"mse"``, ``"mve"`` or ``"evidential"`` (regression only; see
            :mod:`gnnkit.train.losses`): what the head predicts, so it also rebuilds the head.
        evidential_lambda: :math:`\lambda` of the evidential regulariser.
    """

    kind: TaskKind
    names: tuple[str, ...]
    n_classes: int = 1
    class_names: tuple[str, ...] | None = None
    regression_loss: str = "mse"
    evidential_lambda: float = EVIDENTIAL_LAMBDA

    def __post_init__(self) -> None:
        if self.kind not in TASK_KINDS:
            raise ValueError(
                f"unknown task kind {self.kind!r}; expected one of {', '.join(TASK_KINDS)}"
            )
        if not self.names or len(set(self.names)) != len(self.names):
            raise ValueError(f"task names must be non-empty and distinct, got {self.names!r}")
        expected = {"regression": 1, "binary": 2}.get(self.kind)
        if expected is not None and self.n_classes != expected:
            raise ValueError(f"a {self.kind} task has n_classes={expected}, got {self.n_classes}")
        if self.kind == "multiclass" and self.n_classes < 2:
            raise ValueError(f"a multiclass task needs n_classes >= 2, got {self.n_classes}")
        if self.class_names is not None:
            names = self.class_names
            if self.kind != "multiclass" or len(names) != self.n_classes:
                raise ValueError(
                    f"class names are given for the {self.n_classes} classes of a multiclass "
                    f"task, got {list(names)!r} for a {self.kind} task"
                )
            if len(set(names)) != len(names):
                raise ValueError(f"class names must be distinct, got {list(names)!r}")
        check_loss(self.regression_loss)
        if self.regression_loss != "mse" and self.kind != "regression":
            raise ValueError(
                f"loss {self.regression_loss!r} applies to regression tasks, not {self.kind}"
            )

    @classmethod
    def create(
        cls,
        kind: TaskKind,
        n_tasks: int,
        names: Sequence[str] | None = None,
        n_classes: int = 2,
        class_names: Sequence[str] | None = None,
        regression_loss: str = "mse",
        evidential_lambda: float = EVIDENTIAL_LAMBDA,
    ) -> Task:
        """A task with default names ``task0, task1, …`` unless ``names`` are given; with
        ``class_names`` (multiclass) one class per name."""
        names = tuple(names) if names is not None else tuple(f"task{t}" for t in range(n_tasks))
        if len(names) != n_tasks:
            raise ValueError(f"{len(names)} task names given for {n_tasks} tasks: {names!r}")
        if class_names is not None:
            n_classes = len(class_names)
        classes = {"regression": 1, "binary": 2}.get(kind, n_classes)
        labels = tuple(class_names) if class_names is not None else None
        return cls(kind, names, classes, labels, regression_loss, evidential_lambda)

    @property
    def n_tasks(self) -> int:
        return len(self.names)

    @property
    def n_outputs(self) -> int:
        """Model outputs per graph: ``T·k`` (regression, ``k`` parameters per task, see
        :mod:`gnnkit.train.losses`), ``T`` (binary) or ``T·C`` (multiclass)."""
        if self.kind == "multiclass":
            return self.n_tasks * self.n_classes
        return self.n_tasks * PARAMETERS[self.regression_loss]

    def check_targets(self, y: Tensor, where: str) -> None:
        """Raise ``ValueError`` naming ``where`` unless ``y`` ``[B, T]`` holds valid labels."""
        if y.dim() != 2 or y.size(1) != self.n_tasks:
            raise ValueError(
                f"{where}: targets must have shape [B, {self.n_tasks}], got {list(y.shape)}"
            )
        labels = y[~torch.isnan(y)]
        if self.kind == "regression":
            if not torch.isfinite(labels).all():
                raise ValueError(f"{where}: regression targets must be finite or NaN (missing)")
            return
        valid = (labels == labels.round()) & (labels >= 0) & (labels < self.n_classes)
        if not valid.all():
            bad = labels[~valid][:5].tolist()
            raise ValueError(
                f"{where}: {self.kind} labels must be integers in [0, {self.n_classes}) or NaN "
                f"(missing), found {bad}"
            )

    def logits(self, output: Tensor) -> Tensor:
        """Model output as ``[B, T]`` (binary; regression: the predicted mean) or ``[B, T, C]``
        (multiclass)."""
        if self.kind == "multiclass":
            return output.view(output.size(0), self.n_tasks, self.n_classes)
        if self.kind == "regression":
            return head_parameters(self.regression_loss, output)[0]
        return output

    def variances(self, output: Tensor) -> tuple[Tensor | None, Tensor | None]:
        """``(aleatoric, epistemic)`` variances ``[B, T]`` of the standardised targets that a
        regression head predicts, ``None`` where it predicts none (see
        :func:`~gnnkit.train.losses.head_variances`)."""
        if self.kind != "regression":
            return None, None
        return head_variances(self.regression_loss, output)

    def activate(self, output: Tensor) -> Tensor:
        """Predictions from model output: values ``[B, T]`` (regression, still standardised),
        probabilities ``[B, T]`` (binary) or class probabilities ``[B, T, C]`` (multiclass)."""
        logits = self.logits(output)
        if self.kind == "binary":
            return torch.sigmoid(logits)
        if self.kind == "multiclass":
            return torch.softmax(logits, dim=-1)
        return logits

    def element_loss(self, output: Tensor, target: Tensor) -> Tensor:
        r"""Unreduced loss :math:`\ell_{it}` ``[B, T]``; ``target`` must hold no NaN."""
        if self.kind == "regression":
            return element_loss(self.regression_loss, output, target, self.evidential_lambda)
        logits = self.logits(output)
        if self.kind == "binary":
            return F.binary_cross_entropy_with_logits(logits, target, reduction="none")
        # -log softmax at the label, written out: CUDA's NLL loss has no deterministic kernel
        log_probs = torch.log_softmax(logits, dim=-1)
        return -log_probs.gather(-1, target.long().unsqueeze(-1)).squeeze(-1)

    def loss(
        self,
        output: Tensor,
        target: Tensor,
        sample_weight: Tensor | None = None,
        class_weight: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        r"""The weighted loss sum :math:`\sum \omega\ell` and the weight sum :math:`\sum \omega`.

        Args:
            output: model output ``[B, n_outputs]`` (regression targets already standardised).
            target: ``[B, T]``, NaN where missing.
            sample_weight: :math:`w` ``[B]``, or ``None`` for ones.
            class_weight: :math:`c` ``[T, C]`` (see :func:`balanced_class_weights`), or ``None``.

        Returns:
            ``(weighted_sum, total_weight)``; their ratio is :math:`\mathcal{L}`. Keeping both
            lets an epoch average batches of different sizes exactly.
        """
        mask = ~torch.isnan(target)
        filled = torch.where(mask, target, torch.zeros_like(target))
        weight = mask.to(output.dtype)
        if sample_weight is not None:
            weight = weight * sample_weight.view(-1, 1)
        if class_weight is not None:
            classes = filled.long()  # [B, T]
            weight = weight * class_weight.gather(1, classes.t()).t()
        return (weight * self.element_loss(output, filled)).sum(), weight.sum()

    def class_label(self, k: int) -> str:
        """The name of class ``k``: its text label, else the number ``k``."""
        return self.class_names[k] if self.class_names is not None else str(k)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (``class_names`` only when the classes have names)."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "names": list(self.names),
            "n_classes": self.n_classes,
            "regression_loss": self.regression_loss,
            "evidential_lambda": self.evidential_lambda,
        }
        if self.class_names is not None:
            out["class_names"] = list(self.class_names)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Task:
        """The task of :meth:`to_dict`; a checkpoint written before the regression losses
        existed trained with squared error."""
        labels = data.get("class_names")
        return cls(
            data["kind"],
            tuple(data["names"]),
            int(data["n_classes"]),
            tuple(labels) if labels is not None else None,
            str(data.get("regression_loss", "mse")),
            float(data.get("evidential_lambda", EVIDENTIAL_LAMBDA)),
        )


def balanced_class_weights(task: Task, y: Tensor) -> Tensor:
    r"""Per-task class weights :math:`c_{tk} = n_t / (K_t\, n_{tk})` ``[T, C]`` from train labels.

    :math:`n_{tk}` counts the labels of class :math:`k` in task :math:`t`, :math:`n_t` all labels
    of task :math:`t` and :math:`K_t` the classes that occur in them. Every class that occurs
    carries the same total weight :math:`n_t / K_t`, and the task's total weight stays
    :math:`n_t`. A class absent from a task's labels gets weight 1 (it never occurs in the loss).
    """
    if task.kind == "regression":
        raise ValueError("class balancing applies to binary and multiclass tasks, not regression")
    mask = ~torch.isnan(y)
    counts = torch.zeros(task.n_tasks, task.n_classes, dtype=torch.float64)
    for t in range(task.n_tasks):
        counts[t] = torch.bincount(y[mask[:, t], t].long(), minlength=task.n_classes).double()
    totals = counts.sum(dim=1, keepdim=True)
    present = (counts > 0).sum(dim=1, keepdim=True)
    weights = torch.where(counts > 0, totals / (present * counts.clamp_min(1)), 1.0)
    return weights.float()
