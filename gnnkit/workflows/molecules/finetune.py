"""Fine-tuning: start a molecule run from the weights of a trained one (``--init-from``).

The source is a model file or a run folder; a run of several models (an ensemble, or
cross-validation folds) gives its first, ``fold_0``'s ``member_0`` (see
:func:`~gnnkit.train.ensemble.find_model_files`), and says so on stderr.

- **Inputs must match.** The source's featurizer settings (atom features, explicit hydrogens,
  conformers), molecule descriptors (none, a file, or RDKit's, by name and order), molecules
  per row and encoder sharing must be the run's, else :func:`prepare_init` refuses: the
  weights would read misaligned features.
- **Architecture comes from the source.** ``model``, ``hidden_channels``, ``depth``,
  ``aggregation``, ``ffn_hidden_channels`` and ``ffn_layers`` left at their defaults take the
  source's values; one set to another value than the source's is refused. ``dropout`` is the
  run's own (it changes no weight).
- **Weights.** Every weight and buffer is copied (the descriptor standardisation too, as the
  copied first FFN layer expects the source's scaling), except the head's output layer when
  the number of outputs (tasks, or tasks × classes) or the task kind differs: that layer keeps
  its fresh initialisation. Regression targets are standardised with this run's training
  split.
- **Freezing.** ``freeze_encoder`` freezes every weight outside the FFN head (the D-MPNN's
  message passing, or the EGNN's embedding, layers and norms); ``freeze_ffn_layers`` K freezes
  the head's first K linear layers (K at most its hidden layers: the output layer always
  trains). Frozen weights get ``requires_grad = False`` and are left out of the optimiser, so
  they stay bit for bit as in the source; the models hold no batch normalisation whose running
  statistics would drift (one that did would be refused), and dropout changes activations, not
  weights.

``metrics.json`` records the source (``init_from``: path, SHA-256 of the model file, what was
frozen and whether the output layer was rebuilt); ``run.json`` records the source file's
SHA-256, so ``--resume`` continues only from the same source.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from torch import nn

from gnnkit.data.molecules.dataset import file_sha256
from gnnkit.data.molecules.descriptors import descriptor_record
from gnnkit.data.molecules.featurizer import FeaturizerConfig
from gnnkit.data.molecules.inputs import featurizer_config
from gnnkit.models import model_spec
from gnnkit.train import TrainedModel, load_model
from gnnkit.train.ensemble import find_model_files
from gnnkit.workflows.molecules.config import MOLECULE_MODELS, TASKS, MoleculeTrainConfig
from gnnkit.workflows.molecules.predict import check_molecule_model

#: Architecture settings that come from the source model, with their options.
ARCHITECTURE = {
    "hidden_channels": "--hidden",
    "depth": "--depth",
    "aggregation": "--aggregation",
    "ffn_hidden_channels": "--ffn-hidden",
    "ffn_layers": "--ffn-layers",
}
#: Input settings that must equal the source's, with the options that set them.
INPUTS = {
    "model": "--model",
    "atom_features": "--atom-features",
    "add_hydrogens": "add_hydrogens",
    "conformers": "--model",
    "descriptors": "--descriptors / --descriptors-file",
    "descriptor_names": "the installed RDKit's descriptors",
    "n_components": "--smiles-columns",
    "shared_encoder": "--shared-encoder",
}


@dataclass(slots=True)
class InitSource:
    """A trained model to start from.

    Attributes:
        path: its model file.
        sha256: the SHA-256 of that file.
        trained: the model, its task and featurizer settings.
    """

    path: Path
    sha256: str
    trained: TrainedModel

    @property
    def name(self) -> str:
        """The source's registered model name (``dmpnn``, ``egnn``)."""
        return model_spec(self.trained.model).name

    @property
    def hparams(self) -> dict[str, Any]:
        return model_spec(self.trained.model).hparams

    def record(self, config: MoleculeTrainConfig) -> dict[str, Any]:
        """What ``metrics.json`` records of the source: its path, SHA-256 and what the run
        of ``config`` froze."""
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "frozen": {"encoder": config.freeze_encoder, "ffn_layers": config.freeze_ffn_layers},
        }


def load_init_source(run: str | Path) -> InitSource:
    """The model to start from: ``run`` itself (a model file) or the first model of a run
    folder (a note on stderr when the run holds several), checked to be a molecule model."""
    files = find_model_files(run)
    path = files[0]
    if len(files) > 1:
        print(
            f"note: {run} holds {len(files)} models (an ensemble or folds); fine-tuning starts "
            f"from the first, {path}",
            file=sys.stderr,
        )
    trained = load_model(path)
    check_molecule_model(trained, path)
    return InitSource(path, file_sha256(path), trained)


def _inputs(config: MoleculeTrainConfig) -> dict[str, Any]:
    """The input settings of :data:`INPUTS` that a run of ``config`` featurizes with."""
    featurizer = FeaturizerConfig(
        atom_features=config.atom_features,
        conformers=MOLECULE_MODELS[config.model].conformers,
        conformer_seed=config.conformer_seed,
    ).to_dict()
    kind = config.descriptors or ("file" if config.descriptor_file else None)
    return {
        "model": config.model,
        **featurizer,
        **descriptor_record(kind),
        "n_components": max(len(config.molecule_columns), 1),
        "shared_encoder": config.shared_encoder,
    }


