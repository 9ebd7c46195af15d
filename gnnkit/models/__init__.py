"""Whole models, registered by name so checkpoints rebuild them (:func:`build_model`)."""

from gnnkit.models import cascade  # noqa: F401 (registers gcnfn, bigcn, upfd)
from gnnkit.models.dmpnn import DMPNN
from gnnkit.models.egnn import MoleculeEGNN
from gnnkit.models.gin import GraphGIN
from gnnkit.models.registry import (
    ModelSpec,
    available_models,
    build_model,
    model_spec,
    register_model,
)

__all__ = [
    "DMPNN",
    "GraphGIN",
    "ModelSpec",
    "MoleculeEGNN",
    "available_models",
    "build_model",
    "model_spec",
    "register_model",
]
