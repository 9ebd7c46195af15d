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
typically one unlike the training data. Members whose head predicts a variance (``mve``,
``evidential``) add it by the law of total variance (see :mod:`gnnkit.train.predict`), and a
calibration stored with the run (:mod:`gnnkit.train.calibration`) is applied to the result.

Run folders: gnnkit's commands write ``model.pt`` for one model, ``member_k/model.pt`` for an
ensemble and ``fold_k/…`` (``foldk/…`` for cascades) for cross-validation; :func:`load_ensemble`
takes any of these (cross-validation folds become members, as in chemprop). A run folder's
``run.json`` (written by ``gnnkit mol train`` before training starts) lists under ``"models"``
every model file of the finished run, so a run whose training stopped part-way is recognised.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch, Data

from gnnkit.choices import FINGERPRINT_LAYERS
from gnnkit.models.dmpnn import penultimate_encoding
from gnnkit.train.calibration import Calibration, read_calibration
from gnnkit.train.checkpoint import load_model
from gnnkit.train.data import eval_loader
from gnnkit.train.predict import (
    EnsemblePrediction,
    TrainedModel,
    combine_samples,
    outputs_to_predictions,
    outputs_to_variances,
    uncertainty_parts,
)
from gnnkit.train.tasks import Task

MODEL_FILE = "model.pt"
RUN_FILE = "run.json"


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


#: What the prediction methods take: graphs (a sequence or dataset, batched here), or an
#: iterator of ready batches (e.g. :func:`~gnnkit.data.molecules.batch.molecule_batches`).
Graphs = Sequence[Data] | Iterator[Batch]


def _batches(graphs: Graphs, batch_size: int) -> Iterable[Batch]:
    """``graphs`` in batches of ``batch_size``, or the iterator of batches as it is."""
    return graphs if isinstance(graphs, Iterator) else eval_loader(graphs, batch_size)


def _dropout_modules(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0]


def read_run_record(folder: str | Path) -> dict[str, Any] | None:
    """The :data:`RUN_FILE` of a run folder, or ``None`` when it has none (a model file, or a
    run of an older gnnkit)."""
    path = Path(folder) / RUN_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
    except ValueError as error:
        raise ValueError(f"{path}: not a gnnkit run record ({error})") from error
    if not isinstance(record, dict) or not isinstance(record.get("models"), list):
        raise ValueError(f"{path}: not a gnnkit run record (no list of models)")
    return record


def planned_model_files(model_dir: str | Path) -> list[Path]:
    """The model files that the finished run in ``model_dir`` holds, as its :data:`RUN_FILE`
    lists them; ``[]`` without one."""
    record = read_run_record(model_dir)
    return [Path(model_dir) / name for name in record["models"]] if record else []


def check_finished(model_dir: str | Path, allow_partial: bool) -> list[Path]:
    """The planned model files missing from ``model_dir`` (see :func:`planned_model_files`).

    Raises:
        FileNotFoundError: some are missing and ``allow_partial`` is false; when it is true, a
            warning goes to stderr instead.
    """
    planned = planned_model_files(model_dir)
    missing = [file for file in planned if not file.is_file()]
    if not missing:
        return []
    names = ", ".join(str(file.relative_to(model_dir)) for file in missing)
    report = (
        f"{model_dir} is an unfinished run: {len(planned) - len(missing)} of {len(planned)} "
        f"models are trained ({names} missing)"
    )
    if not allow_partial:
        raise FileNotFoundError(
            f"{report}; finish its training with resume=True (--resume), or pass "
            "allow_partial=True (--allow-partial) to use the trained models only"
        )
    print(f"warning: {report}; using the trained models only", file=sys.stderr)
    return missing


