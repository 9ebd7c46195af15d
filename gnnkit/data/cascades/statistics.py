r"""Hand-made statistics of a cascade: the non-neural baseline's inputs and the numbers the
synthetic generator is calibrated to.

For a cascade of :math:`N` nodes with depths :math:`d_i`, subtree sizes :math:`s_i` and delays
:math:`\tau_i` (hours here):

=========================  ==============================================================
name                       value
=========================  ==============================================================
``size``                   :math:`N`
``depth``                  :math:`\max_i d_i`
``mean_depth``             :math:`\frac1N \sum_i d_i`
``max_breadth``            the most nodes at one depth
``structural_virality``    mean distance between two nodes (Goel et al. 2016),
                           :math:`\frac{2}{N(N-1)} \sum_{i \ne \text{root}} s_i (N - s_i)`
``root_degree``            re-posts of the source itself
``max_degree``             the most children of a re-post (0 if none)
``time_span``              :math:`\max_i \tau_i` (timed only)
``median_delay``           median of :math:`\tau_i` over re-posts (timed only)
``hours_to_10/50/100``     delay of the :math:`k`-th node, or the observation horizon if the
                           cascade has fewer than :math:`k` nodes (timed only)
``growth_rate``            re-posts per hour, :math:`(N-1)/\max(\max_i\tau_i, 1/60)`
                           (timed only)
=========================  ==============================================================
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gnnkit.data.cascades.cascade import Cascade, depths
from gnnkit.data.cascades.features import subtree_sizes

STRUCTURE_STATISTICS: tuple[str, ...] = (
    "size",
    "depth",
    "mean_depth",
    "max_breadth",
    "structural_virality",
    "root_degree",
    "max_degree",
)
TIME_TO_K: tuple[int, ...] = (10, 50, 100)
TIMING_STATISTICS: tuple[str, ...] = (
    "time_span",
    "median_delay",
    *(f"hours_to_{k}" for k in TIME_TO_K),
    "growth_rate",
)


def statistic_names(timed: bool) -> tuple[str, ...]:
    """Names of :func:`cascade_statistics`' entries for a timed or untimed cascade."""
    return (*STRUCTURE_STATISTICS, *TIMING_STATISTICS) if timed else STRUCTURE_STATISTICS


def cascade_statistics(cascade: Cascade, horizon_hours: float | None = None) -> np.ndarray:
    """The statistics of the module table ``[S]`` float64, in :func:`statistic_names` order.

    ``horizon_hours`` is how long the cascade was observed (``None``: its time span); it stands
    in for ``hours_to_k`` when fewer than :math:`k` nodes were seen.
    """
    parent, n = cascade.parent, cascade.num_nodes
    depth = depths(parent)
    size = subtree_sizes(parent, depth)
    children = np.bincount(parent[1:], minlength=n)
    pair_distance = float((size[1:] * (n - size[1:])).sum())
    values = [
        n,
        depth.max(),
        depth.mean(),
        np.bincount(depth).max(),
        2 * pair_distance / (n * (n - 1)) if n > 1 else 0.0,
        children[0],
        children[1:].max() if n > 1 else 0,
    ]
    if cascade.delay is not None:
        hours = cascade.delay / 60.0
        span = float(hours[-1])
        horizon = span if horizon_hours is None else horizon_hours
        values += [
            span,
            float(np.median(hours[1:])) if n > 1 else 0.0,
            *(float(hours[k - 1]) if n >= k else horizon for k in TIME_TO_K),
            (n - 1) / max(span, 1 / 60),
        ]
    return np.asarray(values, dtype=np.float64)


def statistics_matrix(
    cascades: Sequence[Cascade], horizon_hours: float | None = None
) -> np.ndarray:
    """:func:`cascade_statistics` of every cascade, ``[B, S]``."""
    return np.stack([cascade_statistics(c, horizon_hours) for c in cascades])


#: The per-class summary of :func:`class_summary`: (column title, statistic, reduction).
SUMMARY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("size (median)", "size", "median"),
    ("depth (mean)", "depth", "mean"),
    ("max breadth (median)", "max_breadth", "median"),
    ("structural virality (mean)", "structural_virality", "mean"),
    ("time span h (median)", "time_span", "median"),
    ("hours to 10 (median)", "hours_to_10", "median"),
)


def class_summary(
    cascades: Sequence[Cascade], classes: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Per class: the count and the :data:`SUMMARY_COLUMNS` statistics (the timing ones only
    when every cascade is timed)."""
    names = statistic_names(all(c.timed for c in cascades))
    columns = [column for column in SUMMARY_COLUMNS if column[1] in names]
    summary: dict[str, dict[str, float]] = {}
    for name in classes:
        members = [c for c in cascades if c.label == name]
        if not members:
            continue
        matrix = statistics_matrix(members)
        row: dict[str, float] = {"cascades": float(len(members))}
        for title, statistic, reduction in columns:
            column = matrix[:, names.index(statistic)]
            row[title] = float(np.median(column) if reduction == "median" else column.mean())
        summary[name] = row
    return summary


def format_summary(summary: dict[str, dict[str, float]]) -> str:
    """A Markdown table of :func:`class_summary`."""
    titles = list(next(iter(summary.values())))
    lines = [
        "| class | " + " | ".join(titles) + " |",
        "| --- |" + " ---: |" * len(titles),
    ]
    for name, row in summary.items():
        cells = [f"{row[t]:.0f}" if t == "cascades" else f"{row[t]:.2f}" for t in titles]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
