"""Hyper-parameter search of molecule models (``gnnkit mol hpopt``).

Usage::

    from gnnkit.workflows.hpopt import HpoptConfig, search
    from gnnkit.workflows.molecules import MoleculeTrainConfig

    best, trials = search(MoleculeTrainConfig(data="esol"), HpoptConfig(trials=20), "runs/hpo")

One module per job: :mod:`~gnnkit.workflows.hpopt.space` (the tuned settings and the
``--search-space`` file), :mod:`~gnnkit.workflows.hpopt.config` (the search's settings),
:mod:`~gnnkit.workflows.hpopt.trial` (one trial), :mod:`~gnnkit.workflows.hpopt.local` and
:mod:`~gnnkit.workflows.hpopt.ray_engine` (the engines), :mod:`~gnnkit.workflows.hpopt.records`
(what a search writes) and :mod:`~gnnkit.workflows.hpopt.search`.
"""

from gnnkit.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    globals(),
    {
        ".config": ("HpoptConfig",),
        ".records": ("TrialRecord", "best_trial"),
        ".search": ("search",),
        ".space": ("DEFAULT_SPACE", "TUNABLE", "Dimension", "parse_space", "read_space"),
        "gnnkit.choices": ("ENGINES", "PRUNERS"),
    },
)
