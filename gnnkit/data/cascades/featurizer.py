r"""Feature sets of cascade graphs: structure, users and text, fitted on one training split.

================  =======================================================================
group             input
================  =======================================================================
``structure``     node features of :mod:`~gnnkit.data.cascades.features` (delays, depth,
                  children, subtree, root flag) and the loader's own node features
``users``         node features of :mod:`~gnnkit.data.cascades.content`: the author's class
                  credibility, activity and an unknown-user flag
``text``          the source post's TF-IDF reduced to class probabilities (logistic
                  regression) and truncated-SVD coordinates, a graph-level input
                  ``graph_x`` ``[1, C + d]`` that the cascade models join to the root's
                  features
================  =======================================================================

A feature set is one group, several joined by ``+`` (``users+text``), or ``all`` (every
group). Without ``structure`` or ``users`` the node features are a single constant column:
the network still reads the tree's shape from its edges.

:meth:`CascadeFeaturizer.fit` sees the training cascades of one split only. The training
cascades' own user features come from nested folds (:func:`~gnnkit.data.cascades.content.
out_of_fold_user_features`, :meth:`~gnnkit.data.cascades.content.TextEncoder.out_of_fold`), so
no cascade's label ever enters its own features; validation, test and new cascades use the
tables of all training cascades. :meth:`~CascadeFeaturizer.
to_plain` stores the fitted tables with a model, so prediction on new cascades works and
unseen users get the prior.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from torch_geometric.data import Data

from gnnkit.data.cascades.cascade import Cascade, observe
from gnnkit.data.cascades.content import (
    TextEncoder,
    UserTable,
    out_of_fold_user_features,
    text_feature_names,
    user_feature_names,
)
from gnnkit.data.cascades.dataset import CascadeSet, structure_features, to_data
from gnnkit.data.cascades.folds import feasible_folds, group_folds

CONSTANT_FEATURE = "constant"


def check_feature_set(data: CascadeSet, groups: Sequence[str]) -> None:
    """Raise a clear error when ``data`` lacks what a feature group reads."""
    where = data.report.source if data.report is not None else "the data"
    if "users" in groups and not data.has_users:
        raise ValueError(
            f"--features users needs the user id of every post, which {where} does not name "
            "(UPFD and synthetic data without --content have none); use structure or text"
        )
    if "text" in groups and not data.has_text:
        raise ValueError(
            f"--features text needs source-post texts, which {where} lacks (a Twitter15/16 "
            "folder has them in source_tweets.txt); use structure or users"
        )


@dataclass(slots=True)
class TrainingFeatures:
    """Out-of-fold features of a split's training cascades (``None`` for an absent group).

    Attributes:
        users: ``[N_b, C + 2]`` user features of every training cascade ``b``.
        text: ``[B, C + d]`` text features of the training cascades.
    """

    users: list[np.ndarray] | None = None
    text: np.ndarray | None = None


@dataclass(slots=True)
class CascadeFeaturizer:
    """Turns cascades into graphs with the features of one feature set.

    Attributes:
        groups: the feature groups (see the module table).
        classes: class names (the ``y`` index).
        structure_names: columns of the structure group (timing, tree, loader features).
        users: the training cascades' user table (``users`` group), else ``None``.
        text: the training posts' text encoder (``text`` group), else ``None``.
    """

    groups: tuple[str, ...]
    classes: tuple[str, ...]
    structure_names: tuple[str, ...]
    users: UserTable | None = None
    text: TextEncoder | None = None

    @classmethod
    def fit(
        cls,
        data: CascadeSet,
        train: np.ndarray,
        groups: Sequence[str],
        *,
        text_dims: int = 32,
        smoothing: float = 1.0,
        seed: int = 0,
    ) -> CascadeFeaturizer:
        """Fit the tables of ``groups`` on the cascades ``data.cascades[train]``."""
        check_feature_set(data, groups)
        cascades = [data.cascades[i] for i in train]
        labels, n_classes = data.labels()[train], len(data.classes)
        users = text = None
        if "users" in groups:
            users = UserTable.fit(cascades, labels, n_classes, smoothing)
        if "text" in groups:
            text = TextEncoder.fit([c.text for c in cascades], labels, n_classes, text_dims, seed)
        return cls(tuple(groups), data.classes, data.node_feature_names(), users, text)

    def node_feature_names(self) -> tuple[str, ...]:
        """Columns of ``x``."""
        names: tuple[str, ...] = ()
        if "structure" in self.groups:
            names += self.structure_names
        if self.users is not None:
            names += user_feature_names(self.classes)
        return names or (CONSTANT_FEATURE,)

    def graph_feature_names(self) -> tuple[str, ...]:
        """Columns of ``graph_x`` (none without the text group)."""
        if self.text is None:
            return ()
        return text_feature_names(self.classes, self.text.dims)

    def training_features(
        self,
        data: CascadeSet,
        train: np.ndarray,
        inner_folds: int = 5,
        claim_groups: np.ndarray | None = None,
        seed: int = 0,
    ) -> TrainingFeatures:
        """User and text features of the training cascades ``train`` from nested folds (see
        the module docstring). With ``claim_groups`` the inner folds keep each claim
        together, as the outer split does."""
        if self.users is None and self.text is None:
            return TrainingFeatures()
        labels = data.labels()[train]
        groups = claim_groups[train] if claim_groups is not None else np.arange(train.size)
        folds = group_folds(labels, groups, feasible_folds(labels, groups, inner_folds), seed)
        cascades = [data.cascades[i] for i in train]
        users = text = None
        if self.users is not None:
            users = out_of_fold_user_features(
                cascades, labels, len(self.classes), folds, self.users.smoothing
            )
        if self.text is not None:
            text = self.text.out_of_fold([c.text for c in cascades], labels, folds)
        return TrainingFeatures(users, text)

    def graphs(
        self,
        cascades: Sequence[Cascade],
        hours: float | None = None,
        training: TrainingFeatures | None = None,
    ) -> list[Data]:
        """One graph per cascade, observed up to ``hours``; ``training`` replaces the tables'
        user and text features with the training cascades' out-of-fold ones."""
        training = training or TrainingFeatures()
        user_features = training.users
        if self.users is not None and user_features is None:
            user_features = [self.users.features(c) for c in cascades]
        text = training.text
        if self.text is not None and text is None:
            text = self.text.transform([c.text for c in cascades])
        graphs = []
        for b, cascade in enumerate(cascades):
            seen = observe(cascade, hours)
            columns = []
            if "structure" in self.groups:
                columns.append(structure_features(seen))
            if user_features is not None:
                columns.append(user_features[b][: seen.num_nodes])
            if not columns:
                columns.append(np.ones((seen.num_nodes, 1), dtype=np.float32))
            x = np.concatenate(columns, axis=1)
            graph_x = text[b] if text is not None else None
            graphs.append(to_data(seen, self.classes, x=x, graph_x=graph_x))
        return graphs

    def to_plain(self) -> dict[str, Any]:
        """Plain data that :meth:`from_plain` rebuilds the featurizer from."""
        return {
            "groups": list(self.groups),
            "classes": list(self.classes),
            "structure_names": list(self.structure_names),
            "users": self.users.to_plain() if self.users is not None else None,
            "text": self.text.to_plain() if self.text is not None else None,
        }

    @classmethod
    def from_plain(cls, plain: dict[str, Any]) -> CascadeFeaturizer:
        return cls(
            tuple(plain["groups"]),
            tuple(plain["classes"]),
            tuple(plain["structure_names"]),
            UserTable.from_plain(plain["users"]) if plain["users"] is not None else None,
            TextEncoder.from_plain(plain["text"]) if plain["text"] is not None else None,
        )
