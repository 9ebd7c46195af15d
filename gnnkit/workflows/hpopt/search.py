"""A hyper-parameter search of a molecule model (``gnnkit mol hpopt``): :func:`search`."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from gnnkit.workflows.hpopt.config import HpoptConfig
from gnnkit.workflows.hpopt.records import FILES, TrialRecord, write_search
from gnnkit.workflows.hpopt.trial import Objective
from gnnkit.workflows.molecules.config import MoleculeTrainConfig
from gnnkit.workflows.molecules.data import load_dataset, make_splits


def search(
    config: MoleculeTrainConfig,
    hpopt: HpoptConfig,
    out_dir: str | Path,
    options: dict[str, Any] | None = None,
) -> tuple[TrialRecord | None, list[TrialRecord]]:
    """Try ``hpopt.trials`` settings of ``hpopt.space`` on ``config``'s data and split; returns
    the best trial (``None`` if none completed) and all trials.

    Every trial trains on the same split (``config``'s, made once with its seed) and is scored
    by ``config.train``'s monitored validation metric and mode (``monitor``/``mode``); the
    test part is not used. Settings outside the space keep ``config``'s values. A trial that
    raises (out of memory, a NaN metric, an invalid setting) is recorded with its error and the
    search goes on. Writes to ``out_dir`` (see :mod:`~gnnkit.workflows.hpopt.records`):
    ``trials.csv``, ``trials.png``, ``hpopt.json`` and ``best_config.json``, which holds
    ``options`` (the search's ``mol train`` options by name) with the best parameters, for
    ``gnnkit mol train --config``.
    """
    out_dir = Path(out_dir)
    _check_settings(config, out_dir)
    config = replace(config, train=replace(config.train, progress="none"))
    dataset = load_dataset(config)
    splits = make_splits(config, dataset)
    if len(splits) != 1:
        raise ValueError(
            f"{config.splits_file} holds {len(splits)} splits; a search trains every trial on "
            "one split"
        )
    objective = Objective(config, dataset, splits[0])
    grace = max(1, math.ceil(config.train.warmup_epochs))
    started = time.perf_counter()
    if hpopt.engine == "ray":
        from gnnkit.workflows.hpopt.ray_engine import run_ray

        trials = run_ray(objective, hpopt, grace, out_dir)
    else:
        from gnnkit.workflows.hpopt.local import run_local

        trials = run_local(objective, hpopt, grace)
    seconds = time.perf_counter() - started
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = {
        "engine": hpopt.engine,
        "monitor": config.train.monitor_name,
        "mode": config.train.monitor_mode,
        "pruner": hpopt.pruner,
        "seed": hpopt.seed,
        "seconds": seconds,
        "space": {d.name: d.to_dict() for d in hpopt.space},
    }
    names = [d.name for d in hpopt.space]
    best = write_search(out_dir, trials, names, options or {}, summary)
    return best, trials


def _check_settings(config: MoleculeTrainConfig, out_dir: Path) -> None:
    """Refuse settings a search cannot follow and an output folder holding a search."""
    if config.folds is not None and config.folds >= 2:
        raise ValueError("a search trains every trial on one split; drop folds (--folds)")
    if config.ensemble != 1:
        raise ValueError("a search trains one model per trial; drop ensemble (--ensemble)")
    if config.train.resume:
        raise ValueError("a search cannot be resumed; drop resume (--resume)")
    if (out_dir / FILES["trials"]).exists():
        raise FileExistsError(
            f"{out_dir} already holds a search ({FILES['trials']}); choose another output folder"
        )
