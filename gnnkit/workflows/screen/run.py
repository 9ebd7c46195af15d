"""``screen_library``: stream a library through a model, keep the top-K, write the hits."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from gnnkit.data.molecules.dataset import InvalidRow, write_invalid_rows
from gnnkit.data.molecules.table import DataFileError
from gnnkit.workflows.molecules.columns import add_models_used
from gnnkit.workflows.screen.config import ScreenConfig
from gnnkit.workflows.screen.local import local_blocks
from gnnkit.workflows.screen.pipeline import ScreenedBlock
from gnnkit.workflows.screen.plan import ScreenPlan


@dataclass(slots=True)
class ScreenResult:
    """The outcome of a screen.

    Attributes:
        hits: the hits file's contents, best first.
        screened: rows read (all of the library unless interrupted).
        invalid: rows without a prediction (listed in ``invalid_file``).
        seconds: wall time of reading, featurizing and predicting.
        interrupted: stopped by Ctrl-C; ``hits`` are the best of the rows screened.
        out: the hits file.
        invalid_file: ``<out stem>.invalid.csv``, or ``None`` when every row had a prediction.
    """

    hits: pd.DataFrame
    screened: int
    invalid: int
    seconds: float
    interrupted: bool
    out: Path
    invalid_file: Path | None


def invalid_rows_file(out: str | Path) -> Path:
    """Where a screen writing ``out`` lists its invalid rows: ``<stem>.invalid.csv``."""
    out = Path(out)
    return out.with_name(f"{out.stem}.invalid.csv")


def _engine_blocks(plan: ScreenPlan) -> Iterator[ScreenedBlock]:
    if plan.config.engine == "ray":
        from gnnkit.workflows.screen.distributed import ray_blocks

        return ray_blocks(plan)
    return local_blocks(plan)


def screen_library(
    model_dir: str | Path,
    library: str | Path,
    out: str | Path,
    config: ScreenConfig | None = None,
) -> ScreenResult:
    """Predict every molecule of ``library`` with the model(s) in ``model_dir`` and write the
    best ``config.top_k`` to ``out``.

    The library (``.smi``, ``.csv``, ``.tsv``, optionally ``.gz``) is read in chunks, never
    whole. ``out`` gets, best first: ``rank``, ``row`` (0-based data row), ``smiles``, the
    library's other columns, the prediction columns (with ``_std`` columns for an ensemble), and
    ``max_train_similarity`` and ``nearest_training_smiles`` when the run lists its training
    molecules, and ``models_used`` for a partial run (``config.allow_partial``). Rows whose
    SMILES RDKit rejects are listed in :func:`invalid_rows_file` (row, line, smiles, reason)
    and counted on stderr. Ctrl-C stops the screen and still writes the
    best of the rows screened so far (``ScreenResult.interrupted``); so does a library that
    cannot be read to its end (not UTF-8 text, a truncated or damaged ``.gz``), whose
    :class:`~gnnkit.data.molecules.table.DataFileError` is raised once the hits are written.
    """
    config = config or ScreenConfig()
    plan = ScreenPlan.create(model_dir, library, config)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    invalid_file = invalid_rows_file(out)
    invalid_file.unlink(missing_ok=True)
    top = plan.top_k()
    screened = invalid = 0
    interrupted = False
    unreadable: DataFileError | None = None
    start = time.perf_counter()
    blocks = _engine_blocks(plan)
    bar = tqdm(
        desc=f"screening {Path(library).name}",
        unit=" mol",
        unit_scale=True,
        disable=not config.progress,
        file=sys.stderr,
    )
    try:
        for block in blocks:
            top.offer(block.candidates)
            if len(block.invalid):
                rows = [InvalidRow(*values) for values in block.invalid.itertuples(index=False)]
                write_invalid_rows(rows, invalid_file, append=invalid > 0)
                invalid += len(rows)
            screened += block.screened
            bar.update(block.screened)
            bar.set_postfix(invalid=invalid, refresh=False)
    except KeyboardInterrupt:
        interrupted = True
    except DataFileError as error:  # the library cannot be read further
        unreadable = error
    finally:
        blocks.close()
        bar.close()
    seconds = time.perf_counter() - start
    hits = top.frame(plan.columns)
    add_models_used(hits, plan.ensemble)
    hits.to_csv(out, index=False)
    result = ScreenResult(
        hits, screened, invalid, seconds, interrupted, out, invalid_file if invalid else None
    )
    _report(result, stopped=unreadable is not None)
    if unreadable is not None:
        raise unreadable
    return result


def _report(result: ScreenResult, stopped: bool = False) -> None:
    """The screen's summary on stderr; ``stopped``: by a library it could not read further."""
    rate = result.screened / result.seconds if result.seconds > 0 else 0.0
    lines = [
        f"screened {result.screened:,} molecules in {result.seconds:.1f} s ({rate:,.0f}/s); "
        f"wrote the best {len(result.hits)} to {result.out}"
    ]
    if result.invalid:
        lines.append(
            f"{result.invalid:,} rows could not be featurized (RDKit rejects the SMILES, or "
            "cannot embed a conformer); "
            f"they are listed with the reason in {result.invalid_file}"
        )
    if result.interrupted or stopped:
        why = "interrupted" if result.interrupted else "stopped by the error below"
        lines.append(
            f"{why}: only the first {result.screened:,} rows were screened, and "
            f"{result.out} holds the best of those"
        )
    print("\n".join(lines), file=sys.stderr)
