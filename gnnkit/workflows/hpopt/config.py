"""Settings of a hyper-parameter search (pure Python: ``gnnkit mol hpopt`` reads its choices
without torch)."""

from __future__ import annotations

from dataclasses import dataclass

from gnnkit.choices import ENGINES, PRUNERS
from gnnkit.workflows.hpopt.space import DEFAULT_SPACE, Dimension


@dataclass(slots=True)
class HpoptConfig:
    """Settings of :func:`~gnnkit.workflows.hpopt.search.search` (``gnnkit mol hpopt``).

    ``trials``: how many settings to try. ``space``: the tuned dimensions
    (:data:`~gnnkit.workflows.hpopt.space.DEFAULT_SPACE` or a ``--search-space`` file).
    ``pruner``: stop unpromising trials early on their validation metric: ``"median"``
    (below the median of earlier trials at the same epoch), ``"asha"`` (asynchronous
    successive halving, Li et al. 2020) or ``"none"``. ``seed``: seeds the TPE sampler (the
    split and the training take the training settings' seed). ``engine``: ``"local"`` (Optuna
    in this process, one trial at a time) or ``"ray"`` (Ray Tune, trials in parallel; see
    :mod:`~gnnkit.workflows.hpopt.ray_engine` for ``ray_address``, ``cpus_per_trial``,
    ``gpus_per_trial`` and ``max_concurrent_trials``). ``progress``: one line per finished
    trial on stderr.
    """

    trials: int = 20
    space: tuple[Dimension, ...] = DEFAULT_SPACE
    pruner: str = "median"
    seed: int = 0
    engine: str = "local"
    ray_address: str | None = None
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    max_concurrent_trials: int | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if self.trials < 1:
            raise ValueError(f"trials must be at least 1, got {self.trials}")
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        if self.pruner not in PRUNERS:
            raise ValueError(f"pruner must be one of {', '.join(PRUNERS)}, got {self.pruner!r}")
        if self.cpus_per_trial <= 0 or self.gpus_per_trial < 0:
            raise ValueError("cpus_per_trial must be positive and gpus_per_trial not negative")
        if self.max_concurrent_trials is not None and self.max_concurrent_trials < 1:
            raise ValueError(
                f"max_concurrent_trials must be at least 1, got {self.max_concurrent_trials}"
            )
