"""End-to-end training on synthetic graphs with known answers, artefacts, reproducibility and
resuming."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import lightning as L
import numpy as np
import pandas as pd
import pytest
import torch
from known_answers import cycle_classification, cycle_multiclass, cycle_regression
from torch import nn

from gnnkit.models import GraphGIN, build_model
from gnnkit.train import TrainConfig, TrainResult, fit, load_model
from gnnkit.train.metrics import UNCERTAINTY_METRICS

pytestmark = pytest.mark.slow

FAST = {"batch_size": 32, "init_lr": 1e-3, "max_lr": 1e-2, "final_lr": 1e-3, "progress": "none"}
TIMINGS = ("train_seconds", "train_samples_per_second")


def gin(outputs: int, **hparams: object) -> nn.Module:
    torch.manual_seed(0)
    return build_model(
        "gin",
        {
            "in_channels": 1,
            "out_channels": outputs,
            "hidden_channels": 32,
            "num_layers": 2,
            **hparams,
        },
    )


def without_timings(metrics: dict) -> dict:
    return {key: value for key, value in metrics.items() if key not in TIMINGS}


@pytest.fixture(scope="module")
def regression(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """Three exact counts (cycles, nodes, edges), 30% of labels missing."""
    graphs = cycle_regression(400, seed=0, missing=0.3)
    config = TrainConfig(epochs=30, task_names=["cycles", "nodes", "edges"], **FAST)
    out = tmp_path_factory.mktemp("regression")
    return fit(gin(3), graphs[:240], graphs[240:320], graphs[320:], config, out)


def test_regression_learns_the_cycle_count(regression: TrainResult) -> None:
    metrics = regression.metrics
    assert metrics["task"] == "regression" and metrics["splits"] == {
        "train": 240,
        "val": 80,
        "test": 80,
    }
    assert metrics["test"]["per_task"]["cycles"]["r2"] > 0.9
    assert metrics["test"]["per_task"]["cycles"]["rmse"] < 0.5
    assert all(scores["r2"] > 0.4 for scores in metrics["test"]["per_task"].values())


def test_regression_artefacts(regression: TrainResult) -> None:
    out, metrics = regression.out_dir, regression.metrics
    assert json.loads((out / "metrics.json").read_text()) == metrics
    assert set(metrics) >= {"task", "splits", "train", "val", "test", "epochs", *TIMINGS, "seed"}
    assert set(metrics["test"]) == {
        "rmse",
        "mae",
        "r2",
        *UNCERTAINTY_METRICS["regression"],
        "per_task",
    }
    assert metrics["test"]["nll"] is None  # a squared-error model predicts no variance
    assert not (out / "reliability.png").exists() and "reliability" not in regression.files
    assert metrics["train_samples_per_second"] == pytest.approx(
        240 * metrics["epochs"] / metrics["train_seconds"]
    )
    for name in ("learning_curve.png", "parity.png"):
        assert (out / name).read_bytes().startswith(b"\x89PNG")

    test = cycle_regression(400, seed=0, missing=0.3)[320:]
    frame = pd.read_csv(out / "test_predictions.csv")
    assert list(frame["id"]) == [g.id for g in test]
    targets = torch.cat([g.y for g in test])
    assert np.array_equal(frame["nodes_target"].isna(), torch.isnan(targets[:, 1]).numpy())
    reloaded = load_model(out / "model.pt").predict(test)
    assert np.allclose(
        frame[["cycles_pred", "nodes_pred", "edges_pred"]].to_numpy(), reloaded.numpy(), atol=1e-5
    )
    assert torch.allclose(reloaded, regression.trained.predict(test))
    assert torch.load(out / "model.pt", weights_only=True)["scaler"]["mean"][1] == pytest.approx(
        np.nanmean(
            torch.cat([g.y for g in cycle_regression(400, seed=0, missing=0.3)[:240]])[:, 1].numpy()
        )
    )

    epochs = pd.read_csv(out / "epochs.csv")
    assert list(epochs["epoch"]) == list(range(1, metrics["epochs"] + 1))
    best = epochs.loc[epochs["val_rmse"].idxmin()]
    assert metrics["best_epoch"] == best["epoch"]  # the best validation checkpoint was scored
    assert metrics["val"]["rmse"] == pytest.approx(best["val_rmse"], rel=1e-5)
    assert (
        torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)["epoch"]
        == metrics["epochs"] - 1
    )


def test_binary_classification_with_missing_labels_and_weights(tmp_path: Path) -> None:
    graphs = cycle_classification(400, seed=1, missing=0.2)
    for index, graph in enumerate(graphs):
        graph.weight = 1.0 + index % 2
    # the test split keeps small graphs only: its "large" task holds a single class
    test = [g for g in graphs[320:] if g.y[0, 1] != 1]
    config = TrainConfig(
        task="binary", task_names=["has_cycle", "large"], class_balance=True, epochs=20, **FAST
    )
    result = fit(gin(2), graphs[:240], graphs[240:320], test, config, tmp_path)
    scores = result.metrics["test"]["per_task"]
    assert scores["has_cycle"]["accuracy"] >= 0.95 and scores["has_cycle"]["roc_auc"] >= 0.98
    assert scores["large"]["roc_auc"] is None and scores["large"]["prc_auc"] is None
    assert result.metrics["test"]["roc_auc"] == scores["has_cycle"]["roc_auc"]
    assert result.metrics["val"]["per_task"]["large"]["roc_auc"] > 0.9
    assert '"roc_auc": null' in (tmp_path / "metrics.json").read_text()
    assert (tmp_path / "roc.png").read_bytes().startswith(b"\x89PNG")


def test_multiclass_classification(tmp_path: Path) -> None:
    graphs = cycle_multiclass(400, seed=2)
    config = TrainConfig(task="multiclass", epochs=20, **FAST)
    result = fit(gin(3), graphs[:240], graphs[240:320], graphs[320:], config, tmp_path)
    assert result.metrics["tasks"] == ["task0"] and result.trained.task.n_classes == 3
    assert result.metrics["test"]["accuracy"] >= 0.9 and result.metrics["test"]["macro_f1"] >= 0.9
    assert result.metrics["monitor"] == "val_accuracy"
    frame = pd.read_csv(tmp_path / "test_predictions.csv")
    assert (frame["task0_pred"] == frame["task0_target"]).mean() == pytest.approx(
        result.metrics["test"]["accuracy"]
    )


SMALL = cycle_regression(120, seed=3, missing=0.2)
SMALL_CONFIG = TrainConfig(epochs=8, patience=3, seed=7, **FAST)


def small_run(out: Path, config: TrainConfig = SMALL_CONFIG, callbacks: tuple = ()) -> TrainResult:
    model = gin(3, dropout=0.3)
    return fit(model, SMALL[:80], SMALL[80:100], SMALL[100:], config, out, callbacks=callbacks)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    # module fixtures start before the per-test one-thread pin of conftest, and a run on two
    # threads sums in another order: pin here too, so that reruns can match it bit for bit
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return small_run(tmp_path_factory.mktemp("reference"))
    finally:
        torch.set_num_threads(threads)


def test_same_data_seed_and_settings_give_identical_metrics(
    reference: TrainResult, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    again = small_run(tmp_path, replace(SMALL_CONFIG, progress="lines"))
    assert without_timings(again.metrics) == without_timings(reference.metrics)
    lines = capsys.readouterr().err.splitlines()
    epoch_lines = [line for line in lines if line.startswith("epoch ")]
    assert len(epoch_lines) == again.metrics["epochs"]
    assert epoch_lines[0].startswith("epoch 1/8  train_loss ") and " val_rmse " in epoch_lines[0]


class StopAt(L.Callback):
    """Kills the run as epoch ``epoch`` (0-based) starts, after the previous one was saved."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch == self.epoch:
            raise RuntimeError("killed")