class Ensemble:
    """Trained models with the same task and featurizer, predicting together.

    Args:
        members: the models (at least one).
        sources: where each came from (for messages).
        missing: model files of the same run that are not trained yet (a partial run).
        calibration: applied to every prediction, or ``None``.
    """

    def __init__(
        self,
        members: Sequence[TrainedModel],
        sources: Sequence[Path] = (),
        missing: Sequence[Path] = (),
        calibration: Calibration | None = None,
    ) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one model")
        self.calibration = calibration
        self.members = list(members)
        self.sources = list(sources) or [Path(f"member_{k}") for k in range(len(members))]
        self.missing = list(missing)
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

    def prediction_parts(self, mc_samples: int = 0) -> tuple[str, ...]:
        """The uncertainty parts (:data:`~gnnkit.train.predict.UNCERTAINTY_PARTS`) that
        :meth:`predict` gives with ``mc_samples``: a ``std`` with a spread or a predicted
        variance, its two parts where both exist, and ``lower``/``upper`` with a calibration
        that makes intervals."""
        loss = self.task.regression_loss
        parts = uncertainty_parts(
            aleatoric=loss != "mse",
            epistemic=loss == "evidential",
            spread=len(self.members) * max(mc_samples, 1) > 1,
        )
        intervals = self.calibration is not None and self.calibration.alpha is not None
        return (*parts, *(("lower", "upper") if intervals else ()))

    @torch.no_grad()
    def sample_moments(
        self, batch: Batch, mc_samples: int = 0
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """Predictions of every member (and every MC-dropout pass) for one batch:
        ``[M·max(S, 1), B, T]`` or ``[M·max(S, 1), B, T, C]``, and the aleatoric and epistemic
        variances ``[M·max(S, 1), B, T]`` that the heads predict (``None`` where they predict
        none)."""
        means, variances = [], []
        for member in self.members:
            member.model.eval()
            dropouts = _dropout_modules(member.model) if mc_samples else []
            for module in dropouts:
                module.train()
            try:
                for _ in range(max(mc_samples, 1)):
                    output = member.model(batch)
                    means.append(outputs_to_predictions(member.task, member.scaler, output))
                    variances.append(outputs_to_variances(member.task, member.scaler, output))
            finally:
                for module in dropouts:
                    module.eval()
        aleatoric, epistemic = (
            torch.stack(kind) if kind[0] is not None else None for kind in zip(*variances)
        )
        return torch.stack(means), aleatoric, epistemic

    def sample_batch(self, batch: Batch, mc_samples: int = 0) -> Tensor:
        """The predictions of :meth:`sample_moments`, without the variances."""
        return self.sample_moments(batch, mc_samples)[0]

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
            moments = self.sample_moments(batch.to(device), mc_samples)
            prediction = combine_samples(*(m.cpu() if m is not None else None for m in moments))
            yield self.calibration.apply(prediction) if self.calibration else prediction

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
        return EnsemblePrediction(
            torch.cat([p.mean for p in parts]),
            **{name: torch.cat([getattr(p, name) for p in parts]) for name in parts[0].parts},
        )

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
        ``"penultimate"`` is chemprop's ``encoding(i=-1)``: the output of the head's last hidden
        ``Linear``, before its ReLU (see :func:`~gnnkit.models.dmpnn.penultimate_encoding`)."""
        if layer not in FINGERPRINT_LAYERS:
            raise ValueError(f"layer must be one of {FINGERPRINT_LAYERS}, got {layer!r}")
        if not 0 <= member < len(self.members):
            raise ValueError(f"member must be in 0..{len(self.members) - 1}, got {member}")
        model = self.members[member].to(device).model.eval()
        rows = []
        for batch in _batches(graphs, batch_size):
            embedding = model.molecule_embedding(batch.to(device))
            if layer == "penultimate":
                embedding = penultimate_encoding(model.head, embedding)
            rows.append(embedding.cpu())
        return torch.cat(rows) if rows else torch.empty(0, 0)


def load_ensemble(model_dir: str | Path, *, allow_partial: bool = False) -> Ensemble:
    """Every checkpoint of a run (see :func:`find_model_files`) as one :class:`Ensemble`, with
    the calibration stored in ``model_dir`` (:func:`~gnnkit.train.calibration.read_calibration`).

    A run whose training stopped before every fold or member was trained is refused, or with
    ``allow_partial`` used with the trained models (see :func:`check_finished`)."""
    missing = check_finished(model_dir, allow_partial)
    files = find_model_files(model_dir)
    models = [load_model(file) for file in files]
    return Ensemble(models, files, missing, read_calibration(model_dir))
