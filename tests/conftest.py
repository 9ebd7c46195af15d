"""Shared fixtures: scatter backends and devices to run over, one torch thread per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from gnnkit.ops import available_backends, torch_scatter_available, use_backend

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
#: Every installed backend forced for all reductions, and "auto" (which mixes them) when it
#: differs from both.
BACKEND_CHOICES = available_backends() + (["auto"] if torch_scatter_available() else [])


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Tests run single-threaded: their tiny models gain nothing from threads, and on a busy
    machine torch's thread pool stalls."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(params=BACKEND_CHOICES)
def scatter_backend(request: pytest.FixtureRequest):
    """Runs the test once per installed scatter backend."""
    with use_backend(request.param) as backend:
        yield backend


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> torch.device:
    """Runs the test on the CPU, and on CUDA when a GPU is present."""
    return torch.device(request.param)
