"""A trained model with what it needs to predict: its task, target scaler and featurizer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from gnnkit.train.data import eval_loader, stack_targets
from gnnkit.train.metrics import compute_metrics
from gnnkit.train.scaling import TargetScaler
from gnnkit.train.tasks import Task


def outputs_to_predictions(task: Task, scaler: TargetScaler | None, output: Tensor) -> Tensor:
    """Model output ``[B, n_outputs]`` → un-scaled values ``[B, T]``, probabilities ``[B, T]``
    (binary) or class probabilities ``[B, T, C]`` (multiclass)."""
    preds = task.activate(output)
    return scaler.inverse(preds) if scaler is not None else preds


@dataclass(slots=True)
class TrainedModel:
    """A model ready to predict.

    Attributes:
        model: maps a PyG ``Batch`` to ``[num_graphs, task.n_outputs]``.
        task: what it predicts.
        scaler: the regression target scaler (``None`` for classification).
        featurizer: the featurizer settings its input graphs were made with, as plain data.
    """

    model: nn.Module
    task: Task
    scaler: TargetScaler | None = None
    featurizer: dict[str, Any] | None = None

    def to(self, device: str | torch.device) -> TrainedModel:
        """Move the model and the scaler to ``device``; returns ``self``."""
        self.model.to(device)
        if self.scaler is not None:
            self.scaler.to(device)
        return self

    @torch.no_grad()
    def predict(
        self, graphs: Sequence[Data], *, batch_size: int = 256, device: str | torch.device = "cpu"
    ) -> Tensor:
        """Predictions for ``graphs`` in order, on the CPU: ``[B, T]`` or ``[B, T, C]``
        (see :func:`outputs_to_predictions`). The model runs in eval mode on ``device``."""
        device = torch.device(device)
        self.to(device).model.eval()
        cuda = device.type == "cuda"
        preds = [
            outputs_to_predictions(
                self.task, self.scaler, self.model(batch.to(device, non_blocking=cuda))
            ).cpu()
            for batch in eval_loader(graphs, batch_size, pin_memory=cuda)
        ]
        return torch.cat(preds, dim=0)

    def evaluate(
        self, graphs: Sequence[Data], *, batch_size: int = 256, device: str | torch.device = "cpu"
    ) -> tuple[Tensor, dict[str, Any]]:
        """Predictions for labelled ``graphs`` and their metrics (see
        :func:`~gnnkit.train.metrics.compute_metrics`)."""
        preds = self.predict(graphs, batch_size=batch_size, device=device)
        return preds, compute_metrics(self.task, preds, stack_targets(graphs))
