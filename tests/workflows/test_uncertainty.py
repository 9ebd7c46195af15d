"""Uncertainty end to end: ``mol train --loss mve --calibration conformal``, ``predict`` with
intervals, ``screen --rank-by lower``, evidential ensembles, folds, and classification."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rdkit
import torch
from torch_geometric.data import Batch

from gnnkit.cli.main import main
from gnnkit.data.molecules.catalog import embedded_chembl
from gnnkit.train import TrainConfig, load_model
from gnnkit.train.calibration import gaussian_quantile
from gnnkit.train.metrics import UNCERTAINTY_METRICS
from gnnkit.workflows.molecules import MoleculeTrainConfig, predict_molecules, train_molecules
from gnnkit.workflows.screen import ScreenConfig, screen_library

NCI = Path(rdkit.__file__).parent / "Data" / "NCI" / "first_5K.smi"
TINY = ["--epochs", "2", "--hidden", "16", "--ffn-hidden", "16", "--batch-size", "32"]
QUIET = {"progress": False, "workers": 0}


@pytest.fixture(scope="module")
def chembl(tmp_path_factory) -> Path:
    """150 molecules of the embedded ChEMBL set, with a binary column ``active``."""
    frame = pd.read_csv(embedded_chembl().path).sample(150, random_state=0)
    frame["active"] = (frame.pIC50 > frame.pIC50.median()).astype(int)
    path = tmp_path_factory.mktemp("chembl") / "chembl150.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("library") / "lib.smi"
    path.write_text("\n".join(NCI.read_text().splitlines()[:120]) + "\n")
    return path


@pytest.fixture(scope="module")
def mve_run(chembl, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mve") / "run"
    arguments = ["mol", "train", "--data", str(chembl), "--target-columns", "pIC50"]
    options = ["--loss", "mve", "--calibration", "conformal", "--progress", "none"]
    assert main([*arguments, *options, *TINY, "--out", str(out)]) == 0
    return out


def test_mve_conformal_train_and_predict(mve_run, library, tmp_path):
    metrics = json.loads((mve_run / "metrics.json").read_text())
    for split in ("train", "val", "test"):
        assert set(UNCERTAINTY_METRICS["regression"]) <= set(metrics[split])
        assert all(metrics[split][name] is not None for name in UNCERTAINTY_METRICS["regression"])
    assert metrics["calibration"] == {"method": "conformal", "alpha": 0.1, "fitted_on": "val"}
    assert metrics["best_epoch"] >= 1  # the trainer's record, with calibrated scores
    calibration = json.loads((mve_run / "calibration.json").read_text())
    assert calibration["score"] == "normalised" and calibration["n"] == [15]
    assert load_model(mve_run / "model.pt").task.regression_loss == "mve"
    assert (mve_run / "reliability.png").read_bytes().startswith(b"\x89PNG")
    test = pd.read_csv(mve_run / "test_predictions.csv")
    inside = (test.pIC50_target >= test.pIC50_lower) & (test.pIC50_target <= test.pIC50_upper)
    assert inside.mean() == pytest.approx(metrics["test"]["coverage"])

    out = tmp_path / "preds.csv"
    assert (
        main(["mol", "predict", "--model", str(mve_run), "--data", str(library), "--out", str(out)])
        == 0
    )
    frame = pd.read_csv(out)
    assert [c for c in frame.columns if c.startswith("pIC50")] == [
        "pIC50",
        "pIC50_std",
        "pIC50_lower",
        "pIC50_upper",
    ]
    assert (frame.pIC50_lower <= frame.pIC50).all() and (frame.pIC50 <= frame.pIC50_upper).all()
    quantile = calibration["parameters"][0]["quantile"]
    half_width = (frame.pIC50_upper - frame.pIC50_lower) / 2
    assert np.allclose(half_width, quantile * frame.pIC50_std, rtol=1e-5)


def test_screen_ranks_by_the_lower_bound(mve_run, library, tmp_path):
    brute = predict_molecules(mve_run, library, tmp_path / "all.csv")
    best = brute.sort_values("pIC50_lower", ascending=False, kind="stable").head(5)
    results = [
        screen_library(
            mve_run,
            library,
            tmp_path / f"hits{predictors}.csv",
            ScreenConfig(top_k=5, rank_by="lower", chunk_size=40, predictors=predictors, **QUIET),
        )
        for predictors in (1, 2)
    ]
    hits = results[0].hits
    assert list(hits.columns[:8]) == [
        "rank",
        "row",
        "smiles",
        "name",
        "pIC50",
        "pIC50_std",
        "pIC50_lower",
        "pIC50_upper",
    ]
    assert np.allclose(hits.pIC50_lower, best.pIC50_lower, rtol=1e-5)
    assert (tmp_path / "hits1.csv").read_text() == (tmp_path / "hits2.csv").read_text()
    code = main(
        ["mol", "screen", "--model", str(mve_run), "--library", str(library), "--top", "5",
         "--rank-by", "upper", "--ascending", "--no-progress", "--out", str(tmp_path / "u.csv")]
    )  # fmt: skip
    assert code == 0
    upper = pd.read_csv(tmp_path / "u.csv").pIC50_upper
    assert upper.is_monotonic_increasing
    assert np.isclose(upper.iloc[0], brute.pIC50_upper.min(), rtol=1e-5)


def test_rank_by_a_bound_needs_intervals(mve_run, library, tmp_path, capsys):
    uncalibrated = tmp_path / "run"
    shutil.copytree(mve_run, uncalibrated)
    (uncalibrated / "calibration.json").unlink()
    frame = predict_molecules(uncalibrated, library, tmp_path / "p.csv")
    assert "pIC50_lower" not in frame and "pIC50_std" in frame  # the head's own variance
    code = main(
        ["mol", "screen", "--model", str(uncalibrated), "--library", str(library),
         "--rank-by", "lower", "--out", str(tmp_path / "h.csv")]
    )  # fmt: skip
    assert code == 1
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(
            "--rank-by lower needs prediction intervals, and "
            f"{uncalibrated} has none: train it with --calibration conformal or zscaling"
        )
    )


def test_evidential_ensemble_splits_and_scales_its_uncertainty(chembl, library, tmp_path):
    config = MoleculeTrainConfig(
        data=str(chembl),
        target_columns=["pIC50"],
        hidden_channels=16,
        ffn_hidden_channels=16,
        ensemble=2,
        calibration="zscaling",
        alpha=0.2,
        train=TrainConfig(
            epochs=1,
            warmup_epochs=0,
            batch_size=32,
            patience=None,
            progress="none",
            loss="evidential",
        ),
    )
    metrics = train_molecules(config, tmp_path / "run")
    assert metrics["ensemble"] == 2 and len(metrics["members"]) == 2
    assert metrics["test"]["nll"] is not None and metrics["test"]["coverage"] is not None
    scale = json.loads((tmp_path / "run" / "calibration.json").read_text())["parameters"][0]
    frame = predict_molecules(tmp_path / "run", library, tmp_path / "p.csv")
    total = frame.pIC50_aleatoric_std**2 + frame.pIC50_epistemic_std**2
    assert np.allclose(frame.pIC50_std**2, total, rtol=1e-4)
    assert np.allclose(
        frame.pIC50_upper - frame.pIC50, gaussian_quantile(0.2) * frame.pIC50_std, rtol=1e-4
    )
    # a member alone is not calibrated (the calibration belongs to the ensemble)
    member = predict_molecules(tmp_path / "run" / "member_0", library, tmp_path / "m.csv")
    assert "pIC50_lower" not in member and "pIC50_aleatoric_std" in member
    test = predict_molecules(tmp_path / "run", chembl, tmp_path / "all.csv")
    assert scale["scale"] > 0 and test.pIC50_std.gt(0).all()
    test = pd.read_csv(tmp_path / "run" / "test_predictions.csv")
    assert {"pIC50_aleatoric_std", "pIC50_epistemic_std", "pIC50_lower"} <= set(test.columns)


def test_folds_calibrate_each_fold_and_the_run(chembl, library, tmp_path):
    config = MoleculeTrainConfig(
        data=str(chembl),
        target_columns=["pIC50"],
        hidden_channels=16,
        ffn_hidden_channels=16,
        folds=2,
        calibration="conformal",
        alpha=0.25,  # each fold's validation part holds 7 molecules
        train=TrainConfig(epochs=1, warmup_epochs=0, batch_size=32, patience=None, progress="none"),
    )
    summary = train_molecules(config, tmp_path / "run")
    assert summary["calibration"]["fitted_on"] == "val of every fold"
    folds = [
        json.loads((tmp_path / "run" / f"fold_{k}" / "calibration.json").read_text())
        for k in (0, 1)
    ]
    pooled = json.loads((tmp_path / "run" / "calibration.json").read_text())
    assert pooled["score"] == "absolute"  # one squared-error model per fold: no std
    assert pooled["n"] == [folds[0]["n"][0] + folds[1]["n"][0]]
    frame = predict_molecules(tmp_path / "run", library, tmp_path / "p.csv")
    # the folds' spread gives a std; absolute scores give one width for every molecule
    assert np.allclose(
        frame.pIC50_upper - frame.pIC50, pooled["parameters"][0]["quantile"], rtol=1e-5
    )
    assert summary["test"]["coverage"]["mean"] is not None


def test_classification_isotonic(chembl, tmp_path):
    out = tmp_path / "run"
    arguments = ["mol", "train", "--data", str(chembl), "--target-columns", "active"]
    options = ["--task", "classification", "--calibration", "isotonic", "--progress", "none"]
    assert main([*arguments, *options, *TINY, "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["ece"] is not None and 0 <= metrics["test"]["brier"] <= 1
    assert json.loads((out / "calibration.json").read_text())["method"] == "isotonic"
    assert (out / "reliability.png").read_bytes().startswith(b"\x89PNG")
    test = pd.read_csv(out / "test_predictions.csv")
    assert test.active_pred.between(0, 1).all() and "active_lower" not in test


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--calibration", "platt"], "--calibration platt does not apply to a regression task"),
        (
            ["--calibration", "zscaling"],
            "--calibration zscaling scales a predicted standard deviation, which one model "
            "trained with --loss mse lacks",
        ),
        (
            ["--task", "classification", "--calibration", "conformal"],
            "--calibration conformal does not apply to a classification task, which takes "
            "platt or isotonic",
        ),
        (["--task", "classification", "--loss", "mve"], "loss 'mve' predicts a variance"),
        (["--alpha", "1.5", "--calibration", "conformal"], "alpha (--alpha) must lie in (0, 1)"),
    ],
)
def test_nonsensical_combinations_are_one_line_errors(options, message, tmp_path, capsys):
    assert main(["mol", "train", *options, "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not (tmp_path / "run").exists()


def test_mc_dropout_adds_its_spread_to_the_variance_and_keeps_the_interval():
    """An mve model with MC dropout: the passes' spread is epistemic, the head's variance
    aleatoric, and a conformal calibration of absolute scores gives the same half-width."""
    from gnnkit.models import build_model
    from gnnkit.train import Calibration, Ensemble, Task, TrainedModel
    from gnnkit.workflows.molecules import featurize_for_prediction

    smiles = [line.split()[0] for line in NCI.read_text().splitlines()[:6]]
    graphs, _, _ = featurize_for_prediction(smiles, {"atom_features": "v2"})
    torch.manual_seed(0)
    model = build_model("dmpnn", {"hidden_channels": 16, "out_channels": 2, "dropout": 0.3})
    trained = TrainedModel(model, Task.create("regression", 1, regression_loss="mve"))
    calibration = Calibration("conformal", 0.1, "absolute", [{"quantile": 0.5}], [20])
    ensemble = Ensemble([trained], calibration=calibration)
    batch = Batch.from_data_list(graphs)
    torch.manual_seed(1)
    prediction = ensemble.predict(iter([batch]), mc_samples=8)
    assert prediction.parts == ensemble.prediction_parts(mc_samples=8)
    assert prediction.parts == ("std", "aleatoric_std", "epistemic_std", "lower", "upper")
    torch.manual_seed(1)
    means, aleatoric, _ = ensemble.sample_moments(batch, mc_samples=8)
    assert torch.allclose(prediction.epistemic_std**2, means.var(dim=0, unbiased=False))
    assert torch.allclose(prediction.aleatoric_std**2, aleatoric.mean(dim=0))
    assert torch.allclose(prediction.std**2, aleatoric.mean(dim=0) + means.var(0, unbiased=False))
    assert torch.allclose(prediction.upper - prediction.mean, torch.tensor(0.5))
    assert ensemble.prediction_parts() == ("std", "lower", "upper")
