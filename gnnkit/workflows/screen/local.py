"""The local engine: featurization in worker processes, pipelined with prediction.

While this process predicts chunk *i*, ``workers`` forked processes featurize the chunks after
it; at most ``workers + 1`` chunks wait, so memory stays flat however long the library is.
Workers ignore Ctrl-C: the interrupt reaches this process alone, which stops the pool and
keeps the hits found so far. The predicting process leaves the workers their cores: it runs at
most ``CPUs − workers`` torch threads (never more than it had), as oversubscribed OpenMP
threads stall each other.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from multiprocessing.pool import AsyncResult
from typing import Any

import pandas as pd
import torch

from gnnkit.workflows.screen.pipeline import (
    FeaturizedChunk,
    ScreenedBlock,
    featurize_chunk,
    predict_chunk,
    split_results,
)
from gnnkit.workflows.screen.plan import ScreenPlan


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def featurized_chunks(
    chunks: Iterable[pd.DataFrame], featurizer: dict[str, Any], workers: int
) -> Iterator[FeaturizedChunk]:
    """Every chunk featurized, in order: here when ``workers`` is 0, else by that many worker
    processes working ahead of the consumer."""
    if workers == 0:
        for chunk in chunks:
            yield featurize_chunk(chunk, featurizer)
        return
    pool = multiprocessing.get_context("fork").Pool(workers, initializer=_ignore_interrupts)
    pending: deque[AsyncResult] = deque()
    try:
        for chunk in chunks:
            pending.append(pool.apply_async(featurize_chunk, (chunk, featurizer)))
            if len(pending) > workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
    finally:
        pool.terminate()
        pool.join()


@contextmanager
def _torch_threads_beside(workers: int) -> Iterator[None]:
    """Torch runs at most ``CPUs − workers`` threads here (at least 1), then as before."""
    before = torch.get_num_threads()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(max(1, min(before, (cpus or 1) - workers)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def local_blocks(plan: ScreenPlan) -> Iterator[ScreenedBlock]:
    """Every chunk of the library predicted in this process, as candidates and invalid rows."""
    device, workers = plan.device, plan.config.workers
    batch_size = plan.batch_size(device)
    plan.ensemble.to(device)
    with _torch_threads_beside(workers):
        for chunk in featurized_chunks(plan.stream, plan.featurizer, workers):
            yield split_results(predict_chunk(plan.ensemble, chunk, batch_size, device))
