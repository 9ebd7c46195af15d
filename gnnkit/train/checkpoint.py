"""gnnkit's model checkpoint: plain data and tensors only, checked on load.

A checkpoint is a ``torch.save`` file of one dict::

    {
        "format": "gnnkit-model", "version": 1, "gnnkit_version": "0.1.0",
        "model": "gin", "hparams": {...},              # rebuilds the module (gnnkit.models)
        "task": {"kind": ..., "names": [...], "n_classes": ...},
        "scaler": {"mean": [...], "std": [...]} | None,
        "featurizer": {...} | None,                     # settings that made the input graphs
        "state_dict": {name: tensor},
        "sha256": "...",                                # digest of everything above
    }

It loads with ``torch.load(path, weights_only=True)``, so reading it never runs code from the
file. :func:`load_model` checks the structure, the digest and the weights' names and shapes,
and raises :class:`CheckpointError` naming the file when any check fails (a truncated, edited or
foreign file).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

import gnnkit
from gnnkit.errors import CheckpointError
from gnnkit.models import build_model, model_spec
from gnnkit.models.registry import checkpoint_hparams, is_plain_data
from gnnkit.train.predict import TrainedModel
from gnnkit.train.scaling import TargetScaler
from gnnkit.train.tasks import Task

FORMAT = "gnnkit-model"
VERSION = 1
FIELDS: dict[str, type | tuple[type, ...]] = {
    "format": str,
    "version": int,
    "gnnkit_version": str,
    "model": str,
    "hparams": dict,
    "task": dict,
    "scaler": (dict, type(None)),
    "featurizer": (dict, type(None)),
    "state_dict": dict,
    "sha256": str,
}


def _digest(payload: dict[str, Any]) -> str:
    """SHA-256 of the plain data (as sorted JSON) and of every tensor's name, dtype, shape and
    bytes."""
    digest = hashlib.sha256()
    plain = {key: value for key, value in payload.items() if key not in ("state_dict", "sha256")}
    digest.update(json.dumps(plain, sort_keys=True, allow_nan=False).encode())
    for name in sorted(payload["state_dict"]):
        tensor: Tensor = payload["state_dict"][name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{list(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def save_checkpoint(trained: TrainedModel, path: str | os.PathLike) -> Path:
    """Write ``trained`` to ``path`` (atomically: a partial file never takes its name)."""
    spec = model_spec(trained.model)
    if trained.featurizer is not None and not is_plain_data(trained.featurizer):
        raise TypeError(f"featurizer settings must be plain data, got {trained.featurizer!r}")
    payload: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "gnnkit_version": gnnkit.__version__,
        "model": spec.name,
        "hparams": spec.hparams,
        "task": trained.task.to_dict(),
        "scaler": trained.scaler.state() if trained.scaler is not None else None,
        "featurizer": trained.featurizer,
        "state_dict": {k: v.detach().cpu().clone() for k, v in trained.model.state_dict().items()},
    }
    payload["sha256"] = _digest(payload)
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    torch.save(payload, partial)
    partial.replace(path)
    return path


def read_safely(path: str | os.PathLike) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU, with :class:`CheckpointError` naming
    the file when it is missing, truncated, not a torch file, or holds anything but plain data
    and tensors. Used for gnnkit's own checkpoints and Lightning's training checkpoints."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise CheckpointError(
            f"checkpoint {path} holds objects other than plain data and tensors; gnnkit does not "
            f"unpickle arbitrary objects ({error})"
        ) from error
    except Exception as error:
        raise CheckpointError(
            f"checkpoint {path} is truncated or not a torch file ({type(error).__name__}: {error})"
        ) from error


def _read(path: Path) -> dict[str, Any]:
    payload = read_safely(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a gnnkit model checkpoint (no format {FORMAT!r})")
    if isinstance(payload.get("version"), int) and payload["version"] > VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format version {payload['version']}; this gnnkit "
            f"({gnnkit.__version__}) reads up to version {VERSION}"
        )
    for key, kind in FIELDS.items():
        if not isinstance(payload.get(key), kind):
            raise CheckpointError(f"checkpoint {path}: field {key!r} is missing or malformed")
    if not all(isinstance(v, Tensor) for v in payload["state_dict"].values()):
        raise CheckpointError(f"checkpoint {path}: the state_dict holds non-tensor values")
    if _digest(payload) != payload["sha256"]:
        raise CheckpointError(
            f"checkpoint {path} was modified after it was written (checksum mismatch)"
        )
    return payload


def _build(path: Path, payload: dict[str, Any]) -> nn.Module:
    try:
        hparams = checkpoint_hparams(payload["model"], payload["hparams"], payload["state_dict"])
        model = build_model(payload["model"], hparams)
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(
            f"checkpoint {path}: cannot rebuild model {payload['model']!r}: {error}"
        ) from error
    try:
        model.load_state_dict(payload["state_dict"], strict=True)
    except RuntimeError as error:
        raise CheckpointError(
            f"checkpoint {path}: weights do not fit the model: {error}"
        ) from error
    return model


def load_model(path: str | os.PathLike) -> TrainedModel:
    """Rebuild a trained model from a gnnkit checkpoint, in eval mode on the CPU.

    Raises:
        CheckpointError: the file is missing, truncated, modified, not a gnnkit checkpoint, or
            its weights do not fit the model its hyper-parameters build.
    """
    path = Path(path)
    payload = _read(path)
    try:
        task = Task.from_dict(payload["task"])
        scaler = (
            TargetScaler.from_state(payload["scaler"]) if payload["scaler"] is not None else None
        )
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"checkpoint {path}: malformed task or scaler: {error}") from error
    model = _build(path, payload)
    return TrainedModel(model.eval(), task, scaler, payload["featurizer"])
