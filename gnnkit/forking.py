"""Pools of forked worker processes that end when told to.

A forked worker inherits the parent's Python signal handlers. Some libraries leave one for
SIGTERM behind (Ray's driver keeps its handler after ``ray.shutdown()``), and a worker
blocked on the pool's task queue then survives ``Pool.terminate()``, so the parent waits for
it forever. :func:`fork_pool`'s workers restore SIGTERM's default action, so ``terminate()``
ends them, and ignore SIGINT, which the parent handles (one Ctrl-C stops the command once).
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable
from multiprocessing.pool import Pool
from typing import Any


def _start_worker(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer is not None:
        initializer(*initargs)


def fork_pool(
    processes: int,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
) -> Pool:
    """A ``multiprocessing`` pool of ``processes`` forked workers, each running
    ``initializer(*initargs)`` after setting its signals (see the module docstring)."""
    context = multiprocessing.get_context("fork")
    return context.Pool(processes, _start_worker, (initializer, initargs))
