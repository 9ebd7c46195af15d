"""gnnkit's checkpoint: plain data and tensors, rebuilt with no user code, refused when damaged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from known_answers import cycle_regression

from gnnkit.models import build_model
from gnnkit.train import (
    CheckpointError,
    TargetScaler,
    Task,
    TrainedModel,
    load_model,
    save_checkpoint,
)
from gnnkit.train.checkpoint import _digest

FEATURIZER = {"name": "constant", "dims": [1], "options": {"bias": None}}


@pytest.fixture
def trained() -> TrainedModel:
    torch.manual_seed(0)
    model = build_model(
        "gin", {"in_channels": 1, "out_channels": 3, "hidden_channels": 8, "num_layers": 2}
    )
    scaler = TargetScaler(torch.tensor([1.0, 10.0, 12.0]), torch.tensor([2.0, 3.0, 4.0]))
    return TrainedModel(model, Task.create("regression", 3, ["c", "n", "e"]), scaler, FEATURIZER)


@pytest.fixture
def saved(trained: TrainedModel, tmp_path: Path) -> Path:
    return save_checkpoint(trained, tmp_path / "model.pt")


def forge(path: Path, **changes: object) -> Path:
    """A copy of a checkpoint with edited fields and a matching digest (a well-formed forgery)."""
    payload = torch.load(path, weights_only=True)
    payload.update(changes)
    payload["sha256"] = _digest(payload)
    forged = path.with_name(f"forged-{len(list(path.parent.iterdir()))}.pt")
    torch.save(payload, forged)
    return forged


def test_round_trip_predicts_the_same(trained: TrainedModel, saved: Path) -> None:
    graphs = cycle_regression(6, seed=0)
    loaded = load_model(saved)
    assert loaded.task == trained.task and loaded.featurizer == FEATURIZER
    assert loaded.scaler.state() == trained.scaler.state()
    assert not loaded.model.training
    assert torch.equal(loaded.predict(graphs), trained.predict(graphs))
    assert loaded.predict(graphs).shape == (6, 3)


def test_checkpoint_is_plain_data_and_tensors(saved: Path) -> None:
    payload = torch.load(saved, weights_only=True)
    assert payload["model"] == "gin" and payload["hparams"]["hidden_channels"] == 8
    assert payload["scaler"] == {"mean": [1.0, 10.0, 12.0], "std": [2.0, 3.0, 4.0]}
    assert all(isinstance(v, torch.Tensor) for v in payload["state_dict"].values())
    assert not list(saved.parent.glob("*.partial"))


def test_missing_and_truncated_files(saved: Path, tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(tmp_path / "absent.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=r"truncated\.pt is truncated or not a torch file"):
        load_model(truncated)


def test_edited_weights_fail_the_checksum(saved: Path) -> None:
    payload = torch.load(saved, weights_only=True)
    name = next(iter(payload["state_dict"]))
    payload["state_dict"][name] += 1.0
    torch.save(payload, saved)
    with pytest.raises(CheckpointError, match=r"model\.pt was modified after it was written"):
        load_model(saved)


def test_flipped_bytes_are_refused(saved: Path) -> None:
    data = bytearray(saved.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(16)
    saved.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=str(saved)):
        load_model(saved)


class Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.mkdir, (str(self.marker),))


def test_pickled_objects_are_never_run(saved: Path, tmp_path: Path) -> None:
    marker = tmp_path / "exploit-ran"
    payload = torch.load(saved, weights_only=True)
    payload["featurizer"] = {"x": Exploit(marker)}
    torch.save(payload, saved)
    with pytest.raises(CheckpointError, match="objects other than plain data and tensors"):
        load_model(saved)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"model": "no-such-model"}, "cannot rebuild model 'no-such-model'.*registered models"),
        (
            {"hparams": {"in_channels": 1, "out_channels": 5, "hidden_channels": 8}},
            "weights do not fit",
        ),
        ({"task": "regression"}, "field 'task' is missing or malformed"),
        ({"task": {"kind": "regression"}}, "malformed task or scaler"),
        ({"version": 99}, "format version 99; this gnnkit .* reads up to version 1"),
        ({"format": "other"}, "not a gnnkit model checkpoint"),
    ],
)
def test_forged_fields_give_clear_errors(saved: Path, changes: dict, message: str) -> None:
    forged = forge(saved, **changes)
    with pytest.raises(CheckpointError, match=f"{forged.name}.*{message}|{message}.*{forged.name}"):
        load_model(forged)


def test_featurizer_must_be_plain_data(trained: TrainedModel, tmp_path: Path) -> None:
    trained.featurizer = {"fn": print}
    with pytest.raises(TypeError, match="plain data"):
        save_checkpoint(trained, tmp_path / "model.pt")
