"""Who spreads and what is said: user tables, text encoders, claims, feature sets, and the rule
that no training cascade ever sees its own label."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from gnnkit.choices import parse_feature_set
from gnnkit.data.cascades import Cascade, CascadeSet, generate
from gnnkit.data.cascades.content import (
    TextEncoder,
    TfidfModel,
    UserTable,
    claim_groups,
    out_of_fold_user_features,
)
from gnnkit.data.cascades.featurizer import CascadeFeaturizer
from gnnkit.data.cascades.folds import group_cross_validation_splits, group_folds

CLASSES = ("non-rumor", "false", "true", "unverified")


def star(source_id: str, users: list[str], label: str, text: str | None = None) -> Cascade:
    """A source post and its direct re-posts, one minute apart, by ``users``."""
    n = len(users)
    parent = np.array([-1] + [0] * (n - 1))
    return Cascade(source_id, parent, np.arange(n, dtype=float), label, users=users, text=text)


def test_credibility_is_the_smoothed_class_mix_of_a_users_training_cascades() -> None:
    cascades = [
        star("a", ["x", "y", "x"], "false"),  # x counts once in a
        star("b", ["x", "z"], "false"),
        star("c", ["y", "z"], "true"),
        star("d", ["w"], "non-rumor"),
    ]
    labels = np.array([1, 1, 2, 0])
    table = UserTable.fit(cascades, labels, 4, smoothing=2.0)
    prior = np.array([0.25, 0.5, 0.25, 0.0])
    np.testing.assert_allclose(table.prior, prior)
    new = star("n", ["x", "y", "nobody"], "true")
    features = table.features(new)
    assert features.shape == (3, 6)
    # x: two false cascades -> (n + 2 * prior) / (2 + 2)
    np.testing.assert_allclose(features[0, :4], (np.array([0, 2, 0, 0]) + 2 * prior) / 4)
    np.testing.assert_allclose(features[0, 4:], [np.log1p(2), 0.0])
    np.testing.assert_allclose(features[1, :4], (np.array([0, 1, 1, 0]) + 2 * prior) / 4)
    # an unseen user gets the prior, no activity and the unknown flag
    np.testing.assert_allclose(features[2], [*prior, 0.0, 1.0], rtol=1e-6)
    back = UserTable.from_plain(table.to_plain())
    np.testing.assert_array_equal(back.features(new), features)


def test_no_training_cascade_sees_its_own_label() -> None:
    """Constructed so that leakage would show: 'solo' posts in one cascade only, 'pair' in two
    cascades of different inner folds, and relabelling a cascade leaves its own out-of-fold
    features unchanged."""
    cascades = [
        star("a", ["solo", "pair"], "false"),
        star("b", ["pair", "other"], "true"),
        star("c", ["other"], "true"),
        star("d", ["other"], "false"),
    ]
    labels = np.array([1, 2, 2, 1])
    folds = [np.array([0, 2]), np.array([1, 3])]
    features = out_of_fold_user_features(cascades, labels, 4, folds)
    # in a, 'solo' is unknown: its only cascade is a itself
    assert features[0][0, 5] == 1.0 and features[0][0, 4] == 0.0
    # in a, 'pair' is known only through b (true), never through a (false)
    rest_prior = np.array([0, 0.5, 0.5, 0])  # b and d
    np.testing.assert_allclose(features[0][1, :4], (np.array([0, 0, 1, 0]) + rest_prior) / 2)
    for b in range(len(cascades)):
        relabelled = labels.copy()
        relabelled[b] = 0
        again = out_of_fold_user_features(cascades, relabelled, 4, folds)
        np.testing.assert_array_equal(again[b], features[b])


def test_out_of_fold_text_probabilities_never_read_their_own_label() -> None:
    texts = ["alpha beta claim", "alpha beta claim", "gamma delta story", "gamma delta story"]
    texts += ["unique words here", "more unique words"]
    labels = np.array([1, 1, 2, 2, 1, 2])
    encoder = TextEncoder.fit(texts, labels, 4, dims=2)
    folds = [np.array([0, 2, 4]), np.array([1, 3, 5])]
    features = encoder.out_of_fold(texts, labels, folds)
    assert features.shape == (6, 6)
    for b in range(len(texts)):
        relabelled = labels.copy()
        relabelled[b] = 0
        again = encoder.out_of_fold(texts, relabelled, folds)
        np.testing.assert_allclose(again[b, :4], features[b, :4])
    # a near-duplicate in the other fold carries the class; SVD columns are the encoder's
    assert features[0, :4].argmax() == 1 and features[2, :4].argmax() == 2
    np.testing.assert_allclose(features[:, 4:], encoder.transform(texts)[:, 4:], rtol=1e-6)
    back = TextEncoder.from_plain(encoder.to_plain())
    np.testing.assert_allclose(back.transform(texts), encoder.transform(texts), rtol=1e-6)
    np.testing.assert_allclose(encoder.transform([None])[0, 4:], 0.0)


def test_tfidf_is_scikit_learns_sublinear_tfidf() -> None:
    train = ["the cat sat on the mat", "the dog sat", "a cat and a dog", "the mat the mat"]
    test = ["the cat and the dog", "nothing known", None]
    model = TfidfModel.fit(train)
    reference = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True).fit(train)
    assert model.vocabulary == reference.vocabulary_
    expected = reference.transform([t or "" for t in test]).toarray()
    np.testing.assert_allclose(model.transform(test).toarray(), expected, atol=1e-12)
    with pytest.raises(ValueError, match="hold no words"):
        TfidfModel.fit(["", None])


def test_claims_join_near_duplicates_transitively() -> None:
    texts = [
        "breaking the president resigned today URL",
        "breaking the president resigned today URL via news",
        "the president resigned today says news via",
        "a shark swims down the flooded highway",
        None,
        "",
    ]
    groups = claim_groups(texts, threshold=0.5)
    assert groups[0] == groups[1] == groups[2]
    assert len({groups[0], groups[3], groups[4], groups[5]}) == 4
    # at a threshold of 1 only identical posts join
    strict = claim_groups([*texts[:2], texts[0]], threshold=1.0)
    assert strict[0] == strict[2] != strict[1]
    with pytest.raises(ValueError, match=r"threshold must lie in \(0, 1\]"):
        claim_groups(texts, threshold=0)


def test_group_folds_keep_every_claim_on_one_side() -> None:
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 40, 200)
    labels = groups % 4  # a claim has one class
    folds = group_folds(labels, groups, 5, seed=0)
    assert sorted(np.concatenate(folds).tolist()) == list(range(200))
    per_fold = [np.unique(groups[fold]).size for fold in folds]
    assert sum(per_fold) == np.unique(groups).size  # no group in two folds
    for split in group_cross_validation_splits(labels, groups, 5, seed=0, val_fraction=0.2):
        sides = [set(groups[part].tolist()) for part in (split.train, split.val, split.test)]
        assert not (sides[0] & sides[1] or sides[0] & sides[2] or sides[1] & sides[2])
    with pytest.raises(ValueError, match="cannot split 3 groups into 5 folds"):
        group_folds(np.arange(6) % 2, np.arange(6) % 3, 5, seed=0)


def test_feature_sets_parse_and_demand_their_data() -> None:
    assert parse_feature_set("all") == ("structure", "users", "text")
    assert parse_feature_set("text+users") == ("users", "text")
    with pytest.raises(ValueError, match="unknown feature set 'words'"):
        parse_feature_set("words")
    bare = generate(8, seed=0, size_scale=0.05, content=None)
    assert not bare.has_users and not bare.has_text
    train = np.arange(8)
    with pytest.raises(ValueError, match="--features users needs the user id of every post"):
        CascadeFeaturizer.fit(bare, train, ("users",))
    with pytest.raises(ValueError, match="--features text needs source-post texts"):
        CascadeFeaturizer.fit(bare, train, ("text",))


def test_featurizer_builds_each_feature_set() -> None:
    data = generate(24, seed=1, size_scale=0.05)
    train = np.arange(16)
    for spec, width, graph_width in [
        ("structure", 7, None),
        ("users", 6, None),
        ("text", 1, 4 + 3),
        ("all", 13, 4 + 3),
    ]:
        featurizer = CascadeFeaturizer.fit(data, train, parse_feature_set(spec), text_dims=3)
        graphs = featurizer.graphs(data.cascades[16:], hours=0.5)
        assert graphs[0].x.shape[1] == width == len(featurizer.node_feature_names())
        graph_x = getattr(graphs[0], "graph_x", None)
        assert (graph_x.shape[1] if graph_x is not None else None) == graph_width
        assert graphs[0].num_nodes <= data.cascades[16].num_nodes
        again = CascadeFeaturizer.from_plain(featurizer.to_plain())
        for a, b in zip(graphs, again.graphs(data.cascades[16:], hours=0.5)):
            assert a.x.tolist() == b.x.tolist()
    text_only = CascadeFeaturizer.fit(data, train, ("text",), text_dims=3)
    assert text_only.node_feature_names() == ("constant",)


def test_synthetic_content_keeps_the_trees_and_carries_signal() -> None:
    with_content = generate(40, seed=3, size_scale=0.05)
    without = generate(40, seed=3, size_scale=0.05, content=None)
    for a, b in zip(with_content.cascades, without.cascades):
        np.testing.assert_array_equal(a.parent, b.parent)
        assert a.users.shape == (a.num_nodes,) and a.text
    assert with_content.has_users and with_content.has_text
    data = CascadeSet(with_content.cascades, with_content.classes)
    # a class's partisans post only in that class
    first_partisan = 5000
    owners: dict[str, set[str]] = {}
    for cascade in data.cascades:
        for user in cascade.users:
            if int(user) >= first_partisan:
                owners.setdefault(user, set()).add(cascade.label)
    assert owners and all(len(labels) == 1 for labels in owners.values())
