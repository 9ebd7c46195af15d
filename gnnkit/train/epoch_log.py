"""The per-epoch record of a run: a CSV file, and optionally one printed line per epoch."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, TextIO

import lightning as L

from gnnkit.train.artefacts import write_epoch_csv


class EpochLog(L.Callback):
    """Records each epoch after validation: ``epoch`` (from 1), ``lr``, ``train_loss``,
    ``val_loss``, the logged ``val_<metric>`` values and ``train_seconds`` (wall-clock time of
    the epoch's training steps).

    The process of global rank 0 rewrites ``csv_path`` from all rows after every epoch and, when
    ``echo`` is a stream, prints one line, e.g.
    ``epoch 3/30  train_loss 0.4121  val_loss 0.3874  val_rmse 0.6120  lr 1.0e-03  0.8s``.
    The rows travel in Lightning checkpoints, so a resumed run continues the same log.
    """

    def __init__(self, csv_path: Path, monitor: str, echo: TextIO | None = None) -> None:
        self.csv_path = csv_path
        self.monitor = monitor
        self.echo = echo
        self.rows: list[dict[str, float]] = []
        self._started = 0.0
        self._train_seconds = 0.0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._started = time.perf_counter()

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._train_seconds = time.perf_counter() - self._started

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        logged = {key: float(value) for key, value in trainer.callback_metrics.items()}
        row = {"epoch": trainer.current_epoch + 1, **logged, "train_seconds": self._train_seconds}
        self.rows.append(row)
        if not trainer.is_global_zero:
            return
        write_epoch_csv(self.csv_path, self.rows)
        if self.echo is not None:
            print(self.format_row(row, trainer.max_epochs), file=self.echo, flush=True)

    def format_row(self, row: dict[str, float], max_epochs: int | None) -> str:
        """One line: epoch, losses, the monitored metric, learning rate, training time."""
        keys = dict.fromkeys(("train_loss", "val_loss", f"val_{self.monitor}"))
        parts = [f"epoch {row['epoch']:.0f}/{max_epochs}"]
        parts += [f"{key} {row.get(key, math.nan):.4f}" for key in keys]
        parts += [f"lr {row['lr']:.1e}", f"{row['train_seconds']:.1f}s"]
        return "  ".join(parts)

    @property
    def train_seconds(self) -> float:
        """Training time summed over all recorded epochs (resumed ones included)."""
        return sum(row["train_seconds"] for row in self.rows)

    def state_dict(self) -> dict[str, Any]:
        return {"rows": [dict(row) for row in self.rows]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.rows = [dict(row) for row in state_dict["rows"]]
