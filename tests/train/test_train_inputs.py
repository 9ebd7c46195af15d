"""Splits, loaders, settings, artefact files and progress output."""

from __future__ import annotations

import argparse
import io
import math
from pathlib import Path

import pytest
import torch
from known_answers import cycle_classification, cycle_multiclass, cycle_regression
from torch_geometric.data import Data

from gnnkit.train import Task, TrainConfig, add_config_arguments, config_from_arguments
from gnnkit.train.artefacts import plot_learning_curve, plot_parity, plot_roc, predictions_frame
from gnnkit.train.config import resolve_deterministic
from gnnkit.train.data import ShardSampler, check_split, find_id_key, graph_ids, train_loader
from gnnkit.train.trainer import progress_outputs

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def graph(y: list[float], **attrs: object) -> Data:
    return Data(
        x=torch.ones(2, 1), edge_index=torch.tensor([[0, 1], [1, 0]]), y=torch.tensor([y]), **attrs
    )


def test_check_split_explains_bad_graphs() -> None:
    assert check_split([graph([1.0, math.nan]), graph([2.0, 3.0])], "train") == 2
    with pytest.raises(ValueError, match="the val split is empty"):
        check_split([], "val")
    bad = Data(x=torch.ones(2, 1), y=torch.tensor([1.0]))
    with pytest.raises(ValueError, match=r"graph 1 of the train split has y \[1\].*\[1, n_tasks\]"):
        check_split([graph([1.0]), bad], "train")
    with pytest.raises(ValueError, match="graph 1 of the test split has 2 targets, graph 0 has 1"):
        check_split([graph([1.0]), graph([1.0, 2.0])], "test")
    with pytest.raises(ValueError, match="some graphs have a weight and some do not"):
        check_split([graph([1.0], weight=1.0), graph([1.0])], "train")
    with pytest.raises(ValueError, match="expected one finite number >= 0"):
        check_split([graph([1.0], weight=-1.0)], "train")


def test_identifiers() -> None:
    graphs = [
        graph([1.0], smiles="CCO", id=torch.tensor(7)),
        graph([1.0], smiles="C", id=torch.tensor(8)),
    ]
    assert find_id_key(graphs, None) == "id" and graph_ids(graphs, "id") == [7, 8]
    assert graph_ids(graphs, find_id_key(graphs, "smiles")) == ["CCO", "C"]
    assert graph_ids([graph([1.0])], find_id_key([graph([1.0])], None)) == [0]
    with pytest.raises(ValueError, match="id_key 'name' is not an attribute of every graph"):
        find_id_key(graphs, "name")


def test_shards_are_disjoint_and_cover_the_split() -> None:
    shards = [list(ShardSampler(7, rank, 3)) for rank in range(3)]
    assert sorted(i for shard in shards for i in shard) == list(range(7))
    assert [len(shard) for shard in shards] == [3, 2, 2]


def test_ddp_shards_of_a_batch_make_the_single_process_batch() -> None:
    """With batch size b per process on W processes, step k sees the graphs a single process sees
    with batch size W·b: DDP reproduces the single-process run."""
    graphs = cycle_regression(40, seed=0)
    for epoch in (0, 3):
        single = train_loader(graphs, 8, seed=5)
        single.sampler.set_epoch(epoch)
        shards = [train_loader(graphs, 4, seed=5, rank=r, world_size=2) for r in range(2)]
        for loader in shards:
            loader.sampler.set_epoch(epoch)
        for whole, *parts in zip(single, *shards):
            assert sorted(whole.id) == sorted(i for part in parts for i in part.id)


def test_config_validation_names_valid_choices() -> None:
    with pytest.raises(
        ValueError,
        match="unknown monitor metric 'auc' for a binary task; "
        "valid names: loss, roc_auc, prc_auc, accuracy, f1",
    ):
        TrainConfig(task="binary", monitor="auc").validate()
    with pytest.raises(ValueError, match="class_balance applies to binary and multiclass"):
        TrainConfig(class_balance=True).validate()
    with pytest.raises(ValueError, match="progress must be one of auto, bar, lines, none"):
        TrainConfig(progress="fancy").validate()
    with pytest.raises(ValueError, match="unknown task 'ranking'"):
        TrainConfig(task="ranking").validate()


def test_monitor_defaults_and_modes() -> None:
    assert (TrainConfig().monitor_name, TrainConfig().monitor_mode) == ("rmse", "min")
    assert TrainConfig(task="binary").monitor_name == "roc_auc"
    assert TrainConfig(task="binary", monitor="val_loss").monitor_mode == "min"
    assert TrainConfig(task="multiclass", monitor="macro_f1").monitor_mode == "max"
    assert TrainConfig(monitor="r2", mode="min").monitor_mode == "min"


def test_resume_may_change_hardware_but_not_results() -> None:
    saved = TrainConfig(epochs=5).to_dict()
    assert (
        TrainConfig(epochs=5, resume=True, devices=2, strategy="ddp").resume_conflicts(saved) == []
    )
    assert TrainConfig(epochs=6, seed=1).resume_conflicts(saved) == [
        "epochs: 5 -> 6",
        "seed: 0 -> 1",
    ]


