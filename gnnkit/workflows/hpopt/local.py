"""The local engine: an Optuna study in this process, one trial at a time.

The sampler is Optuna's TPE (``TPESampler(seed=...)``: its first 10 trials are drawn at
random, later ones from the tree-structured Parzen estimator of the completed ones). The
pruners watch the value each trial reports after every epoch (its best validation value so
far): ``median`` is ``MedianPruner`` (stop a trial whose value is worse than the median of
earlier trials' at the same epoch, once 5 trials have finished), ``asha`` is
``SuccessiveHalvingPruner``, Optuna's asynchronous successive halving (Li et al. 2020, "A
System for Massively Parallel Hyperparameter Tuning"; rungs at ``grace · 3^k`` epochs keep the
best third). Neither prunes before ``grace`` epochs (the learning-rate warm-up).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gnnkit.workflows.hpopt.config import HpoptConfig
from gnnkit.workflows.hpopt.records import COMPLETE, FAIL, PRUNED, TrialRecord
from gnnkit.workflows.hpopt.trial import Objective, describe

ERROR_ATTR = "error"


def make_pruner(name: str, grace: int) -> Any:
    """Optuna's pruner for ``median``, ``asha`` or ``none``."""
    import optuna

    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=grace)
    if name == "asha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=grace, reduction_factor=3)
    return optuna.pruners.NopPruner()


@contextmanager
def quiet_optuna() -> Iterator[None]:
    """Optuna's per-trial log lines off (the search prints its own)."""
    import optuna

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(logging.ERROR)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(verbosity)


def run_local(objective: Objective, hpopt: HpoptConfig, grace: int) -> list[TrialRecord]:
    """``hpopt.trials`` trials of ``objective`` in an Optuna study; failed trials are kept."""
    import optuna

    train = objective.config.train
    direction = "minimize" if train.monitor_mode == "min" else "maximize"

    def run(trial: optuna.Trial) -> float:
        params = {dimension.name: dimension.suggest(trial) for dimension in hpopt.space}

        def report(epoch: int, value: float, last: bool) -> None:
            trial.report(value, epoch)
            if not last and trial.should_prune():
                raise optuna.TrialPruned(f"pruned after epoch {epoch}")

        try:
            return objective(params, report)
        except optuna.TrialPruned:
            raise
        except Exception as error:
            trial.set_user_attr(ERROR_ATTR, describe(error))
            raise

    def progress(_: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if hpopt.progress:
            print(progress_line(record(trial), hpopt.trials), file=sys.stderr, flush=True)

    with quiet_optuna():
        study = optuna.create_study(
            direction=direction,
            sampler=optuna.samplers.TPESampler(seed=hpopt.seed),
            pruner=make_pruner(hpopt.pruner, grace),
        )
        study.optimize(run, n_trials=hpopt.trials, catch=(Exception,), callbacks=[progress])
    return [record(trial) for trial in study.trials]


def record(trial: Any) -> TrialRecord:
    """The :class:`TrialRecord` of an Optuna ``FrozenTrial``."""
    import optuna

    states = {
        optuna.trial.TrialState.COMPLETE: COMPLETE,
        optuna.trial.TrialState.PRUNED: PRUNED,
    }
    value = trial.value
    if value is None and trial.intermediate_values:
        value = trial.intermediate_values[max(trial.intermediate_values)]
    return TrialRecord(
        number=trial.number,
        state=states.get(trial.state, FAIL),
        params=dict(trial.params),
        value=value,
        started=trial.datetime_start.timestamp() if trial.datetime_start else None,
        seconds=trial.duration.total_seconds() if trial.duration else None,
        error=trial.user_attrs.get(ERROR_ATTR),
    )


def progress_line(trial: TrialRecord, trials: int) -> str:
    """``trial 3/20 COMPLETE value 0.8123 (12.3 s)``, with the error of a failed trial."""
    value = "" if trial.value is None else f" value {trial.value:.4f}"
    seconds = "" if trial.seconds is None else f" ({trial.seconds:.1f} s)"
    error = f": {trial.error}" if trial.error else ""
    return f"trial {trial.number + 1}/{trials} {trial.state}{value}{seconds}{error}"
