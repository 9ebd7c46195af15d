"""Early detection: how well cascades are told apart after a few hours, as a curve."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from gnnkit.train.artefacts import save_figure


def parse_hours(values: Sequence[str]) -> list[float | None]:
    """Observation windows from the command line: positive hours, or ``all`` (``None``)."""
    windows: list[float | None] = []
    for value in values:
        if value == "all":
            windows.append(None)
            continue
        try:
            hours = float(value)
        except ValueError:
            raise ValueError(f"observation window {value!r} is neither hours nor 'all'") from None
        if not (math.isfinite(hours) and hours > 0):
            raise ValueError(f"observation window must be positive hours, got {value!r}")
        windows.append(hours)
    return windows


def _mean_and_spread(score: Any) -> tuple[float, float]:
    return (score["mean"], score["std"]) if isinstance(score, dict) else (float(score), 0.0)


def plot_early_detection(
    curves: Mapping[str, Sequence[Mapping[str, Any]]],
    path: str | os.PathLike,
    metric: str = "accuracy",
) -> Path:
    """Plot test ``metric`` (mean ± sd over folds) against the observation window.

    ``curves`` maps a label (e.g. a model name) to ``early_detection`` entries
    ``{"hours": h or None, "test": {metric: ...}}``; ``None`` (the whole cascade) is drawn
    right of the longest window and labelled "all". Drawn without ``pyplot``, so it leaves
    matplotlib's backend (e.g. a notebook's inline plots) alone.
    """
    finite = [e["hours"] for entries in curves.values() for e in entries if e["hours"] is not None]
    all_at = 2 * max(finite) if finite else 1.0
    figure = Figure(figsize=(6, 4))
    axes = figure.subplots()
    for label, entries in curves.items():
        ordered = sorted(entries, key=lambda e: all_at if e["hours"] is None else e["hours"])
        xs = [all_at if e["hours"] is None else e["hours"] for e in ordered]
        means, spreads = zip(*(_mean_and_spread(e["test"][metric]) for e in ordered))
        axes.errorbar(xs, means, yerr=spreads, marker="o", capsize=3, label=label)
    ticks = [*sorted(set(finite)), all_at]
    axes.set_xscale("log")
    axes.set_xticks(ticks, [f"{t:g}" for t in ticks[:-1]] + ["all"])
    axes.minorticks_off()
    axes.set_xlabel("hours observed after the source post")
    axes.set_ylabel(f"test {metric.replace('_', '-')}")
    axes.grid(alpha=0.3)
    axes.legend()
    return save_figure(figure, Path(path))
