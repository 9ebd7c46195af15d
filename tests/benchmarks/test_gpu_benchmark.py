"""``benchmarks/gpu.py`` runs end to end at tiny sizes on the CPU, so it cannot rot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gnnkit.ops import available_backends
from gnnkit.ops.scatter import REDUCTIONS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "gpu.py"


def test_gpu_benchmark_smoke(tmp_path):
    command = [sys.executable, str(SCRIPT), "--device", "cpu", "--smoke", "--workers", "0"]
    command += ["--threads", "1", "--out", str(tmp_path / "out")]
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    environment = {**os.environ, "GNNKIT_CACHE": str(tmp_path / "cache"), "PYTHONPATH": path}
    run = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["device"] == "cpu" and results["sizes"]["lines"] == 200
    assert results["training_molecules_per_second"]["gnnkit"] > 0
    assert results["screening_molecules_per_second"] > 0
    assert set(results["scatter_ms"]) == set(available_backends())
    assert all(set(row) == set(REDUCTIONS) for row in results["scatter_ms"].values())
    assert "| backend | sum | mean | max | min |" in run.stdout
