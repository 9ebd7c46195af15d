"""One LightningModule for every gnnkit model and task kind."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import Tensor, nn
from torch_geometric.data import Batch

from gnnkit.train.config import TrainConfig
from gnnkit.train.metrics import TaskMetrics, WeightedMean, metric_names
from gnnkit.train.predict import outputs_to_predictions
from gnnkit.train.scaling import TargetScaler
from gnnkit.train.schedule import warmup_decay_scheduler
from gnnkit.train.tasks import Task

CONFIG_KEY = "gnnkit_config"


def step_seed(seed: int, rank: int, step: int) -> int:
    """The seed of training step ``step`` in process ``rank``: NumPy's ``SeedSequence`` hash of
    ``(seed, rank, step)``, in :math:`[0, 2^{64})`. Processes draw different dropout masks, and
    a resumed run draws what an uninterrupted one would."""
    return int(np.random.SeedSequence([seed, rank, step]).generate_state(1, np.uint64)[0])


@contextmanager
def seeded_rng(seed: int, device: torch.device) -> Iterator[None]:
    """Runs the block with torch's random generators seeded with ``seed``, then gives the CPU
    generator and that of ``device`` back their states: the block's draws are reproducible, and
    code outside it (callbacks, data loading) draws as if it had not run."""
    devices = [] if device.type == "cpu" else [device]
    with torch.random.fork_rng(devices=devices, device_type=device.type):
        torch.manual_seed(seed)
        yield


class GraphTaskModule(L.LightningModule):
    r"""Trains ``model`` (a PyG ``Batch`` → ``[num_graphs, task.n_outputs]``) on ``task``.

    Each epoch logs ``train_loss`` and ``val_loss`` (the masked, weighted loss of
    :meth:`~gnnkit.train.tasks.Task.loss`, averaged over the epoch's labelled elements), each
    validation metric as ``val_<name>`` (averaged over tasks; NaN when undefined) and ``lr``.
    Validation metrics are gathered over all processes under DDP.

    Args:
        model: the network.
        task: what it predicts.
        config: optimiser and schedule settings (``max_lr``, ``warmup_epochs``, …, ``seed``).
        scaler: standardises regression targets for the loss; predictions are un-scaled.
        class_weight: per-task class weights ``[T, C]`` for the loss, or ``None``.
    """

    def __init__(
        self,
        model: nn.Module,
        task: Task,
        config: TrainConfig,
        scaler: TargetScaler | None = None,
        class_weight: Tensor | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.task = task
        self.config = config
        self.scaler = scaler
        self.register_buffer("class_weight", class_weight)
        self.train_loss = WeightedMean()
        self.val_loss = WeightedMean()
        self.val_metrics = TaskMetrics(task)

    def forward(self, batch: Batch) -> Tensor:
        return self.model(batch)

    def _loss(self, output: Tensor, batch: Batch) -> tuple[Tensor, Tensor]:
        """The batch's mean loss and its total weight."""
        target = batch.y.float()
        if self.scaler is not None:
            target = self.scaler.transform(target)
        weight = getattr(batch, "weight", None)
        weighted, total = self.task.loss(
            output, target, weight.float() if weight is not None else None, self.class_weight
        )
        return weighted / total.clamp_min(torch.finfo(weighted.dtype).tiny), total

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        """The batch's loss; the model's randomness (e.g. dropout) is drawn from
        :func:`step_seed` of the config's seed, this process's rank and the step, in
        :func:`seeded_rng`."""
        seed = step_seed(self.config.seed, self.trainer.global_rank, self.trainer.global_step)
        with seeded_rng(seed, self.device):
            output = self.model(batch)
        loss, total = self._loss(output, batch)
        self.train_loss.update(loss.detach(), total.detach())
        return loss

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        output = self.model(batch)
        loss, total = self._loss(output, batch)
        self.val_loss.update(loss, total)
        self.val_metrics.update(
            outputs_to_predictions(self.task, self.scaler, output), batch.y.float()
        )

    def on_validation_epoch_end(self) -> None:
        report = self.val_metrics.compute()
        values = {
            "train_loss": self.train_loss.compute().item(),
            "val_loss": self.val_loss.compute().item(),
            "lr": self.optimizers().param_groups[0]["lr"],
        }
        for name in metric_names(self.task.kind):
            values[f"val_{name}"] = report[name] if report[name] is not None else math.nan
        for metric in (self.train_loss, self.val_loss, self.val_metrics):
            metric.reset()
        # The values are already gathered over processes, so the mean over processes that
        # sync_dist takes leaves them unchanged (and keeps every process's copy identical).
        shown = {"train_loss", "val_loss", f"val_{self.config.monitor_name}"}
        for key, value in values.items():
            self.log(key, value, on_epoch=True, prog_bar=key in shown, sync_dist=True)

    def configure_optimizers(self) -> dict[str, Any]:
        config = self.config
        # Frozen weights (requires_grad False, e.g. a fine-tuned encoder) are left out.
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = torch.optim.Adam(trainable, lr=config.max_lr)
        total_steps = int(self.trainer.estimated_stepping_batches)
        steps_per_epoch = total_steps / self.trainer.max_epochs
        scheduler = warmup_decay_scheduler(
            optimizer,
            warmup_steps=round(config.warmup_epochs * steps_per_epoch),
            total_steps=total_steps,
            init_lr=config.init_lr,
            max_lr=config.max_lr,
            final_lr=config.final_lr,
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[CONFIG_KEY] = self.config.to_dict()
