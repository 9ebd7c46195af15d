"""Several trained models used as one: the mean prediction and its spread.

A *deep ensemble* (Lakshminarayanan et al., 2017) is N models trained from different seeds on
the same split; *MC dropout* (Gal & Ghahramani, 2016) keeps dropout on at prediction time and
draws S stochastic passes of each model. With M members and S passes (S = 1 without MC dropout)
every molecule gets M·S samples :math:`\\hat y^{(k)}` and

.. math::
    \\bar y = \\frac{1}{MS} \\sum_k \\hat y^{(k)}, \\qquad
    \\sigma = \\sqrt{\\frac{1}{MS} \\sum_k \\big(\\hat y^{(k)} - \\bar y\\big)^2}

taken on un-scaled values (regression) or on probabilities (classification, so an ensemble
averages probabilities, not logits). A large σ flags a molecule the members disagree on,
typically one unlike the training data.

Run folders: gnnkit's commands write ``model.pt`` for one model, ``member_k/model.pt`` for an
ensemble and ``fold_k/…`` (``foldk/…`` for cascades) for cross-validation; :func:`load_ensemble`
takes any of these (cross-validation folds become members, as in chemprop).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch, Data

from gnnkit.train.checkpoint import load_model
from gnnkit.train.data import eval_loader
from gnnkit.train.predict import TrainedModel, outputs_to_predictions
from gnnkit.train.tasks import Task

MODEL_FILE = "model.pt"
FINGERPRINT_LAYERS = ("aggregate", "penultimate")


def _natural_key(path: Path) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(path))]


def find_model_files(model_dir: str | Path) -> list[Path]:
    """The checkpoints of a run: the file itself, ``model.pt`` in the folder, or those of its
    ``member*/``, ``fold*/`` and ``fold*/member*/`` sub-folders (in numeric order)."""
    path = Path(model_dir)
    if path.is_file():
        return [path]
    if (path / MODEL_FILE).is_file():
        return [path / MODEL_FILE]
    files = [
        file
        for pattern in ("member*", "fold*", "fold*/member*")
        for file in path.glob(f"{pattern}/{MODEL_FILE}")
    ]
    if not files:
        raise FileNotFoundError(
            f"{path}: no {MODEL_FILE} there nor in member*/ or fold*/ sub-folders; pass the "
            "output folder of a training run"
        )
    return sorted(set(files), key=_natural_key)


@dataclass(frozen=True, slots=True)
class EnsemblePrediction:
    """Mean and spread of the samples, each ``[B, T]`` or ``[B, T, C]``; ``std`` is ``None``
    when there is a single sample per molecule (one model, no MC dropout)."""

    mean: Tensor
    std: Tensor | None


#: What the prediction methods take: graphs (a sequence or dataset, batched here), or an
#: iterator of ready batches (e.g. :func:`~gnnkit.data.molecules.batch.molecule_batches`).
Graphs = Sequence[Data] | Iterator[Batch]


def _batches(graphs: Graphs, batch_size: int) -> Iterable[Batch]:
    """``graphs`` in batches of ``batch_size``, or the iterator of batches as it is."""
    return graphs if isinstance(graphs, Iterator) else eval_loader(graphs, batch_size)


def _dropout_modules(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0]


class Ensemble:
    """Trained models with the same task and featurizer, predicting together.

    Args:
        members: the models (at least one).
        sources: where each came from (for messages).
    """

    def __init__(self, members: Sequence[TrainedModel], sources: Sequence[Path] = ()) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one model")
        self.members = list(members)
        self.sources = list(sources) or [Path(f"member_{k}") for k in range(len(members))]
        first = self.members[0]
        for member, source in zip(self.members[1:], self.sources[1:]):
            if member.task != first.task or member.featurizer != first.featurizer:
                raise ValueError(
                    f"{source} predicts {member.task} from featurizer {member.featurizer}, "
                    f"unlike {self.sources[0]} ({first.task}, {first.featurizer}): an ensemble's "
                    "members must share task and featurizer"
                )

    @property
    def task(self) -> Task:
        return self.members[0].task

    @property
    def featurizer(self) -> dict[str, Any]:
        return self.members[0].featurizer or {}

    def __len__(self) -> int:
        return len(self.members)

    def to(self, device: str | torch.device) -> Ensemble:
        for member in self.members:
            member.to(device)
        return self

    def _check_mc_dropout(self) -> None:
        for member, source in zip(self.members, self.sources):
            if not _dropout_modules(member.model):
                raise ValueError(
                    f"{source}: the model has no dropout (trained with dropout 0), so MC dropout "
                    "would give no spread; train with --dropout > 0 or use --ensemble"
                )

    @torch.no_grad()
    def sample_batch(self, batch: Batch, mc_samples: int = 0) -> Tensor:
        """Predictions of every member (and every MC-dropout pass) for one batch:
        ``[M·max(S, 1), B, T]`` or ``[M·max(S, 1), B, T, C]``."""
        samples = []
        for member in self.members:
            member.model.eval()
            dropouts = _dropout_modules(member.model) if mc_samples else []
            for module in dropouts:
                module.train()
            try:
                for _ in range(max(mc_samples, 1)):
                    output = member.model(batch)
                    samples.append(outputs_to_predictions(member.task, member.scaler, output))
            finally:
                for module in dropouts:
                    module.eval()
        return torch.stack(samples)

    def predict_batches(
        self,
        graphs: Graphs,
        *,
        batch_size: int = 256,
        mc_samples: int = 0,
        device: str | torch.device = "cpu",
    ) -> Iterator[EnsemblePrediction]:
        """:class:`EnsemblePrediction` per batch of ``graphs`` (in order, on the CPU); see
        :data:`Graphs`."""
        if mc_samples:
            self._check_mc_dropout()
        self.to(device)
        for batch in _batches(graphs, batch_size):
            samples = self.sample_batch(batch.to(device), mc_samples).cpu()
            std = samples.std(dim=0, unbiased=False) if samples.size(0) > 1 else None
            yield EnsemblePrediction(samples.mean(dim=0), std)

    def predict(
        self,
        graphs: Graphs,
        *,
        batch_size: int = 256,
        mc_samples: int = 0,
        device: str | torch.device = "cpu",
    ) -> EnsemblePrediction:
        """Mean and spread over members (and MC-dropout passes when ``mc_samples`` > 0) for
        every graph, in order (see :data:`Graphs`). Seed torch beforehand for reproducible
        MC-dropout draws."""
        parts = list(
            self.predict_batches(
                graphs, batch_size=batch_size, mc_samples=mc_samples, device=device
            )
        )
        if not parts:
            empty = torch.empty(0, self.task.n_tasks)
            return EnsemblePrediction(empty, None)
        mean = torch.cat([p.mean for p in parts])
        std = None if parts[0].std is None else torch.cat([p.std for p in parts])
        return EnsemblePrediction(mean, std)

    @torch.no_grad()
    def fingerprints(
        self,
        graphs: Graphs,
        *,
        layer: str = "aggregate",
        member: int = 0,
        batch_size: int = 256,
        device: str | torch.device = "cpu",
    ) -> Tensor:
        """Learned molecule vectors ``[B, F]`` of one member: ``"aggregate"`` is the molecule
        embedding fed to the FFN head (:math:`\\mathbf{h}_G`, with scaled descriptors if any);
        ``"penultimate"`` is the output of the head's last hidden layer (after its ReLU)."""
        if layer not in FINGERPRINT_LAYERS:
            raise ValueError(f"layer must be one of {FINGERPRINT_LAYERS}, got {layer!r}")
        if not 0 <= member < len(self.members):
            raise ValueError(f"member must be in 0..{len(self.members) - 1}, got {member}")
        model = self.members[member].to(device).model.eval()
        rows = []
        for batch in _batches(graphs, batch_size):
            embedding = model.molecule_embedding(batch.to(device))
            if layer == "penultimate":
                embedding = model.head[:-1](embedding)
            rows.append(embedding.cpu())
        return torch.cat(rows) if rows else torch.empty(0, 0)


def load_ensemble(model_dir: str | Path) -> Ensemble:
    """Every checkpoint of a run (see :func:`find_model_files`) as one :class:`Ensemble`."""
    files = find_model_files(model_dir)
    return Ensemble([load_model(file) for file in files], files)
