"""The local engine: featurization in worker processes, pipelined with prediction.

With one predictor (the default on a GPU), while this process predicts chunk *i*, ``workers``
forked processes featurize the chunks after it. The predicting process leaves the workers their
cores: it runs at most ``CPUs − workers`` torch threads (never more than it had), as
oversubscribed OpenMP threads stall each other. With ``predictors`` P > 1 (by default on a CPU,
one per core, see :func:`choose_predictors`), P forked processes each featurize *and* predict
whole chunks with one torch thread, and this process only reads and ranks: on a CPU, where
prediction costs more than featurization, no core then waits for the other.

Either way at most a few chunks per process wait, so memory stays flat however long the library
is, and every molecule gets the same prediction. Workers ignore Ctrl-C: the interrupt reaches
this process alone, which stops the pool and keeps the hits found so far.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from itertools import islice
from multiprocessing.pool import AsyncResult
from typing import Any

import pandas as pd
import torch

from gnnkit.data.molecules.table import DataFileError
from gnnkit.forking import fork_pool
from gnnkit.train import Ensemble
from gnnkit.workflows.screen.pipeline import (
    FeaturizedChunk,
    ScreenedBlock,
    featurize_chunk,
    predict_chunk,
    split_results,
)
from gnnkit.workflows.screen.plan import ScreenPlan


def _in_order(
    chunks: Iterable[pd.DataFrame],
    processes: int,
    work: Callable[[pd.DataFrame], Any],
    initializer: Callable[..., None] | None = None,
    initargs: tuple = (),
) -> Iterator[Any]:
    """``work(chunk)`` for every chunk, in order, by ``processes`` forked processes working at
    most ``processes + 1`` chunks ahead of the consumer. When the file cannot be read further
    (a :class:`~gnnkit.data.molecules.table.DataFileError`), the chunks read before are still
    worked, then the error is raised."""
    pool = fork_pool(processes, initializer, initargs)
    pending: deque[AsyncResult] = deque()
    unreadable: DataFileError | None = None
    try:
        try:
            for chunk in chunks:
                pending.append(pool.apply_async(work, (chunk,)))
                if len(pending) > processes:
                    yield pending.popleft().get()
        except DataFileError as error:
            unreadable = error
        while pending:
            yield pending.popleft().get()
        if unreadable is not None:
            raise unreadable
    finally:
        pool.terminate()
        pool.join()


def featurized_chunks(
    chunks: Iterable[pd.DataFrame],
    featurizer: dict[str, Any],
    workers: int,
    columns: Mapping[str, str] | None = None,
) -> Iterator[FeaturizedChunk]:
    """Every chunk featurized (see :func:`featurize_chunk` for ``columns``), in order: here
    when ``workers`` is 0, else by that many worker processes working ahead of the consumer."""
    work = partial(featurize_chunk, featurizer=featurizer, columns=columns)
    if workers == 0:
        return (work(chunk) for chunk in chunks)
    return _in_order(chunks, workers, work)


#: What a predictor process screens with (set once, in the process, by :func:`_start_predictor`).
_PREDICTOR: dict[str, Any] = {}


def _start_predictor(
    ensemble: Ensemble,
    featurizer: dict[str, Any],
    batch_size: int,
    columns: Mapping[str, str] | None = None,
) -> None:
    torch.set_num_threads(1)
    _PREDICTOR.update(
        ensemble=ensemble, featurizer=featurizer, batch_size=batch_size, columns=columns
    )


def _screen_in_predictor(chunk: pd.DataFrame) -> ScreenedBlock:
    featurized = featurize_chunk(chunk, _PREDICTOR["featurizer"], _PREDICTOR["columns"])
    results = predict_chunk(_PREDICTOR["ensemble"], featurized, _PREDICTOR["batch_size"], "cpu")
    return split_results(results)


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity mask where the system has one, else all."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def default_predictors(device: str, cpus: int, threads: int) -> int:
    """Predictor processes of a local screen that sets none: 1 on a GPU (one process feeds it,
    ``workers`` featurize beside it); on a CPU one per core this process may use, ``cpus``, but
    no more than torch's thread count ``threads`` (which ``OMP_NUM_THREADS`` or
    ``torch.set_num_threads`` may have lowered): each predictor runs one torch thread, so
    together they use the cores that one process's torch would."""
    if torch.device(device).type != "cpu":
        return 1
    return max(1, min(cpus, threads))


def choose_predictors(
    requested: int | None, device: str, chunks: Iterable[pd.DataFrame]
) -> tuple[int, Iterator[pd.DataFrame]]:
    """How many predictor processes screen ``chunks`` on ``device``, and the chunks.

    ``requested`` when given; else :func:`default_predictors` for this process's CPUs and
    torch threads, but no more than the library has chunks (a small library is not worth the
    start of idle processes): up to that many chunks are read ahead to count them. The chunks
    come back in order, the ones read ahead first; a library that cannot be read further
    still yields the chunks read before, then raises its
    :class:`~gnnkit.data.molecules.table.DataFileError`.
    """
    if requested is not None:
        return requested, iter(chunks)
    most = default_predictors(device, usable_cpus(), torch.get_num_threads())
    rest = iter(chunks)
    ahead: list[pd.DataFrame] = []
    unreadable: DataFileError | None = None
    try:
        for chunk in islice(rest, most):
            ahead.append(chunk)
    except DataFileError as error:
        unreadable = error
    return max(1, len(ahead)), _replay(ahead, unreadable, rest)


def _replay(
    ahead: list[pd.DataFrame], unreadable: DataFileError | None, rest: Iterator[pd.DataFrame]
) -> Iterator[pd.DataFrame]:
    """``ahead``, then ``unreadable`` raised if the library ended there, else ``rest``."""
    yield from ahead
    if unreadable is not None:
        raise unreadable
    yield from rest


@contextmanager
def _torch_threads_beside(workers: int) -> Iterator[None]:
    """Torch runs at most ``CPUs − workers`` threads here (at least 1), then as before."""
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, min(before, usable_cpus() - workers)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def local_blocks(plan: ScreenPlan) -> Iterator[ScreenedBlock]:
    """Every chunk of the library predicted on this machine, as candidates and invalid rows."""
    device, workers = plan.device, plan.config.workers
    batch_size = plan.batch_size(device)
    plan.ensemble.to(device)
    predictors, chunks = choose_predictors(plan.config.predictors, device, plan.stream)
    if predictors > 1:
        if torch.device(device).type != "cpu":
            raise ValueError(f"predictors > 1 runs on the CPU only, not on {device}")
        # The forked processes inherit the model; nothing is pickled but chunks and results.
        start = (plan.ensemble, plan.featurizer, batch_size, plan.molecule_columns)
        yield from _in_order(chunks, predictors, _screen_in_predictor, _start_predictor, start)
        return
    with _torch_threads_beside(workers):
        for chunk in featurized_chunks(chunks, plan.featurizer, workers, plan.molecule_columns):
            yield split_results(predict_chunk(plan.ensemble, chunk, batch_size, device))
