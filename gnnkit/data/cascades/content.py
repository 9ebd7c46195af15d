r"""Who spreads a cascade and what its source post says, as features fitted on training cascades.

**Users.** For user :math:`u`, let :math:`n_{uc}` be the number of training cascades of class
:math:`c` that :math:`u` posted in (a cascade counts once however often :math:`u` posts in it)
and :math:`n_u = \sum_c n_{uc}` its activity. With the training class shares :math:`\pi_c` and
smoothing :math:`m`, a node posted by :math:`u` gets

.. math::
    \mathrm{cred}_{uc} = \frac{n_{uc} + m\,\pi_c}{n_u + m}, \qquad
    \log(1 + n_u), \qquad [n_u = 0]

(``user_cred_<class>`` for every class, ``user_log_activity``, ``user_unknown``): a user never
seen in training gets the prior :math:`\pi`. A training cascade must never see its own label,
so :func:`out_of_fold_user_features` gives each training cascade the table built from the
*other* inner folds of the training cascades (nested folds); validation, test and new cascades
use the table of all training cascades (:class:`UserTable`).

**Text.** The source post's TF-IDF vector :math:`\mathbf{t}` (word uni- and bigrams seen in at
least two training posts, sublinear term frequency :math:`1 + \log \mathrm{tf}`, smoothed idf
:math:`1 + \log\frac{1 + B}{1 + \mathrm{df}}`, rows scaled to unit length, as scikit-learn's
``TfidfVectorizer(sublinear_tf=True)``) is reduced two ways (:class:`TextEncoder`):

- supervised, to the class probabilities :math:`\mathrm{softmax}(\mathbf{W}\mathbf{t} +
  \mathbf{b})` of a multinomial logistic regression (:math:`C` = :data:`TEXT_C`) fitted on
  the training posts (``text_p_<class>``). As for users, a training post's probabilities come
  from the TF-IDF and regression of the *other* inner folds (:meth:`TextEncoder.out_of_fold`);
- unsupervised, to its coordinates on the first :math:`d` right singular vectors of the
  training TF-IDF matrix (truncated SVD, latent semantic analysis: ``text_svd_0 …``).

The supervised part is there because a few SVD dimensions lose much of what separates the
classes: on Twitter15 a logistic regression reads 80 % accuracy from the full TF-IDF vector
but 67 % from 64 SVD dimensions (``benchmarks/README.md``). A cascade without a text gets the
probabilities of an empty post and zero coordinates.

**Claims.** :func:`claim_groups` joins source posts whose TF-IDF cosine similarity reaches a
threshold, and takes connected components: near-duplicate posts about one claim form one group,
so a claim-disjoint split can keep each group on one side.

Every fitted table is stored as plain data (:meth:`UserTable.to_plain`,
:meth:`TextEncoder.to_plain`) so that a checkpoint holding it loads with ``weights_only=True``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from gnnkit.data.cascades.cascade import Cascade

#: TF-IDF settings shared by the text features, the text baseline and the claim grouping.
TOKEN_PATTERN = r"(?u)\b\w\w+\b"
NGRAMS = (1, 2)
#: Inverse regularisation of the text features' logistic regression.
TEXT_C = 10.0


def user_feature_names(classes: Sequence[str]) -> tuple[str, ...]:
    """Columns of :meth:`UserTable.features`."""
    return (*(f"user_cred_{name}" for name in classes), "user_log_activity", "user_unknown")


def _users_of(cascade: Cascade) -> np.ndarray:
    """The user ids ``[N]`` of ``cascade``, or a clear error when the data names none."""
    if cascade.users is None:
        raise ValueError(
            f"cascade {cascade.source_id} names no users (e.g. UPFD data), so it has no user "
            "features; use --features structure or text"
        )
    return cascade.users


def _unique_users(cascade: Cascade) -> np.ndarray:
    return np.unique(_users_of(cascade).astype(str))


def _credibility(counts: np.ndarray, prior: np.ndarray, smoothing: float) -> np.ndarray:
    """User features ``[N, C + 2]`` from per-node class counts ``[N, C]``."""
    activity = counts.sum(axis=1, keepdims=True)
    credibility = (counts + smoothing * prior) / (activity + smoothing)
    return np.concatenate(
        [credibility, np.log1p(activity), (activity == 0).astype(np.float64)], axis=1
    ).astype(np.float32)


@dataclass(slots=True)
class UserTable:
    """Class counts of every user of the training cascades (see the module docstring).

    Attributes:
        index: user id → row of ``counts``.
        counts: ``[U, C]`` int64, training cascades of each class a user posted in.
        prior: ``[C]`` class shares :math:`\\pi` of the training cascades.
        smoothing: :math:`m`, in pseudo-cascades.
    """

    index: dict[str, int]
    counts: np.ndarray
    prior: np.ndarray
    smoothing: float = 1.0

    @classmethod
    def fit(
        cls,
        cascades: Sequence[Cascade],
        labels: np.ndarray,
        n_classes: int,
        smoothing: float = 1.0,
    ) -> UserTable:
        """Count the users of ``cascades`` (class indices ``labels`` ``[B]``)."""
        if smoothing <= 0:
            raise ValueError(f"smoothing must be positive, got {smoothing}")
        members = [_unique_users(c) for c in cascades]
        users, inverse = np.unique(
            np.concatenate(members) if members else np.empty(0, str), return_inverse=True
        )
        cascade_of = np.repeat(np.arange(len(members)), [m.size for m in members])
        counts = np.zeros((users.size, n_classes), dtype=np.int64)
        np.add.at(counts, (inverse, np.asarray(labels)[cascade_of]), 1)
        prior = np.bincount(labels, minlength=n_classes) / max(len(labels), 1)
        return cls({u: i for i, u in enumerate(users.tolist())}, counts, prior, smoothing)

    def node_counts(self, users: np.ndarray) -> np.ndarray:
        """Class counts ``[N, C]`` of the users of ``N`` nodes (zeros for unseen users)."""
        rows = np.array([self.index.get(u, -1) for u in users.astype(str)], dtype=np.int64)
        counts = np.zeros((rows.size, self.counts.shape[1]), dtype=np.int64)
        known = rows >= 0
        counts[known] = self.counts[rows[known]]
        return counts

    def features(self, cascade: Cascade) -> np.ndarray:
        """User features ``[N, C + 2]`` float32 of every node of ``cascade``."""
        return _credibility(self.node_counts(_users_of(cascade)), self.prior, self.smoothing)

    def to_plain(self) -> dict[str, Any]:
        return {
            "users": "\n".join(self.index),
            "counts": self.counts.reshape(-1).tolist(),
            "n_classes": int(self.counts.shape[1]),
            "prior": self.prior.tolist(),
            "smoothing": self.smoothing,
        }

    @classmethod
    def from_plain(cls, plain: dict[str, Any]) -> UserTable:
        users = plain["users"].split("\n") if plain["users"] else []
        counts = np.asarray(plain["counts"], dtype=np.int64).reshape(-1, plain["n_classes"])
        return cls(
            {u: i for i, u in enumerate(users)},
            counts,
            np.asarray(plain["prior"], dtype=np.float64),
            float(plain["smoothing"]),
        )


def out_of_fold_user_features(
    cascades: Sequence[Cascade],
    labels: np.ndarray,
    n_classes: int,
    inner_folds: Sequence[np.ndarray],
    smoothing: float = 1.0,
) -> list[np.ndarray]:
    """User features ``[N_b, C + 2]`` of every training cascade ``b`` from the table of the
    training cascades outside ``b``'s inner fold, so that no cascade sees its own label.

    Args:
        cascades, labels: the training cascades and their class indices ``[B]``.
        inner_folds: a partition of ``range(B)`` (at least two parts).
    """
    if len(inner_folds) < 2:
        raise ValueError("out-of-fold user features need at least two inner folds")
    features: list[np.ndarray | None] = [None] * len(cascades)
    everything = np.arange(len(cascades))
    for fold in inner_folds:
        rest = np.setdiff1d(everything, fold)
        table = UserTable.fit([cascades[i] for i in rest], labels[rest], n_classes, smoothing)
        for i in fold:
            features[i] = table.features(cascades[i])
    if any(f is None for f in features):
        raise ValueError("inner_folds must cover every training cascade")
    return features  # type: ignore[return-value]


def _vectorizer(vocabulary: dict[str, int] | None = None, min_df: int = 2) -> Any:
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(
        token_pattern=TOKEN_PATTERN,
        ngram_range=NGRAMS,
        min_df=1 if vocabulary is not None else min_df,
        vocabulary=vocabulary,
    )


def _tfidf(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear TF-IDF rows of unit length from term counts ``[B, V]``."""
    tf = counts.astype(np.float64).tocsr()
    tf.data = 1.0 + np.log(tf.data)
    weighted = tf.multiply(idf[None, :]).tocsr()
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1))).reshape(-1)
    return sparse.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ weighted


