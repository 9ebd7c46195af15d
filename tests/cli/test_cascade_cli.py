"""``gnnkit cascade``: generate, train, baseline, predict and stats from the command line."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from gnnkit.cli.main import main

TINY = ["--synthetic-n", "24", "--synthetic-scale", "0.04"]
FAST = ["--folds", "2", "--epochs", "2", "--hidden", "8", "--val-fraction", "0.2", "--seed", "0"]


@pytest.fixture(autouse=True)
def restore_threads() -> Iterator[None]:
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def twitter_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cascades") / "twitter"
    assert (
        main(["cascade", "generate", "--n", "24", "--out", str(folder), "--size-scale", "0.04"])
        == 0
    )
    return folder


def upfd_dir(folder: Path) -> Path:
    """Twelve tiny UPFD graphs (news node first, then its users) with a shipped split."""
    rng = np.random.default_rng(0)
    graph_of, edges, start = [], [], 0
    for graph in range(12):
        size = 3 + graph % 3
        graph_of += [graph] * size
        edges += [(start + int(rng.integers(0, i)), start + i) for i in range(1, size)]
        start += size
    folder.mkdir()
    (folder / "A.txt").write_text("".join(f"{a}, {b}\n" for a, b in edges))
    np.save(folder / "node_graph_id.npy", np.array(graph_of))
    np.save(folder / "graph_labels.npy", np.arange(12) % 2)
    for name, index in (("train", range(0, 8)), ("val", range(8, 10)), ("test", range(10, 12))):
        np.save(folder / f"{name}_idx.npy", np.array(list(index)))
    return folder


def read_metrics(out: Path) -> dict:
    return json.loads((out / "metrics.json").read_text())


@pytest.mark.parametrize("model", ["gcnfn", "bigcn", "upfd"])
@pytest.mark.parametrize("kind", ["synthetic", "twitter"])
def test_every_model_trains_on_synthetic_and_twitter_format_data(
    tmp_path, twitter_dir, capsys, model, kind
) -> None:
    data = "synthetic" if kind == "synthetic" else f"twitter:{twitter_dir}"
    out = tmp_path / "run"
    argv = ["cascade", "train", "--data", data, "--model", model, *FAST, "--out", str(out), *TINY]
    assert main(argv) == 0
    metrics = read_metrics(out)
    for score in ("accuracy", "macro_f1"):
        assert set(metrics["test"][score]) == {"mean", "std"}
        assert 0 <= metrics["test"][score]["mean"] <= 1
    assert [f["fold"] for f in metrics["per_fold"]] == [0, 1]
    assert set(metrics["test"]["per_class_f1"]) == {"non-rumor", "false", "true", "unverified"}
    assert metrics["model"] == model and metrics["data"]["cascades"] == 24
    assert "early_detection" not in metrics
    assert f"{model}: test accuracy" in capsys.readouterr().out


@pytest.fixture(scope="module")
def early_run(tmp_path_factory, twitter_dir) -> Path:
    """A two-fold upfd run on ``twitter_dir``, with early-detection windows."""
    out = tmp_path_factory.mktemp("early") / "run"
    argv = [
        "cascade",
        "train",
        "--data",
        f"twitter:{twitter_dir}",
        "--model",
        "upfd",
        *FAST,
        "--observe-hours",
        "0.5",
        "2",
        "all",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    return out


def test_early_detection_and_prediction(tmp_path, twitter_dir, early_run, capsys) -> None:
    out = early_run
    metrics = read_metrics(out)
    assert [e["hours"] for e in metrics["early_detection"]] == [0.5, 2.0, None]
    assert set(metrics["early_detection"][0]["test"]["accuracy"]) == {"mean", "std"}
    assert (out / "early_detection.png").is_file()
    assert (out / "early" / "hours_0.5" / "fold1" / "model.pt").is_file()

    predictions = tmp_path / "predictions.csv"
    argv = [
        "cascade",
        "predict",
        "--model",
        str(out),
        "--data",
        f"twitter:{twitter_dir}",
        "--out",
        str(predictions),
    ]
    assert main(argv) == 0
    frame = pd.read_csv(predictions)
    assert len(frame) == 24 and {"id", "label", "predicted", "p_false"} <= set(frame.columns)
    assert "24 predictions (2 model(s))" in capsys.readouterr().out
    early = tmp_path / "early.csv"
    argv = [
        "cascade",
        "predict",
        "--model",
        str(out / "early" / "hours_0.5"),
        "--data",
        f"twitter:{twitter_dir}",
        "--out",
        str(early),
    ]
    assert main(argv) == 0 and len(pd.read_csv(early)) == 24


def predict(model: Path, folder: Path, out: Path) -> pd.DataFrame:
    """``cascade predict`` of the Twitter15/16 ``folder``, read back."""
    argv = ["cascade", "predict", "--model", str(model), "--data", f"twitter:{folder}"]
    assert main([*argv, "--out", str(out)]) == 0
    return pd.read_csv(out, dtype={"id": str, "label": str}, keep_default_na=False)


def test_predict_classifies_trees_without_labels(tmp_path, twitter_dir, early_run, capsys) -> None:
    full = predict(early_run, twitter_dir, tmp_path / "full.csv").set_index("id")
    ids = sorted(full.index)[:3]
    folder = tmp_path / "new"
    (folder / "tree").mkdir(parents=True)
    for source_id in ids:
        shutil.copy(twitter_dir / "tree" / f"{source_id}.txt", folder / "tree")
    capsys.readouterr()
    frame = predict(early_run, folder, tmp_path / "new.csv")
    assert frame["id"].tolist() == ids and frame["label"].tolist() == ["", "", ""]
    columns = [c for c in full.columns if c != "label"]
    pd.testing.assert_frame_equal(frame.set_index("id")[columns], full.loc[ids, columns])
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"wrote 3 predictions (2 model(s)) to {tmp_path / 'new.csv'}"
    )

    (folder / "label.txt").write_text(f"{full.loc[ids[1], 'label']}:{ids[1]}\n")
    frame = predict(early_run, folder, tmp_path / "some.csv")
    assert frame["id"].tolist() == [ids[1], ids[0], ids[2]]
    assert frame["label"].tolist() == [full.loc[ids[1], "label"], "", ""]
    assert capsys.readouterr().out.splitlines()[-1].endswith(" on 1 labelled")


def test_training_skips_and_reports_unlabelled_trees(tmp_path, twitter_dir, capsys) -> None:
    folder = shutil.copytree(twitter_dir, tmp_path / "twitter")
    for name in ("extra1", "extra2"):
        shutil.copy(folder / "tree" / "syn000000.txt", folder / "tree" / f"{name}.txt")
    out = tmp_path / "run"
    argv = ["cascade", "train", "--data", f"twitter:{folder}", "--model", "gcnfn", *FAST]
    assert main([*argv, "--epochs", "1", "--out", str(out)]) == 0
    assert (
        "  unlabelled_tree_files: 2 in 2 cascade(s) - a tree file that label.txt does not "
        "name: cascade skipped (prediction reads it, without a label)"
    ) in capsys.readouterr().out.splitlines()
    data = read_metrics(out)["data"]
    assert data["cascades"] == 24
    assert data["report"]["skipped"] == {
        name: f"{folder / 'tree' / name}.txt has no label in label.txt"
        for name in ("extra1", "extra2")
    }


def test_an_empty_label_file_is_a_one_line_error(tmp_path, twitter_dir, capsys) -> None:
    folder = shutil.copytree(twitter_dir, tmp_path / "twitter")
    (folder / "label.txt").write_text("")
    argv = ["cascade", "train", "--data", f"twitter:{folder}", "--model", "gcnfn", *FAST]
    assert main([*argv, "--out", str(tmp_path / "run")]) == 1
    assert capsys.readouterr().err == (
        f"gnnkit cascade train: error: {folder / 'label.txt'}: no 'label:source_id' line; "
        "training and evaluation need the label of every cascade\n"
    )


def test_training_into_an_earlier_run_names_what_works(tmp_path, twitter_dir, capsys) -> None:
    out = tmp_path / "run"
    checkpoints = out / "early" / "hours_2" / "fold0" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "last.ckpt").write_bytes(b"")
    argv = ["cascade", "train", "--data", f"twitter:{twitter_dir}", "--model", "gcnfn", *FAST]
    assert main([*argv, "--observe-hours", "2", "--out", str(out)]) == 1
    assert capsys.readouterr().err == (
        f"gnnkit cascade train: error: {out} already holds a cascade training run "
        f"({checkpoints} is not empty); choose another --out or delete the folder\n"
    )


def test_baseline_writes_the_same_metrics_shape(tmp_path, twitter_dir) -> None:
    out = tmp_path / "baseline"
    argv = [
        "cascade",
        "baseline",
        "--data",
        f"twitter:{twitter_dir}",
        "--folds",
        "2",
        "--seed",
        "0",
        "--val-fraction",
        "0.2",
        "--observe-hours",
        "1",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    metrics = read_metrics(out)
    assert metrics["model"] == "baseline-forest"
    assert set(metrics["test"]["accuracy"]) == {"mean", "std"} and len(metrics["per_fold"]) == 2
    assert metrics["early_detection"][0]["hours"] == 1.0


def test_one_split_reports_plain_numbers_and_uses_the_shipped_upfd_split(tmp_path) -> None:
    folder = upfd_dir(tmp_path / "upfd")
    out = tmp_path / "run"
    argv = [
        "cascade",
        "train",
        "--data",
        f"upfd:{folder}",
        "--model",
        "bigcn",
        "--folds",
        "1",
        "--epochs",
        "2",
        "--hidden",
        "8",
        "--seed",
        "0",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    metrics = read_metrics(out)
    assert isinstance(metrics["test"]["accuracy"], float)
    assert metrics["per_fold"][0]["sizes"] == {"train": 8, "val": 2, "test": 2}
    assert metrics["protocol"]["splits"] == "the split shipped with the data"
    assert metrics["data"]["classes"] == ["real", "fake"] and not metrics["data"]["timed"]


def test_stats_prints_the_class_table_and_calibration(twitter_dir, capsys) -> None:
    assert main(["cascade", "stats", "--data", f"twitter:{twitter_dir}"]) == 0
    out = capsys.readouterr().out
    assert "| class | cascades | size (median)" in out and '"calibration"' in out


def test_user_errors_are_one_line_messages(tmp_path, capsys) -> None:
    argv = ["cascade", "baseline", "--data", f"twitter:{tmp_path / 'none'}", "--out", str(tmp_path)]
    assert main(argv) == 1
    assert "gnnkit cascade baseline: error:" in capsys.readouterr().err
    argv = [
        "cascade",
        "train",
        "--data",
        "synthetic",
        "--model",
        "upfd",
        "--observe-hours",
        "soon",
        "--out",
        str(tmp_path),
        *TINY,
    ]
    assert main(argv) == 1
    assert "neither hours nor 'all'" in capsys.readouterr().err
    upfd = f"upfd:{upfd_dir(tmp_path / 'upfd')}"
    argv = ["cascade", "baseline", "--data", upfd, "--observe-hours", "2", "--out", str(tmp_path)]
    assert main(argv) == 1
    assert "has no re-post delays (e.g. UPFD)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["cascade", "train", "--data", "synthetic", "--model", "gin", "--out", str(tmp_path)])


def test_features_and_claim_split_from_the_command_line(tmp_path, twitter_dir, capsys) -> None:
    out = tmp_path / "run"
    argv = ["cascade", "train", "--data", f"twitter:{twitter_dir}", "--model", "bigcn", *FAST]
    argv += ["--features", "all", "--split", "claim", "--text-dims", "4", "--input-norm"]
    assert main([*argv, "--out", str(out)]) == 0
    metrics = read_metrics(out)
    assert metrics["features"]["groups"] == ["structure", "users", "text"]
    assert metrics["protocol"]["split"] == "claim" and metrics["protocol"]["groups"] >= 2
    # no --dropout: the model's own (the paper's) default applies
    assert metrics["hparams"] == {"hidden_channels": 8, "input_norm": True}
    predictions = tmp_path / "predictions.csv"
    argv = ["cascade", "predict", "--model", str(out), "--data", f"twitter:{twitter_dir}"]
    assert main([*argv, "--features", "all", "--out", str(predictions)]) == 0
    assert len(pd.read_csv(predictions)) == 24
    capsys.readouterr()
    assert main([*argv, "--features", "users", "--out", str(predictions)]) == 1
    assert "reads --features all, not users" in capsys.readouterr().err
    baseline = tmp_path / "baseline"
    argv = ["cascade", "baseline", "--data", f"twitter:{twitter_dir}", "--features", "users+text"]
    argv += ["--folds", "2", "--val-fraction", "0.2", "--out", str(baseline)]
    assert main(argv) == 0
    assert read_metrics(baseline)["model"] == "baseline-logistic"


def test_feature_sets_the_data_cannot_feed_are_one_line_errors(tmp_path, capsys) -> None:
    upfd = f"upfd:{upfd_dir(tmp_path / 'upfd')}"
    argv = ["cascade", "baseline", "--data", upfd, "--features", "users", "--out", str(tmp_path)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("gnnkit cascade baseline: error: --features users needs the user id")
    assert len(err.strip().splitlines()) == 1
    argv = ["cascade", "baseline", "--data", upfd, "--split", "claim", "--out", str(tmp_path)]
    assert main(argv) == 1
    assert "--split claim groups source posts by their texts" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["cascade", "baseline", "--data", upfd, "--features", "words", "--out", "x"])
    assert "unknown feature set 'words'" in capsys.readouterr().err