def test_a_killed_run_resumes_to_the_same_end(reference: TrainResult, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="killed"):
        small_run(tmp_path, callbacks=(StopAt(3),))
    assert torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)["epoch"] == 2
    assert (
        len(pd.read_csv(tmp_path / "epochs.csv")) == 3 and not (tmp_path / "metrics.json").exists()
    )

    resumed = small_run(tmp_path, replace(SMALL_CONFIG, resume=True))
    assert without_timings(resumed.metrics) == without_timings(reference.metrics)
    log, reference_log = (
        pd.read_csv(d / "epochs.csv").drop(columns="train_seconds")
        for d in (tmp_path, reference.out_dir)
    )
    pd.testing.assert_frame_equal(log, reference_log)


def test_resume_guards(reference: TrainResult, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"last\.ckpt does not exist"):
        small_run(tmp_path, replace(SMALL_CONFIG, resume=True))
    with pytest.raises(FileExistsError, match=r"already holds a run.*resume=True"):
        small_run(reference.out_dir)
    with pytest.raises(ValueError, match=r"cannot resume .* epochs: 8 -> 9"):
        small_run(reference.out_dir, replace(SMALL_CONFIG, resume=True, epochs=9))


def test_early_stopping_keeps_the_best_epoch(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    graphs = cycle_regression(100, seed=4)
    for graph in graphs:  # noise: validation error rises as the model memorises the training set
        graph.y = torch.tensor([[rng.normal()]], dtype=torch.float)
    config = TrainConfig(
        epochs=40, patience=2, batch_size=16, max_lr=0.02, init_lr=0.02, final_lr=0.02
    )
    result = fit(
        gin(1, hidden_channels=64),
        graphs[:60],
        graphs[60:80],
        graphs[80:],
        replace(config, progress="none"),
        tmp_path,
    )
    metrics = result.metrics
    assert metrics["epochs"] < 40 and metrics["epochs"] == metrics["best_epoch"] + 2
    log = pd.read_csv(tmp_path / "epochs.csv")
    assert metrics["val"]["rmse"] == pytest.approx(log["val_rmse"].min(), rel=1e-5)


class GradientNorms(L.Callback):
    def __init__(self) -> None:
        self.norms: list[float] = []

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, *args: object
    ) -> None:
        grads = [p.grad for p in pl_module.parameters() if p.grad is not None]
        self.norms.append(torch.nn.utils.get_total_norm(grads).item())


