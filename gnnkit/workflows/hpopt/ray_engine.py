"""The Ray engine: the same study on Ray Tune, trials spread over a machine or a cluster.

Ray Tune's ``OptunaSearch`` asks Optuna's seeded TPE sampler for each trial's parameters (the
same define-by-run space as the local engine), and a Tune scheduler prunes on the value each
trial reports after every epoch: ``median`` is ``MedianStoppingRule`` (stop a trial whose
value is worse than the median of the other trials' at the same epoch), ``asha`` is
``ASHAScheduler`` (asynchronous successive halving, Li et al. 2020; rungs at
``grace · 3^k`` epochs keep the best third). Neither prunes before ``grace`` epochs.

Each trial asks for ``cpus_per_trial`` CPUs and ``gpus_per_trial`` GPUs; at most
``max_concurrent_trials`` run at once (``None``: as many as the resources allow). The dataset
and split travel to the trials once, through Ray's object store. Tune's own records go to
``OUT/ray/``. ``ray_address`` (or ``$RAY_ADDRESS``) names a running cluster; without it Ray
starts on this machine; a Ray instance the caller initialised is used as it is.

Ray Tune is an optional dependency (``pip install "gnnkit[distributed]"``), imported only here.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from gnnkit.workflows.hpopt.config import HpoptConfig
from gnnkit.workflows.hpopt.local import progress_line, quiet_optuna
from gnnkit.workflows.hpopt.records import COMPLETE, FAIL, PRUNED, TrialRecord
from gnnkit.workflows.hpopt.space import Dimension
from gnnkit.workflows.hpopt.trial import Objective, describe
from gnnkit.workflows.screen.distributed import ray_session

VALUE = "value"


def import_tune() -> ModuleType:
    """The ``ray.tune`` module, or an error that says how to install it."""
    try:
        import ray.tune
        from ray.tune.search.optuna import OptunaSearch  # noqa: F401 (needs optuna)
    except ImportError as error:
        raise ImportError(
            f"--engine ray needs Ray Tune ({error}): pip install 'gnnkit[distributed]' "
            "(or pip install 'ray[tune]>=2.60')"
        ) from error
    return ray.tune


class DefineSpace:
    """Optuna's define-by-run space for ``OptunaSearch``: draws every dimension."""

    def __init__(self, space: tuple[Dimension, ...]) -> None:
        self.space = space

    def __call__(self, trial: Any) -> None:
        for dimension in self.space:
            dimension.suggest(trial)


def _trainable(params: dict[str, Any], objective: Objective) -> None:
    """One trial inside Tune: reports ``value`` (best validation value so far), ``epoch``,
    ``last`` (the trial ends after this epoch), ``started`` and ``seconds`` every epoch; an
    error is reported with its description before it is raised."""
    from ray import tune

    started = time.time()
    latest: dict[str, Any] = {VALUE: float("nan"), "epoch": 0, "last": False}

    def report(epoch: int, value: float, last: bool) -> None:
        latest.update({VALUE: value, "epoch": epoch, "last": last})
        tune.report({**latest, "started": started, "seconds": time.time() - started})

    try:
        objective(params, report)
    except Exception as error:
        seconds = time.time() - started
        tune.report({**latest, "error": describe(error), "started": started, "seconds": seconds})
        raise


def _scheduler(name: str, grace: int, epochs: int) -> Any:
    """Tune's scheduler for ``median``, ``asha`` or ``none``."""
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, MedianStoppingRule

    if name == "median":
        return MedianStoppingRule(time_attr="training_iteration", grace_period=grace)
    if name == "asha":
        return ASHAScheduler(
            time_attr="training_iteration", max_t=epochs, grace_period=grace, reduction_factor=3
        )
    return FIFOScheduler()


def run_ray(
    objective: Objective, hpopt: HpoptConfig, grace: int, out_dir: Path
) -> list[TrialRecord]:
    """``hpopt.trials`` trials of ``objective`` on Ray Tune; failed trials are kept."""
    tune = import_tune()
    import optuna
    import ray
    from ray.tune.search.optuna import OptunaSearch

    train = objective.config.train
    with quiet_optuna():  # the study's creation notice
        searcher = OptunaSearch(
            space=DefineSpace(hpopt.space),
            metric=VALUE,
            mode=train.monitor_mode,
            sampler=optuna.samplers.TPESampler(seed=hpopt.seed),
            seed=hpopt.seed,
        )
    trainable = tune.with_resources(
        tune.with_parameters(_trainable, objective=objective),
        {"cpu": hpopt.cpus_per_trial, "gpu": hpopt.gpus_per_trial},
    )
    tuner = tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(
            search_alg=searcher,
            scheduler=_scheduler(hpopt.pruner, grace, train.epochs),
            metric=VALUE,
            mode=train.monitor_mode,
            num_samples=hpopt.trials,
            max_concurrent_trials=hpopt.max_concurrent_trials,
        ),
        run_config=tune.RunConfig(
            name="hpopt",
            storage_path=str((out_dir / "ray").resolve()),
            verbose=0,
            failure_config=tune.FailureConfig(max_failures=0),
        ),
    )
    with ray_session(ray, hpopt.ray_address), quiet_optuna():
        grid = tuner.fit()
    trials = [_record(number, result) for number, result in enumerate(grid)]
    trials.sort(key=lambda t: (t.started is None, t.started or 0.0))
    for number, trial in enumerate(trials):
        trial.number = number
        if hpopt.progress:
            print(progress_line(trial, hpopt.trials), file=sys.stderr, flush=True)
    return trials


def _record(number: int, result: Any) -> TrialRecord:
    """The :class:`TrialRecord` of a Tune ``Result``."""
    metrics = result.metrics or {}
    value = metrics.get(VALUE)
    if result.error is not None:
        state = FAIL
        error = metrics.get("error") or describe(getattr(result.error, "cause", result.error))
    else:
        state, error = (COMPLETE if metrics.get("last") else PRUNED), None
    return TrialRecord(
        number=number,
        state=state,
        params=dict(result.config or {}),
        value=None if value is None or value != value else float(value),
        started=metrics.get("started"),
        seconds=metrics.get("seconds"),
        error=error,
    )