def _source_inputs(source: InitSource) -> dict[str, Any]:
    """The input settings of :data:`INPUTS` that ``source`` was trained with."""
    stored = source.trained.featurizer or {}
    featurizer = featurizer_config(stored).to_dict()
    descriptors = {key: stored.get(key) for key in ("descriptors", "descriptor_names")}
    components = {
        "n_components": source.hparams.get("n_components", 1),
        "shared_encoder": source.hparams.get("shared_encoder", False),
    }
    return {"model": source.name, **featurizer, **descriptors, **components}


def _describe(name: str, value: Any) -> str:
    if name == "descriptor_names" and isinstance(value, list):
        return f"{len(value)} names"
    return repr(value)


def check_inputs(config: MoleculeTrainConfig, source: InitSource) -> None:
    """Refuse a source trained on other inputs than ``config`` makes (see the module
    docstring), naming each setting that differs and the option that sets it."""
    mine, theirs = _inputs(config), _source_inputs(source)
    differences = [
        f"{name} {_describe(name, theirs.get(name))} there, {_describe(name, mine.get(name))} "
        f"here ({option})"
        for name, option in INPUTS.items()
        if theirs.get(name) != mine.get(name)
        and not (name == "descriptor_names" and theirs.get("descriptors") != "rdkit2d")
    ]
    if differences:
        raise ValueError(
            f"cannot fine-tune from {source.path}: it was trained on other inputs than this run "
            f"makes, so its weights would read misaligned features: {'; '.join(differences)}"
        )


def adopt_architecture(config: MoleculeTrainConfig, source: InitSource) -> MoleculeTrainConfig:
    """``config`` with the source's architecture: a setting left at its default takes the
    source's value, one set to another value than the source's is refused."""
    defaults = {f.name: f.default for f in fields(MoleculeTrainConfig)}
    spec = MOLECULE_MODELS[config.model]
    defaults.update(hidden_channels=spec.hidden_channels, depth=spec.depth)
    adopted: dict[str, Any] = {}
    conflicts = []
    for name, option in ARCHITECTURE.items():
        theirs, mine = source.hparams[name], getattr(config, name)
        if mine != theirs and mine != defaults[name]:
            conflicts.append(f"{name}={theirs!r} there, {mine!r} here ({option})")
        adopted[name] = theirs
    if conflicts:
        raise ValueError(
            f"cannot fine-tune from {source.path} with another architecture: "
            f"{'; '.join(conflicts)}; the architecture comes from the source model, so drop "
            "these options or give its values"
        )
    return replace(config, **adopted)


def prepare_init(config: MoleculeTrainConfig) -> tuple[MoleculeTrainConfig, InitSource | None]:
    """The source of ``config.init_from`` (``None`` without one), checked against the run's
    inputs, and ``config`` with the source's architecture and freezing checked."""
    if config.init_from is None:
        return config, None
    source = load_init_source(config.init_from)
    check_inputs(config, source)
    config = adopt_architecture(config, source)
    if config.freeze_ffn_layers > config.ffn_layers:
        raise ValueError(
            f"freeze_ffn_layers={config.freeze_ffn_layers} (--freeze-ffn-layers) but the head "
            f"of {source.path} has {config.ffn_layers} hidden layers; freeze at most those (its "
            "output layer always trains)"
        )
    return config, source


def _output_layer(model: nn.Module) -> str:
    """The state-dict prefix of the FFN head's output layer, e.g. ``head.3``."""
    return f"head.{len(model.head) - 1}"


def initialise(model: nn.Module, source: InitSource, config: MoleculeTrainConfig) -> dict[str, Any]:
    """Copy the source's weights into ``model`` (built for this run), rebuild nothing but the
    output layer (kept fresh when the outputs or task kind differ), freeze as ``config``
    says; returns what ``metrics.json`` records under ``init_from``."""
    state = source.trained.model.state_dict()
    own = model.state_dict()
    output = _output_layer(model)
    rebuilt = source.trained.task.kind != TASKS[config.task] or any(
        own[key].shape != state[key].shape for key in own if key.startswith(f"{output}.")
    )
    copied = {k: v for k, v in state.items() if not (rebuilt and k.startswith(f"{output}."))}
    misfits = [
        f"{key} {list(value.shape)} there, {list(own[key].shape)} here"
        for key, value in copied.items()
        if own[key].shape != value.shape
    ]
    if misfits:  # e.g. a descriptor file with another number of columns
        raise ValueError(
            f"cannot fine-tune from {source.path}: its weights do not fit this run's model "
            f"({'; '.join(misfits)}); are the molecule descriptors the same?"
        )
    model.load_state_dict(copied, strict=not rebuilt)
    freeze(model, config.freeze_encoder, config.freeze_ffn_layers)
    return {**source.record(config), "output_layer_rebuilt": rebuilt}


def freeze(model: nn.Module, encoder: bool, ffn_layers: int) -> None:
    """Set ``requires_grad = False`` on the weights outside the head (``encoder``) and on the
    head's first ``ffn_layers`` linear layers."""
    frozen: list[nn.Module] = []
    if encoder:
        frozen += [module for name, module in model.named_children() if name != "head"]
    frozen += [layer for layer in model.head if isinstance(layer, nn.Linear)][:ffn_layers]
    for part in frozen:
        if any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in part.modules()):
            raise ValueError(
                "cannot freeze a part holding batch normalisation: its running statistics "
                "would still change in training"
            )
        for parameter in part.parameters():
            parameter.requires_grad_(False)