@pytest.mark.parametrize(
    ("deterministic", "accelerator", "expected"),
    [
        (None, "cpu", True),
        (None, "gpu", False),
        (None, "cuda", False),
        (None, "auto", not torch.cuda.is_available()),
        (True, "gpu", True),
        (False, "cpu", False),
    ],
)
def test_deterministic_by_device(deterministic, accelerator, expected) -> None:
    assert resolve_deterministic(deterministic, accelerator) is expected
    assert TrainConfig().deterministic is None


def test_resume_compares_deterministic_as_resolved() -> None:
    saved = TrainConfig(deterministic=True, accelerator="cpu").to_dict()
    assert TrainConfig(accelerator="cpu").resume_conflicts(saved) == []
    assert TrainConfig(accelerator="gpu").resume_conflicts(saved) == [
        "deterministic: True -> False"
    ]
    unset = TrainConfig(accelerator="gpu").to_dict()
    assert TrainConfig(accelerator="gpu").resume_conflicts(unset) == []
    assert TrainConfig(accelerator="gpu", deterministic=False).resume_conflicts(unset) == []


@pytest.mark.parametrize(
    ("options", "expected"),
    [([], None), (["--deterministic"], True), (["--no-deterministic"], False)],
)
def test_deterministic_option(options, expected) -> None:
    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    assert config_from_arguments(parser.parse_args(options)).deterministic is expected


@pytest.mark.parametrize(
    ("kind", "graphs", "columns"),
    [
        (
            "regression",
            cycle_regression(5, 0, missing=0.5),
            ["task0_target", "task0_pred", "task2_pred"],
        ),
        ("binary", cycle_classification(5, 0), ["task1_target", "task1_pred"]),
        ("multiclass", cycle_multiclass(5, 0), ["task0_pred", "task0_prob_0", "task0_prob_2"]),
    ],
)
def test_predictions_and_plots(
    kind: str, graphs: list[Data], columns: list[str], tmp_path: Path
) -> None:
    n_tasks = graphs[0].y.size(1)
    task = Task.create(kind, n_tasks, n_classes=3)
    target = torch.cat([g.y for g in graphs])
    preds = (
        torch.rand(5, n_tasks, 3).softmax(-1) if kind == "multiclass" else torch.rand(5, n_tasks)
    )
    frame = predictions_frame(task, [g.id for g in graphs], preds, target)
    assert list(frame["id"]) == [g.id for g in graphs] and set(columns) <= set(frame.columns)
    if kind == "multiclass":
        assert list(frame["task0_pred"]) == preds[:, 0].argmax(-1).tolist()
    plot = plot_parity if kind == "regression" else plot_roc
    path = plot(tmp_path / "plot.png", task, preds, target)
    rows = [
        {"epoch": 1, "train_loss": 1.0, "val_loss": 1.2, "val_r2": math.nan},
        {"epoch": 2, "train_loss": 0.5},
    ]
    curve = plot_learning_curve(tmp_path / "curve.png", rows, "r2")
    assert path.read_bytes().startswith(PNG_SIGNATURE) and curve.read_bytes().startswith(
        PNG_SIGNATURE
    )


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_terminals_lines_otherwise() -> None:
    terminal, pipe = FakeTerminal(), io.StringIO()
    assert progress_outputs("auto", terminal) == (True, None)
    assert progress_outputs("auto", pipe) == (False, pipe)
    assert progress_outputs("lines", terminal) == (False, terminal)
    assert progress_outputs("none", pipe) == (False, None)


def test_command_line_options_build_the_config() -> None:
    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    line = "--accelerator cpu --devices 2 --strategy ddp --num-nodes 1 --resume --task binary "
    line += "--task-names a b --grad-clip 1 --patience 3 --mode max --class-balance"
    config = config_from_arguments(parser.parse_args(line.split()))
    expected = TrainConfig(
        accelerator="cpu",
        devices=2,
        strategy="ddp",
        resume=True,
        task="binary",
        task_names=["a", "b"],
        grad_clip=1.0,
        patience=3,
        mode="max",
        class_balance=True,
    )
    assert config == expected
    assert config_from_arguments(parser.parse_args([])) == TrainConfig()
    assert config_from_arguments(parser.parse_args(["--devices", "auto"])).devices == "auto"
    with pytest.raises(SystemExit):
        parser.parse_args(["--progress", "fancy"])


def test_integer_options_are_checked_when_parsed(capsys) -> None:
    parser = argparse.ArgumentParser(prog="train")
    add_config_arguments(parser)
    assert config_from_arguments(parser.parse_args(["--num-workers", "0"])).num_workers == 0
    for option, value, least in [
        ("--epochs", "0", 1),
        ("--batch-size", "-2", 1),
        ("--patience", "0", 1),
        ("--num-workers", "-1", 0),
    ]:
        with pytest.raises(SystemExit):
            parser.parse_args([option, value])
        error = capsys.readouterr().err.splitlines()[-1]
        assert error == f"train: error: argument {option}: must be at least {least}, got {value}"