def _texts(texts: Sequence[str | None]) -> list[str]:
    return [text or "" for text in texts]


@dataclass(slots=True)
class TfidfModel:
    """TF-IDF fitted on training posts (see the module docstring).

    Attributes:
        vocabulary: term → column.
        idf: ``[V]`` smoothed inverse document frequencies :math:`1 + \\log\\frac{1 + B}{1 +
            \\mathrm{df}}`.
    """

    vocabulary: dict[str, int]
    idf: np.ndarray

    @classmethod
    def fit(cls, texts: Sequence[str | None], min_df: int = 2) -> TfidfModel:
        texts = _texts(texts)
        counts = None
        for threshold in (min_df, 1):  # few posts: keep every term rather than none
            vectorizer = _vectorizer(min_df=threshold)
            try:
                counts = vectorizer.fit_transform(texts)
                break
            except ValueError:
                continue
        if counts is None:
            raise ValueError("the source texts hold no words, so they give no text features")
        df = np.asarray((counts > 0).sum(axis=0)).reshape(-1)
        idf = 1.0 + np.log((1.0 + len(texts)) / (1.0 + df))
        return cls(dict(vectorizer.vocabulary_), idf)

    def transform(self, texts: Sequence[str | None]) -> sparse.csr_matrix:
        """TF-IDF rows ``[B, V]``."""
        counts = _vectorizer(self.vocabulary).transform(_texts(texts))
        return _tfidf(counts, self.idf)


