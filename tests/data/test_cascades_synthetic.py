"""The calibrated synthetic generator: seeded, fast, class statistics in the measured order,
and a calibration that recovers its own parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gnnkit.data.cascades import TWITTER15, calibrate, class_summary, generate


def test_generation_is_seeded_and_balanced() -> None:
    a, b = generate(16, seed=5, size_scale=0.1), generate(16, seed=5, size_scale=0.1)
    for x, y in zip(a.cascades, b.cascades):
        np.testing.assert_array_equal(x.parent, y.parent)
        np.testing.assert_array_equal(x.delay, y.delay)
    other = generate(16, seed=6, size_scale=0.1)
    assert any(x.num_nodes != y.num_nodes for x, y in zip(a.cascades, other.cascades))
    assert a.class_counts() == {"non-rumor": 4, "false": 4, "true": 4, "unverified": 4}
    assert a.classes == ("non-rumor", "false", "true", "unverified")


def test_max_nodes_keeps_the_first_posts_in_time() -> None:
    data = generate(8, seed=0, max_nodes=50)
    assert max(c.num_nodes for c in data.cascades) == 50
    with pytest.raises(ValueError, match="n must be at least 1"):
        generate(0)
    with pytest.raises(ValueError, match="size_scale must be positive"):
        generate(4, size_scale=0)


def test_generated_class_statistics_follow_twitter15() -> None:
    """On Twitter15 non-rumours spread widest and longest, and false rumours are the slowest
    to gather ten posts among true and false (see datasets/cascades.md); so must the
    generator's cascades."""
    summary = class_summary(generate(240, seed=0, size_scale=0.25).cascades, TWITTER15)
    size = {name: row["size (median)"] for name, row in summary.items()}
    breadth = {name: row["max breadth (median)"] for name, row in summary.items()}
    span = {name: row["time span h (median)"] for name, row in summary.items()}
    for name in ("false", "true", "unverified"):
        assert size["non-rumor"] > 1.5 * size[name]
        assert breadth["non-rumor"] > 1.5 * breadth[name]
        assert span["non-rumor"] > span[name]
    assert summary["false"]["hours to 10 (median)"] > summary["true"]["hours to 10 (median)"]


def test_calibration_recovers_the_generating_parameters() -> None:
    scale = 0.25
    fitted = calibrate(generate(200, seed=1, size_scale=scale))
    for name, truth in TWITTER15.items():
        got = fitted[name]
        assert got.root_log_mean == pytest.approx(truth.root_log_mean + math.log(scale), abs=0.2)
        assert got.repost_share == pytest.approx(truth.repost_share, abs=0.03)
        assert got.delay_log_mean == pytest.approx(truth.delay_log_mean, abs=0.6)
        assert got.delay_within_sd == pytest.approx(truth.delay_within_sd, abs=0.3)


def test_calibration_needs_timing() -> None:
    from gnnkit.data.cascades import UPFD_CLASSES, Cascade, CascadeSet

    untimed = CascadeSet([Cascade("a", np.array([-1, 0]), label="real")], UPFD_CLASSES)
    with pytest.raises(ValueError, match="needs re-post delays"):
        calibrate(untimed)
