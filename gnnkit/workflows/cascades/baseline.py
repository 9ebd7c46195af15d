r"""The non-neural baseline: hand-made cascade statistics and a standard classifier.

Each cascade, observed up to the same window as the networks see, becomes the vector of
:func:`~gnnkit.data.cascades.statistics.cascade_statistics` (size, depth, breadth, structural
virality, degrees, time span, time to reach :math:`k` nodes, growth rate), transformed by
:math:`\log(1 + v)` (all are non-negative). A scikit-learn classifier is fitted on each
round's training split only and scores its validation and test splits, exactly the splits the
networks use:

- ``forest``: a random forest of 500 trees (Breiman 2001);
- ``logistic``: standardised features and multinomial logistic regression.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gnnkit.data.cascades.cascade import Cascade, observe
from gnnkit.data.cascades.folds import FoldSplit
from gnnkit.data.cascades.statistics import statistics_matrix
from gnnkit.workflows.cascades.scores import classification_scores, summarize

CLASSIFIERS: tuple[str, ...] = ("forest", "logistic")


def make_classifier(name: str, seed: int) -> Any:
    """A fresh scikit-learn classifier ``name`` (see the module docstring)."""
    try:
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
    except ImportError as error:
        raise ImportError(
            "the cascade baseline needs scikit-learn: pip install scikit-learn"
        ) from error
    if name == "forest":
        return RandomForestClassifier(n_estimators=500, random_state=seed, n_jobs=1)
    if name == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    raise ValueError(f"unknown classifier {name!r}; choose from {', '.join(CLASSIFIERS)}")


def baseline_features(cascades: Sequence[Cascade], hours: float | None = None) -> np.ndarray:
    r""":math:`\log(1 + \text{statistics})` of every cascade observed up to ``hours``,
    ``[B, S]``."""
    return np.log1p(statistics_matrix([observe(c, hours) for c in cascades], hours))


def baseline_folds(
    features: np.ndarray,
    labels: np.ndarray,
    splits: Sequence[FoldSplit],
    classes: Sequence[str],
    classifier: str = "forest",
    seed: int = 0,
) -> dict[str, Any]:
    """Fit ``classifier`` on every round's training split and score its validation and test
    splits; the same result shape as :func:`~gnnkit.workflows.cascades.evaluation.train_folds`."""
    per_fold = []
    for split in splits:
        model = make_classifier(classifier, seed + split.fold)
        model.fit(features[split.train], labels[split.train])
        scores = {
            name: classification_scores(
                labels[getattr(split, name)], model.predict(features[getattr(split, name)]), classes
            )
            for name in ("val", "test")
        }
        per_fold.append({"fold": split.fold, "sizes": split.sizes(), **scores})
    return {
        "test": summarize([f["test"] for f in per_fold]),
        "val": summarize([f["val"] for f in per_fold]),
        "per_fold": per_fold,
    }
