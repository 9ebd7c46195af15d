"""One trial of a search: a molecule model trained with one setting of the tuned parameters on
the split's training part and scored on its validation part, the value reported every epoch."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L

from gnnkit.data.molecules import MoleculeCSVDataset
from gnnkit.data.splits import Split
from gnnkit.workflows.hpopt.space import apply_params
from gnnkit.workflows.molecules.config import MoleculeTrainConfig
from gnnkit.workflows.molecules.train import train_one

#: ``report(epoch, value, last)``: called after each epoch's validation; may raise to stop the
#: trial (a pruner's verdict). ``last``: the trial ends after this epoch anyway.
Report = Callable[[int, float, bool], None]


class ReportEpochs(L.Callback):
    """After each validation, sends the best validation value of the monitored metric so far
    (the value the trial ends with if it stops now, as the best checkpoint is kept) to
    ``report``. Epochs whose metric is undefined (NaN) are not reported until one is."""

    def __init__(self, monitor: str, mode: str, report: Report) -> None:
        self.key = f"val_{monitor}"
        self.better = min if mode == "min" else max
        self.report = report
        self.best: float | None = None

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        value = trainer.callback_metrics.get(self.key)
        if value is not None and math.isfinite(float(value)):
            value = float(value)
            self.best = value if self.best is None else self.better(self.best, value)
        if self.best is None:
            return
        epoch = trainer.current_epoch + 1
        self.report(epoch, self.best, trainer.should_stop or epoch >= (trainer.max_epochs or 0))


@dataclass(slots=True)
class Objective:
    """What every trial shares: the base settings (``progress`` off), the dataset and the one
    split; calling it with ``params`` and a :data:`Report` trains one trial and returns its
    value, the best validation value of ``config.train``'s monitored metric.

    The trial's model is trained on ``split.train`` and selected on ``split.val``; the test part
    is never read (the validation part stands in for it in the trial's scratch folder)."""

    config: MoleculeTrainConfig
    dataset: MoleculeCSVDataset
    split: Split

    def __call__(self, params: dict[str, Any], report: Report) -> float:
        config = apply_params(self.config, params)
        train = config.train
        reporter = ReportEpochs(train.monitor_name, train.monitor_mode, report)
        search_split = Split(self.split.train, self.split.val, self.split.val)
        with tempfile.TemporaryDirectory(prefix="gnnkit-trial-") as folder:
            train_one(config, self.dataset, search_split, Path(folder), callbacks=[reporter])
        if reporter.best is None:
            raise ValueError(
                f"the validation {train.monitor_name} was undefined at every epoch (NaN)"
            )
        return reporter.best


def describe(error: BaseException) -> str:
    """One line naming an exception: ``ValueError: message``."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
