r"""The non-neural baselines: per-cascade feature vectors and a standard classifier.

Each cascade, observed up to the same window as the networks see, becomes one vector whose
blocks follow the feature set (:mod:`gnnkit.data.cascades.featurizer`):

- ``structure``: :math:`\log(1 + v)` of the
  :func:`~gnnkit.data.cascades.statistics.cascade_statistics` (size, depth, breadth,
  structural virality, degrees, time span, time to reach :math:`k` nodes, growth rate);
- ``users``: the user features of :mod:`~gnnkit.data.cascades.content` (class credibility,
  log activity, unknown flag) averaged over the cascade's posts, and those of the source
  post's author: :math:`2(C + 2)` values, from the same training-only, out-of-fold tables as
  the networks read;
- ``text``: the source post's full TF-IDF vector (not reduced).

Dense blocks are standardised with the training split's means and deviations. A scikit-learn
classifier is fitted on each round's training split only and scores its validation and test
splits, exactly the splits the networks use:

- ``forest``: a random forest of 500 trees (Breiman 2001), the default for ``structure``;
- ``logistic``: multinomial logistic regression whose inverse regularisation :math:`C` is
  chosen among :data:`LOGISTIC_C` by a 5-fold cross-validation of the training split, the
  default otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import sparse

from gnnkit.choices import CLASSIFIERS
from gnnkit.data.cascades.cascade import Cascade, observe
from gnnkit.data.cascades.content import TfidfModel
from gnnkit.data.cascades.dataset import CascadeSet
from gnnkit.data.cascades.featurizer import CascadeFeaturizer
from gnnkit.data.cascades.folds import FoldSplit
from gnnkit.data.cascades.statistics import statistics_matrix
from gnnkit.workflows.cascades.scores import classification_scores, summarize

LOGISTIC_C: tuple[float, ...] = (0.1, 1.0, 10.0, 100.0)
Matrix = np.ndarray | sparse.csr_matrix
#: ``split -> (train, val, test)`` feature matrices of one round.
FoldFeatures = Callable[[FoldSplit], tuple[Matrix, Matrix, Matrix]]


def default_classifier(groups: Sequence[str]) -> str:
    """``forest`` for the statistics alone, ``logistic`` once users or text are read."""
    return "forest" if tuple(groups) == ("structure",) else "logistic"


def make_classifier(name: str, seed: int, c: float = 1.0) -> Any:
    """A fresh scikit-learn classifier ``name`` (see the module docstring); ``c`` is the
    logistic regression's inverse regularisation."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    if name == "forest":
        return RandomForestClassifier(n_estimators=500, random_state=seed, n_jobs=1)
    if name == "logistic":
        return LogisticRegression(C=c, max_iter=5000)
    raise ValueError(f"unknown classifier {name!r}; choose from {', '.join(CLASSIFIERS)}")


def baseline_features(cascades: Sequence[Cascade], hours: float | None = None) -> np.ndarray:
    r""":math:`\log(1 + \text{statistics})` of every cascade observed up to ``hours``,
    ``[B, S]``."""
    return np.log1p(statistics_matrix([observe(c, hours) for c in cascades], hours))


def user_summary(user_features: np.ndarray) -> np.ndarray:
    """A cascade's user features ``[N, C + 2]`` as one vector ``[2(C + 2)]``: the mean over
    its posts, then the source post's row."""
    return np.concatenate([user_features.mean(axis=0), user_features[0]])


def _standardised(blocks: list[np.ndarray]) -> list[np.ndarray]:
    """``blocks`` (train, val, test) scaled by the training block's mean and deviation."""
    mean, std = blocks[0].mean(axis=0), blocks[0].std(axis=0)
    return [(b - mean) / np.where(std > 0, std, 1.0) for b in blocks]


