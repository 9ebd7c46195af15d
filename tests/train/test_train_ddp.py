"""Two-process DDP training on the CPU (gloo), launched as a user would: a script, given
``--accelerator cpu --devices 2 --strategy ddp``, that Lightning re-runs in a second process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from known_answers import cycle_regression

from gnnkit.models import build_model
from gnnkit.train import TrainConfig, fit

pytestmark = pytest.mark.slow

HPARAMS = {"in_channels": 1, "out_channels": 3, "hidden_channels": 32, "num_layers": 2}
SETTINGS = {"epochs": 15, "init_lr": 1e-3, "max_lr": 1e-2, "final_lr": 1e-3, "seed": 0}
SCRIPT = """
import argparse
import sys

sys.path.insert(0, {tests!r})
import torch
from known_answers import cycle_regression
from gnnkit.models import build_model
from gnnkit.train import add_config_arguments, config_from_arguments, fit

parser = argparse.ArgumentParser()
parser.add_argument("out")
add_config_arguments(parser)
arguments = parser.parse_args()
torch.set_num_threads(1)
graphs = cycle_regression(400, seed=0)
torch.manual_seed(0)
model = build_model("gin", {hparams!r})
config = config_from_arguments(arguments)
fit(model, graphs[:240], graphs[240:320], graphs[320:], config, arguments.out)
"""


def test_ddp_on_two_cpu_processes_learns_like_one_process(tmp_path: Path) -> None:
    script = tmp_path / "train_ddp.py"
    script.write_text(SCRIPT.format(tests=str(Path(__file__).parent), hparams=HPARAMS))
    flags = [f"--{key.replace('_', '-')}={value}" for key, value in SETTINGS.items()]
    command = [sys.executable, str(script), str(tmp_path / "ddp"), *flags, "--batch-size=16"]
    command += ["--accelerator", "cpu", "--devices", "2", "--strategy", "ddp", "--progress=lines"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((tmp_path / "ddp" / "metrics.json").read_text())
    assert metrics["test"]["per_task"]["task0"]["r2"] > 0.9  # it learned the cycle count
    # one process wrote the log and printed the epoch lines
    log = pd.read_csv(tmp_path / "ddp" / "epochs.csv").set_index("epoch")
    assert len(log) == metrics["epochs"] and done.stderr.count("epoch 1/15 ") == 1
    # validation metrics gathered over both processes equal those of the whole split
    best = log.loc[metrics["best_epoch"], "val_rmse"]
    assert best == pytest.approx(metrics["val"]["rmse"], rel=1e-5)

    # 2 processes x 16 graphs per step take the steps one process takes with 32 graphs
    graphs = cycle_regression(400, seed=0)
    torch.manual_seed(0)
    config = TrainConfig(batch_size=32, progress="none", **SETTINGS)
    model = build_model("gin", HPARAMS)
    single = fit(model, graphs[:240], graphs[240:320], graphs[320:], config, tmp_path / "single")
    assert metrics["test"]["rmse"] == pytest.approx(single.metrics["test"]["rmse"], rel=1e-3)