def test_gradients_are_clipped(tmp_path: Path) -> None:
    norms = GradientNorms()
    config = replace(SMALL_CONFIG, epochs=2, grad_clip=0.01)
    small_run(tmp_path, config, callbacks=(norms,))
    assert len(norms.norms) == 2 * math.ceil(80 / 32)
    assert max(norms.norms) == pytest.approx(0.01, rel=1e-3)


def test_bad_inputs_are_explained(tmp_path: Path) -> None:
    splits = (SMALL[:80], SMALL[80:100], SMALL[100:])
    with pytest.raises(ValueError, match=r"maps a batch of 2 graphs to \[2, 2\].*needs \[2, 3\]"):
        fit(gin(2), *splits, SMALL_CONFIG, tmp_path)
    with pytest.raises(TypeError, match="build_model"):
        fit(GraphGIN(1, 3), *splits, SMALL_CONFIG, tmp_path)
    with pytest.raises(ValueError, match="the train split: binary labels must be integers"):
        fit(gin(3), *splits, replace(SMALL_CONFIG, task="binary", monitor=None), tmp_path)
    with pytest.raises(ValueError, match="unknown monitor metric 'accuracy' for a regression task"):
        fit(gin(3), *splits, replace(SMALL_CONFIG, monitor="accuracy"), tmp_path)
    assert not any(tmp_path.iterdir())
