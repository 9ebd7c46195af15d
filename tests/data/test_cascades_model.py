"""The cascade data model: canonical order, observation windows, features, graphs, statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch

from gnnkit.data.cascades import (
    Cascade,
    CascadeError,
    CascadeSet,
    cascade_statistics,
    feature_names,
    node_features,
    observe,
    statistic_names,
    to_data,
)

CLASSES = ("non-rumor", "false", "true", "unverified")


def example() -> Cascade:
    """Root at t=0; a (t=5) and b (t=30) re-post it; c (t=40) and d (t=120) re-post a; e (t=40)
    re-posts c. Given in scrambled order."""
    nodes = {
        "root": (None, 0.0),
        "a": ("root", 5.0),
        "b": ("root", 30.0),
        "c": ("a", 40.0),
        "d": ("a", 120.0),
        "e": ("c", 40.0),
    }
    order = ["d", "c", "root", "e", "b", "a"]
    index = {name: i for i, name in enumerate(order)}
    parents = np.array([-1 if nodes[n][0] is None else index[nodes[n][0]] for n in order])
    delays = np.array([nodes[n][1] for n in order])
    return Cascade.from_tree("42", parents, delays, "false")


def test_from_tree_puts_nodes_in_canonical_order() -> None:
    cascade = example()
    # by delay, then depth: root 0, a 5, b 30, c 40 (depth 2), e 40 (depth 3), d 120
    np.testing.assert_array_equal(cascade.delay, [0, 5, 30, 40, 40, 120])
    np.testing.assert_array_equal(cascade.parent, [-1, 0, 0, 1, 3, 1])
    assert (cascade.source_id, cascade.label, cascade.num_nodes) == ("42", "false", 6)


@pytest.mark.parametrize(
    ("parent", "delay", "message"),
    [
        ([0, 0], None, r"parent\[0\] == -1"),
        ([-1, 2, 0], None, r"after its parent"),
        ([-1, 0], [0.0, math.nan], "finite"),
        ([-1, 0, 0], [0.0, 9.0, 3.0], "sorted"),
        ([-1, 0], [1.0, 2.0], "start at 0"),
    ],
)
def test_invalid_cascades_are_refused(parent, delay, message) -> None:
    with pytest.raises(CascadeError, match=message):
        Cascade("x", np.array(parent), None if delay is None else np.array(delay))


def test_from_tree_refuses_two_roots_and_cycles() -> None:
    with pytest.raises(CascadeError, match="one root, found 2"):
        Cascade.from_tree("x", np.array([-1, -1, 0]))
    with pytest.raises(CascadeError, match="cycle"):
        Cascade.from_tree("x", np.array([-1, 2, 1]))


def test_observe_keeps_what_had_happened_by_then() -> None:
    cascade = example()
    assert observe(cascade, None) is cascade
    assert observe(cascade, 0).num_nodes == 1
    early = observe(cascade, 0.7)  # 42 minutes: both posts at t=40 are in
    np.testing.assert_array_equal(early.parent, [-1, 0, 0, 1, 3])
    assert early.label == "false" and early.source_id == "42"
    assert observe(cascade, 1000).num_nodes == 6
    with pytest.raises(ValueError, match=">= 0 hours"):
        observe(cascade, -1)
    untimed = Cascade("u", np.array([-1, 0]))
    with pytest.raises(CascadeError, match="no re-post delays"):
        observe(untimed, 1)


def test_node_features_are_the_documented_values() -> None:
    cascade = example()
    x = node_features(cascade)
    names = feature_names(timed=True)
    assert names == (
        "log_delay",
        "log_gap",
        "log_order",
        "log_depth",
        "log_children",
        "log_subtree",
        "is_root",
    )
    column = {name: x[:, i] for i, name in enumerate(names)}
    np.testing.assert_allclose(column["log_delay"], np.log1p([0, 5, 30, 40, 40, 120]), rtol=1e-6)
    np.testing.assert_allclose(column["log_gap"], np.log1p([0, 5, 30, 35, 0, 115]), rtol=1e-6)
    np.testing.assert_allclose(column["log_order"], np.log1p([0, 1, 2, 3, 3, 5]), rtol=1e-6)
    np.testing.assert_allclose(column["log_depth"], np.log1p([0, 1, 1, 2, 3, 2]), rtol=1e-6)
    np.testing.assert_allclose(column["log_children"], np.log1p([2, 2, 0, 1, 0, 0]), rtol=1e-6)
    np.testing.assert_allclose(column["log_subtree"], np.log([6, 4, 1, 2, 1, 1]), rtol=1e-6)
    np.testing.assert_array_equal(column["is_root"], [1, 0, 0, 0, 0, 0])
    untimed = Cascade("u", cascade.parent)
    assert node_features(untimed).shape == (6, len(feature_names(timed=False))) == (6, 4)


def test_features_count_only_the_observed_window() -> None:
    x = node_features(observe(example(), 0.5))  # root, a (5 min), b (30 min)
    names = feature_names(timed=True)
    np.testing.assert_allclose(x[:, names.index("log_children")], np.log1p([2, 0, 0]), rtol=1e-6)
    np.testing.assert_allclose(x[:, names.index("log_subtree")], np.log([3, 1, 1]), rtol=1e-6)


def test_to_data_builds_a_pyg_graph_with_a_root_pointer() -> None:
    data = to_data(example(), CLASSES)
    assert data.x.shape == (6, 7) and data.x.dtype == torch.float32
    assert data.edge_index.tolist() == [[0, 0, 1, 3, 1], [1, 2, 3, 4, 5]]
    assert data.root_index.tolist() == [0]
    assert data.y.tolist() == [[1.0]] and data.id == "42"
    assert to_data(example(), CLASSES, hours=0.1).num_nodes == 2
    unlabelled = Cascade("u", np.array([-1, 0, 0]), np.array([0.0, 1.0, 2.0]))
    assert math.isnan(to_data(unlabelled, CLASSES).y.item())
    batch = Batch.from_data_list([to_data(unlabelled, CLASSES), to_data(example(), CLASSES)])
    assert batch.root_index.tolist() == [0, 3]  # offset like edge_index


def test_cascade_set_checks_labels_and_timing() -> None:
    with pytest.raises(ValueError, match=r"\['bogus'\] are not among"):
        CascadeSet([Cascade("a", np.array([-1]), label="bogus")], CLASSES)
    mixed = [Cascade("a", np.array([-1]), np.zeros(1)), Cascade("b", np.array([-1]))]
    with pytest.raises(ValueError, match="some cascades have re-post delays"):
        CascadeSet(mixed, CLASSES)
    data = CascadeSet([example(), Cascade("b", np.array([-1]), np.zeros(1), "true")], CLASSES)
    assert data.labels().tolist() == [1, 2]
    assert data.class_counts() == {"non-rumor": 0, "false": 1, "true": 1, "unverified": 0}
    assert len(data.to_graphs(0.1)) == 2


def test_statistics_of_a_star_and_of_the_example() -> None:
    n = 5
    star = Cascade("s", np.array([-1, 0, 0, 0, 0]), np.array([0.0, 6, 12, 60, 600]))
    values = dict(zip(statistic_names(True), cascade_statistics(star)))
    assert values["size"] == n and values["depth"] == 1 and values["max_breadth"] == 4
    assert values["structural_virality"] == pytest.approx(2 * (n - 1) / n)  # Goel et al.
    assert values["root_degree"] == 4 and values["max_degree"] == 0
    assert values["time_span"] == pytest.approx(10.0)
    assert values["median_delay"] == pytest.approx(0.6)  # median of 0.1, 0.2, 1, 10 hours
    assert values["hours_to_10"] == pytest.approx(10.0)  # fewer than 10 nodes: the span
    assert values["growth_rate"] == pytest.approx(4 / 10)
    windowed = dict(zip(statistic_names(True), cascade_statistics(star, horizon_hours=24)))
    assert windowed["hours_to_10"] == 24
    stats = dict(zip(statistic_names(True), cascade_statistics(example())))
    # distances in the example: pairs sum 2 * sum_i s_i (n - s_i) / (n (n - 1))
    assert stats["structural_virality"] == pytest.approx(
        2 * (4 * 2 + 1 * 5 + 2 * 4 + 1 * 5 + 1 * 5) / 30
    )
    assert (stats["depth"], stats["max_breadth"], stats["max_degree"]) == (3, 2, 2)
    assert len(cascade_statistics(Cascade("u", star.parent))) == len(statistic_names(False))
