"""Virtual screening: rank a molecule library, far larger than memory, by a trained model.

``gnnkit mol screen`` streams the library in chunks (:mod:`~gnnkit.data.molecules.stream`),
featurizes each in worker processes, predicts it with the model or ensemble, and keeps a
running top-K (:mod:`~gnnkit.workflows.screen.ranking`) with each candidate's Tanimoto
similarity to the nearest training molecule and an optional novelty filter. Two engines run
the same per-chunk steps (:mod:`~gnnkit.workflows.screen.pipeline`): ``local`` (one machine,
:mod:`~gnnkit.workflows.screen.local`) and ``ray`` (a Ray Data pipeline on a cluster,
:mod:`~gnnkit.workflows.screen.distributed`), and give the same hits.

Usage::

    from gnnkit.workflows.screen import ScreenConfig, screen_library

    result = screen_library(
        "runs/chembl", "library.smi.gz", "hits.csv",
        ScreenConfig(top_k=100, max_train_similarity=0.4, workers=2),
    )
    print(result.hits.head())
"""

from gnnkit.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    globals(),
    {
        ".config": ("ScreenConfig",),
        ".run": ("ScreenResult", "invalid_rows_file", "screen_library"),
    },
)
