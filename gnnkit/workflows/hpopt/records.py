"""What a search leaves: one record per trial, ``trials.csv``, ``best_config.json``,
``hpopt.json`` and ``trials.png`` (the metric over trials with the best so far)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from gnnkit.train.artefacts import save_figure, write_json

COMPLETE, PRUNED, FAIL = "COMPLETE", "PRUNED", "FAIL"
FILES = {
    "trials": "trials.csv",
    "best_config": "best_config.json",
    "summary": "hpopt.json",
    "plot": "trials.png",
}


@dataclass(slots=True)
class TrialRecord:
    """One trial: ``number`` (from 0, in the order trials started), ``state`` (``COMPLETE``,
    ``PRUNED`` or ``FAIL``), ``params``, ``value`` (the best validation value it reached;
    ``None`` if it reached none), ``started`` (seconds since the epoch), ``seconds`` (its
    duration) and ``error`` (``"Type: message"`` of a failed trial)."""

    number: int
    state: str
    params: dict[str, Any]
    value: float | None
    started: float | None
    seconds: float | None
    error: str | None = None


def best_trial(trials: Sequence[TrialRecord], mode: str) -> TrialRecord | None:
    """The completed trial with the best value (the first of equals), or ``None``."""
    complete = [t for t in trials if t.state == COMPLETE and t.value is not None]
    if not complete:
        return None
    sign = 1 if mode == "min" else -1
    return min(complete, key=lambda t: (sign * t.value, t.number))


def trials_frame(trials: Sequence[TrialRecord], names: Sequence[str]) -> pd.DataFrame:
    """``number, state, value, seconds, started`` (UTC, ISO 8601), one column per tuned
    parameter in ``names``, and ``error``."""
    rows = []
    for t in trials:
        started = (
            datetime.fromtimestamp(t.started, UTC).isoformat(timespec="milliseconds")
            if t.started is not None
            else None
        )
        rows.append(
            {
                "number": t.number,
                "state": t.state,
                "value": t.value,
                "seconds": t.seconds,
                "started": started,
                **{name: t.params.get(name) for name in names},
                "error": t.error,
            }
        )
    columns = ["number", "state", "value", "seconds", "started", *names, "error"]
    return pd.DataFrame(rows, columns=columns)


def write_search(
    out_dir: Path,
    trials: Sequence[TrialRecord],
    names: Sequence[str],
    options: dict[str, Any],
    summary: dict[str, Any],
) -> TrialRecord | None:
    """Write ``trials.csv``, ``trials.png``, ``hpopt.json`` (``summary`` with the best trial)
    and, when a trial completed, ``best_config.json``: ``options`` (the search's ``mol train``
    options) with the best trial's parameters. Returns the best trial."""
    trials_frame(trials, names).to_csv(out_dir / FILES["trials"], index=False)
    best = best_trial(trials, summary["mode"])
    plot_trials(out_dir / FILES["plot"], trials, summary["monitor"], summary["mode"])
    counts = {state: sum(t.state == state for t in trials) for state in (COMPLETE, PRUNED, FAIL)}
    record = {
        **summary,
        "trials": counts,
        "best": None if best is None else {"number": best.number, "value": best.value},
    }
    write_json(out_dir / FILES["summary"], record)
    if best is not None:
        write_json(out_dir / FILES["best_config"], {**options, **best.params})
    return best


def plot_trials(path: Path, trials: Sequence[TrialRecord], monitor: str, mode: str) -> Path:
    """The validation value of every trial (dots; pruned: crosses at the value they had
    reached) and the best completed value so far (a step line)."""
    figure = Figure(figsize=(6, 3.8))
    axes = figure.subplots()
    for state, marker in ((COMPLETE, "o"), (PRUNED, "x")):
        shown = [t for t in trials if t.state == state and t.value is not None]
        axes.scatter(
            [t.number for t in shown], [t.value for t in shown], marker=marker, label=state.lower()
        )
    better = min if mode == "min" else max
    best, steps = math.nan, []
    for t in trials:
        if t.state == COMPLETE and t.value is not None:
            best = t.value if math.isnan(best) else better(best, t.value)
        steps.append(best)
    axes.step([t.number for t in trials], steps, where="post", color="black", label="best so far")
    axes.set(xlabel="trial", ylabel=f"validation {monitor}", title=f"search ({mode}imise)")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(fontsize="small")
    return save_figure(figure, path)
