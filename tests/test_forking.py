"""Forked worker pools end when terminated, whatever SIGTERM handler the parent holds."""

from __future__ import annotations

import signal
import threading

from gnnkit.forking import fork_pool


def _handlers(_: object) -> tuple[object, object]:
    return signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)


def test_workers_take_default_sigterm_and_ignore_sigint():
    saved = signal.signal(signal.SIGTERM, lambda signum, frame: None)  # a handler that stays
    try:
        pool = fork_pool(2)
        assert pool.map(_handlers, range(2)) == [(signal.SIG_DFL, signal.SIG_IGN)] * 2
        pool.terminate()
        joiner = threading.Thread(target=pool.join, daemon=True)
        joiner.start()
        joiner.join(timeout=30)
        assert not joiner.is_alive(), "a worker survived Pool.terminate()"
    finally:
        signal.signal(signal.SIGTERM, saved)


def test_initializer_runs_after_the_signals_are_set():
    with fork_pool(1, signal.signal, (signal.SIGINT, signal.default_int_handler)) as pool:
        assert pool.apply(_handlers, (0,))[1] is signal.default_int_handler