def fold_features(
    data: CascadeSet,
    groups: Sequence[str],
    hours: float | None = None,
    *,
    featurizer_of: Callable[[FoldSplit], CascadeFeaturizer] | None = None,
    out_of_fold_users: Callable[[FoldSplit], list[np.ndarray]] | None = None,
) -> FoldFeatures:
    """The baseline's feature matrices of every round (see the module docstring).

    Args:
        data: the cascades.
        groups: the feature set's groups.
        hours: observation window (``None``: whole cascades).
        featurizer_of: a round's fitted :class:`CascadeFeaturizer` (its user table); needed
            for the ``users`` group.
        out_of_fold_users: a round's out-of-fold user features of its training cascades.
    """
    statistics = baseline_features(data.cascades, hours) if "structure" in groups else None

    def features(split: FoldSplit) -> tuple[Matrix, Matrix, Matrix]:
        parts = (split.train, split.val, split.test)
        dense: list[list[np.ndarray]] = []
        if statistics is not None:
            dense.append([statistics[p] for p in parts])
        if "users" in groups:
            if featurizer_of is None or out_of_fold_users is None:
                raise ValueError("the users baseline needs the rounds' user tables")
            table = featurizer_of(split).users
            train_rows = out_of_fold_users(split)
            blocks = [np.stack([user_summary(f) for f in train_rows])]
            for part in parts[1:]:
                blocks.append(
                    np.stack([user_summary(table.features(data.cascades[i])) for i in part])
                )
            dense.append(blocks)
        scaled = [_standardised(block) for block in dense]
        matrices = [
            np.concatenate([b[k] for b in scaled], axis=1) if scaled else None for k in range(3)
        ]
        if "text" not in groups:
            return tuple(matrices)  # type: ignore[return-value]
        texts = [[data.cascades[i].text for i in part] for part in parts]
        tfidf = TfidfModel.fit(texts[0])
        out = []
        for k in range(3):
            words = tfidf.transform(texts[k])
            out.append(words if matrices[k] is None else sparse.hstack([words, matrices[k]]))
        return tuple(sparse.csr_matrix(m) for m in out)  # type: ignore[return-value]

    return features


def fixed_features(features: np.ndarray) -> FoldFeatures:
    """Rounds that slice one feature matrix ``[B, S]`` (standardised by each training split)."""
    return lambda split: tuple(
        _standardised([features[split.train], features[split.val], features[split.test]])
    )


def _fit(classifier: str, seed: int, x: Matrix, y: np.ndarray) -> Any:
    """The classifier fitted on ``(x, y)``; for ``logistic``, with the :data:`LOGISTIC_C`
    value of the best accuracy in a 5-fold cross-validation of the training split."""
    if classifier != "logistic":
        return make_classifier(classifier, seed).fit(x, y)
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    folds = StratifiedKFold(min(5, int(np.bincount(y).max())), shuffle=True, random_state=seed)
    search = GridSearchCV(make_classifier(classifier, seed), {"C": LOGISTIC_C}, cv=folds)
    return search.fit(x, y).best_estimator_


def baseline_folds(
    features: np.ndarray | FoldFeatures,
    labels: np.ndarray,
    splits: Sequence[FoldSplit],
    classes: Sequence[str],
    classifier: str = "forest",
    seed: int = 0,
) -> dict[str, Any]:
    """Fit ``classifier`` on every round's training split and score its validation and test
    splits; the same result shape as :func:`~gnnkit.workflows.cascades.evaluation.train_folds`.

    ``features`` is one matrix ``[B, S]`` for every round, or a :data:`FoldFeatures`.
    """
    rounds = fixed_features(features) if isinstance(features, np.ndarray) else features
    per_fold = []
    for split in splits:
        x_train, x_val, x_test = rounds(split)
        y = {name: labels[getattr(split, name)] for name in ("train", "val", "test")}
        model = _fit(classifier, seed + split.fold, x_train, y["train"])
        scores = {
            name: classification_scores(y[name], model.predict(x), classes)
            for name, x in (("val", x_val), ("test", x_test))
        }
        per_fold.append({"fold": split.fold, "sizes": split.sizes(), **scores})
    return {
        "test": summarize([f["test"] for f in per_fold]),
        "val": summarize([f["val"] for f in per_fold]),
        "per_fold": per_fold,
    }