def _fit_logistic(matrix: sparse.csr_matrix, labels: np.ndarray, n_classes: int, c: float):
    """Multinomial logistic regression on TF-IDF rows: weights ``[C, V]`` and biases ``[C]``
    (a class missing from ``labels`` gets weights 0 and bias -30, probability about 0)."""
    from sklearn.linear_model import LogisticRegression

    coef = np.zeros((n_classes, matrix.shape[1]))
    intercept = np.full(n_classes, -30.0)
    present = np.unique(labels)
    if present.size == 1:
        intercept[present[0]] = 0.0
        return coef, intercept
    model = LogisticRegression(C=c, max_iter=5000).fit(matrix, labels)
    rows = model.classes_
    if rows.size == 2:  # scikit-learn keeps one weight vector for two classes
        coef[rows[1]], intercept[rows[1]] = model.coef_[0], model.intercept_[0]
        intercept[rows[0]] = 0.0
    else:
        coef[rows], intercept[rows] = model.coef_, model.intercept_
    return coef, intercept


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@dataclass(slots=True)
class TextEncoder:
    """What the source post says, fitted on training posts (see the module docstring).

    Attributes:
        tfidf: the fitted TF-IDF.
        coef, intercept: ``[C, V]`` and ``[C]``, the logistic regression of the class on the
            TF-IDF vector.
        components: ``[d, V]`` leading right singular vectors of the training TF-IDF matrix.
    """

    tfidf: TfidfModel
    coef: np.ndarray
    intercept: np.ndarray
    components: np.ndarray

    @classmethod
    def fit(
        cls,
        texts: Sequence[str | None],
        labels: np.ndarray,
        n_classes: int,
        dims: int = 32,
        seed: int = 0,
    ) -> TextEncoder:
        """Fit TF-IDF, the logistic regression and the SVD on training posts and their
        class indices ``labels`` ``[B]``."""
        from sklearn.decomposition import TruncatedSVD

        if dims < 0:
            raise ValueError(f"text dimensions must be at least 0, got {dims}")
        tfidf = TfidfModel.fit(texts)
        matrix = tfidf.transform(texts)
        coef, intercept = _fit_logistic(matrix, np.asarray(labels), n_classes, TEXT_C)
        rank = min(dims, matrix.shape[0] - 1, matrix.shape[1] - 1)
        components = np.zeros((dims, matrix.shape[1]))
        if rank >= 1:
            svd = TruncatedSVD(n_components=rank, random_state=seed).fit(matrix)
            components[:rank] = svd.components_
        return cls(tfidf, coef, intercept, components)

    @property
    def dims(self) -> int:
        return int(self.components.shape[0])

    @property
    def n_classes(self) -> int:
        return int(self.coef.shape[0])

    def probabilities(self, matrix: sparse.csr_matrix) -> np.ndarray:
        """Class probabilities ``[B, C]`` of TF-IDF rows."""
        return _softmax(np.asarray(matrix @ self.coef.T) + self.intercept)

    def transform(self, texts: Sequence[str | None]) -> np.ndarray:
        """Text features ``[B, C + d]`` float32: class probabilities, then SVD coordinates."""
        matrix = self.tfidf.transform(texts)
        latent = np.asarray(matrix @ self.components.T)
        return np.concatenate([self.probabilities(matrix), latent], axis=1).astype(np.float32)

    def out_of_fold(
        self, texts: Sequence[str | None], labels: np.ndarray, inner_folds: Sequence[np.ndarray]
    ) -> np.ndarray:
        """:meth:`transform` of the training posts ``texts`` with class probabilities from
        TF-IDF and regressions fitted on the *other* inner folds, so no post sees its own
        label (the SVD coordinates use no labels and keep this encoder's basis)."""
        features = self.transform(texts)
        texts, labels = list(texts), np.asarray(labels)
        for fold in inner_folds:
            rest = np.setdiff1d(np.arange(len(texts)), fold)
            tfidf = TfidfModel.fit([texts[i] for i in rest])
            coef, intercept = _fit_logistic(
                tfidf.transform([texts[i] for i in rest]), labels[rest], self.n_classes, TEXT_C
            )
            held_out = tfidf.transform([texts[i] for i in fold])
            logits = np.asarray(held_out @ coef.T) + intercept
            features[fold, : self.n_classes] = _softmax(logits)
        return features

    def to_plain(self) -> dict[str, Any]:
        terms = sorted(self.tfidf.vocabulary, key=self.tfidf.vocabulary.__getitem__)
        return {
            "terms": terms,
            "idf": self.tfidf.idf.tolist(),
            "coef": self.coef.astype(np.float32).reshape(-1).tolist(),
            "intercept": self.intercept.tolist(),
            "components": self.components.astype(np.float32).reshape(-1).tolist(),
            "dims": self.dims,
        }

    @classmethod
    def from_plain(cls, plain: dict[str, Any]) -> TextEncoder:
        vocabulary = {term: i for i, term in enumerate(plain["terms"])}
        intercept = np.asarray(plain["intercept"], dtype=np.float64)
        return cls(
            TfidfModel(vocabulary, np.asarray(plain["idf"], dtype=np.float64)),
            np.asarray(plain["coef"], dtype=np.float64).reshape(intercept.size, -1),
            intercept,
            np.asarray(plain["components"], dtype=np.float64).reshape(plain["dims"], -1),
        )


def text_feature_names(classes: Sequence[str], dims: int) -> tuple[str, ...]:
    """Columns of :meth:`TextEncoder.transform`."""
    return (*(f"text_p_{name}" for name in classes), *(f"text_svd_{i}" for i in range(dims)))


def claim_groups(texts: Sequence[str | None], threshold: float = 0.5) -> np.ndarray:
    """Group index ``[B]`` of every post: connected components of the graph joining posts whose
    TF-IDF cosine similarity is at least ``threshold`` (TF-IDF fitted on all the posts, labels
    unused). A post without text is a group of its own."""
    if not 0 < threshold <= 1:
        raise ValueError(f"the claim similarity threshold must lie in (0, 1], got {threshold}")
    from scipy.sparse.csgraph import connected_components

    texts = list(texts)
    matrix = TfidfModel.fit(texts, min_df=1).transform(texts)
    similar = (matrix @ matrix.T).tocsr()
    similar.data = (similar.data >= threshold - 1e-12).astype(np.int8)
    similar.eliminate_zeros()
    _, groups = connected_components(similar, directed=False)
    return groups.astype(np.int64)
