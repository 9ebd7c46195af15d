"""Shared fixtures: scatter backends and devices to run over."""

from __future__ import annotations

import pytest
import torch

from gnnkit.ops import available_backends, use_backend

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=available_backends())
def scatter_backend(request: pytest.FixtureRequest):
    """Runs the test once per installed scatter backend."""
    with use_backend(request.param) as backend:
        yield backend


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> torch.device:
    """Runs the test on the CPU, and on CUDA when a GPU is present."""
    return torch.device(request.param)
