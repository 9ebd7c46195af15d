"""Models by name, so a checkpoint can rebuild its model with no user code.

A checkpoint stores ``{"model": name, "hparams": {...}}``; :func:`build_model` turns that back
into a module. Hyper-parameters are plain data (``None``, ``bool``, ``int``, ``float``, ``str``
and lists/dicts of them), so a checkpoint holding them loads with ``weights_only=True``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from torch import nn

ModelClass = TypeVar("ModelClass", bound=type[nn.Module])

_MODELS: dict[str, type[nn.Module]] = {}
SPEC_ATTRIBUTE = "gnnkit_spec"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """What rebuilds a model: its registered name and constructor keyword arguments."""

    name: str
    hparams: dict[str, Any]


def register_model(name: str) -> Callable[[ModelClass], ModelClass]:
    """Class decorator that registers a model under ``name`` (e.g. ``@register_model("gin")``)."""

    def decorate(cls: ModelClass) -> ModelClass:
        if name in _MODELS and _MODELS[name] is not cls:
            raise ValueError(f"model name {name!r} is already registered to {_MODELS[name]!r}")
        _MODELS[name] = cls
        return cls

    return decorate


def available_models() -> list[str]:
    """Registered model names, sorted."""
    return sorted(_MODELS)


def is_plain_data(value: Any) -> bool:
    """Whether ``value`` is ``None``/``bool``/``int``/``float``/``str`` or a list, tuple or
    string-keyed dict of such values."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(is_plain_data(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_plain_data(v) for k, v in value.items())
    return False


def build_model(name: str, hparams: Mapping[str, Any] | None = None) -> nn.Module:
    """Build the model registered as ``name`` with keyword arguments ``hparams``.

    The module remembers its :class:`ModelSpec` (see :func:`model_spec`), which the trainer
    writes into checkpoints.
    """
    if name not in _MODELS:
        raise KeyError(
            f"unknown model {name!r}; registered models: {', '.join(available_models())}"
        )
    hparams = dict(hparams or {})
    if not is_plain_data(hparams):
        raise TypeError(
            f"hyper-parameters of model {name!r} must be plain data (None, bool, int, float, str, "
            f"lists and str-keyed dicts of them), got {hparams!r}"
        )
    model = _MODELS[name](**hparams)
    setattr(model, SPEC_ATTRIBUTE, ModelSpec(name, hparams))
    return model


def checkpoint_hparams(
    name: str, hparams: Mapping[str, Any], state_dict: Mapping[str, Any]
) -> dict[str, Any]:
    """The hyper-parameters that rebuild model ``name`` from a checkpoint's ``hparams`` and
    ``state_dict``.

    A model class may define ``upgrade_hparams(hparams, state_dict) -> hparams`` for
    checkpoints written before one of its hyper-parameters existed: it restores the behaviour
    they were trained with, or raises ``ValueError`` saying why they cannot be rebuilt. Other
    models get ``hparams`` unchanged.
    """
    upgrade = getattr(_MODELS.get(name), "upgrade_hparams", None)
    return dict(hparams) if upgrade is None else upgrade(dict(hparams), state_dict)


def model_spec(model: nn.Module) -> ModelSpec:
    """The :class:`ModelSpec` of a model made by :func:`build_model`."""
    spec = getattr(model, SPEC_ATTRIBUTE, None)
    if not isinstance(spec, ModelSpec):
        raise TypeError(
            f"{type(model).__name__} was not built by gnnkit.models.build_model, so a checkpoint "
            "could not rebuild it; build it with build_model(name, hparams) (registered models: "
            f"{', '.join(available_models())})"
        )
    return spec
