r"""A trained model with what it needs to predict: its task, target scaler and featurizer; and
the prediction of one or several models with its uncertainty.

With ``S`` samples per graph (ensemble members, MC-dropout passes, or one model), each with a
mean :math:`\mu_k` and, where the head predicts them, an aleatoric variance :math:`a_k` and an
epistemic variance :math:`e_k` (see :mod:`gnnkit.train.losses`), the law of total variance gives

.. math::
    \bar\mu = \tfrac1S \textstyle\sum_k \mu_k, \qquad
    \sigma^2_{\mathrm{alea}} = \tfrac1S \sum_k a_k, \qquad
    \sigma^2_{\mathrm{epi}} = \tfrac1S \sum_k e_k
        + \tfrac1S \sum_k (\mu_k - \bar\mu)^2, \qquad
    \sigma^2 = \sigma^2_{\mathrm{alea}} + \sigma^2_{\mathrm{epi}}

(the members' spread is epistemic), each term present only where some sample provides it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from gnnkit.train.data import eval_loader, stack_targets
from gnnkit.train.metrics import compute_metrics
from gnnkit.train.scaling import TargetScaler
from gnnkit.train.tasks import Task

#: Optional parts of a prediction, in column order (``<target>_<part>``).
UNCERTAINTY_PARTS: tuple[str, ...] = ("std", "aleatoric_std", "epistemic_std", "lower", "upper")


@dataclass(frozen=True, slots=True)
class EnsemblePrediction:
    r"""A prediction and its uncertainty, each ``[B, T]`` or (``mean``, ``std`` of a multiclass
    task) ``[B, T, C]``.

    Attributes:
        mean: values, probabilities or class probabilities.
        std: total standard deviation :math:`\sigma` (see the module docstring); ``None`` with
            neither a spread nor a predicted variance (one model, ``mse`` loss, no MC dropout).
        aleatoric_std, epistemic_std: its two parts, where both exist.
        lower, upper: a calibrated interval (see :mod:`gnnkit.train.calibration`).
    """

    mean: Tensor
    std: Tensor | None = None
    aleatoric_std: Tensor | None = None
    epistemic_std: Tensor | None = None
    lower: Tensor | None = None
    upper: Tensor | None = None

    @property
    def parts(self) -> tuple[str, ...]:
        """The names of :data:`UNCERTAINTY_PARTS` that this prediction holds."""
        return tuple(name for name in UNCERTAINTY_PARTS if getattr(self, name) is not None)


def uncertainty_parts(aleatoric: bool, epistemic: bool, spread: bool) -> tuple[str, ...]:
    """The parts :func:`combine_samples` gives samples with (``aleatoric``/``epistemic``)
    variances and, when ``spread``, more than one sample."""
    epistemic = epistemic or spread
    if aleatoric and epistemic:
        return ("std", "aleatoric_std", "epistemic_std")
    return ("std",) if aleatoric or epistemic else ()


def _sum(terms: Sequence[Tensor | None]) -> Tensor | None:
    """The sum of the terms that are not ``None`` (``None`` when none is)."""
    present = [term for term in terms if term is not None]
    return sum(present[1:], present[0]) if present else None


def combine_samples(
    means: Tensor, aleatoric: Tensor | None = None, epistemic: Tensor | None = None
) -> EnsemblePrediction:
    """One prediction from ``S`` samples: ``means`` ``[S, B, …]`` and optional variances
    ``[S, B, T]``, by the law of total variance (module docstring)."""
    spread = means.var(dim=0, unbiased=False) if means.size(0) > 1 else None
    alea = aleatoric.mean(dim=0) if aleatoric is not None else None
    epi = _sum([epistemic.mean(dim=0) if epistemic is not None else None, spread])
    total = _sum([alea, epi])
    both = alea is not None and epi is not None
    return EnsemblePrediction(
        means.mean(dim=0),
        total.sqrt() if total is not None else None,
        alea.sqrt() if both else None,
        epi.sqrt() if both else None,
    )


def outputs_to_predictions(task: Task, scaler: TargetScaler | None, output: Tensor) -> Tensor:
    """Model output ``[B, n_outputs]`` → un-scaled values ``[B, T]``, probabilities ``[B, T]``
    (binary) or class probabilities ``[B, T, C]`` (multiclass)."""
    preds = task.activate(output)
    return scaler.inverse(preds) if scaler is not None else preds


def outputs_to_variances(
    task: Task, scaler: TargetScaler | None, output: Tensor
) -> tuple[Tensor | None, Tensor | None]:
    r"""The head's ``(aleatoric, epistemic)`` variances ``[B, T]`` in the targets' units
    (:math:`v\,s^2` for a standardised variance :math:`v` and training std :math:`s`)."""
    variances = task.variances(output)
    if scaler is None:
        return variances
    factor = scaler.std.square()
    return tuple(v * factor if v is not None else None for v in variances)  # type: ignore[return-value]


@dataclass(slots=True)
class TrainedModel:
    """A model ready to predict.

    Attributes:
        model: maps a PyG ``Batch`` to ``[num_graphs, task.n_outputs]``.
        task: what it predicts.
        scaler: the regression target scaler (``None`` for classification).
        featurizer: the featurizer settings its input graphs were made with, as plain data.
    """

    model: nn.Module
    task: Task
    scaler: TargetScaler | None = None
    featurizer: dict[str, Any] | None = None

    def to(self, device: str | torch.device) -> TrainedModel:
        """Move the model and the scaler to ``device``; returns ``self``."""
        self.model.to(device)
        if self.scaler is not None:
            self.scaler.to(device)
        return self

    @torch.no_grad()
    def predict_distribution(
        self, graphs: Sequence[Data], *, batch_size: int = 256, device: str | torch.device = "cpu"
    ) -> EnsemblePrediction:
        """Predictions for ``graphs`` in order, on the CPU, with the variance the head predicts
        (``std`` is ``None`` for a squared-error or classification model). The model runs in
        eval mode on ``device``."""
        device = torch.device(device)
        self.to(device).model.eval()
        cuda = device.type == "cuda"
        means, aleatoric, epistemic = [], [], []
        for batch in eval_loader(graphs, batch_size, pin_memory=cuda):
            output = self.model(batch.to(device, non_blocking=cuda))
            means.append(outputs_to_predictions(self.task, self.scaler, output).cpu())
            variances = outputs_to_variances(self.task, self.scaler, output)
            aleatoric.append(variances[0])
            epistemic.append(variances[1])

        def stacked(values: list[Tensor | None]) -> Tensor | None:
            return None if values[0] is None else torch.cat([v.cpu() for v in values])[None]

        return combine_samples(stacked(means), stacked(aleatoric), stacked(epistemic))

    def predict(
        self, graphs: Sequence[Data], *, batch_size: int = 256, device: str | torch.device = "cpu"
    ) -> Tensor:
        """Predictions for ``graphs`` in order, on the CPU: ``[B, T]`` or ``[B, T, C]``
        (see :func:`outputs_to_predictions`). The model runs in eval mode on ``device``."""
        return self.predict_distribution(graphs, batch_size=batch_size, device=device).mean

    def evaluate(
        self, graphs: Sequence[Data], *, batch_size: int = 256, device: str | torch.device = "cpu"
    ) -> tuple[EnsemblePrediction, dict[str, Any]]:
        """Predictions for labelled ``graphs`` and their metrics (see
        :func:`~gnnkit.train.metrics.compute_metrics`)."""
        prediction = self.predict_distribution(graphs, batch_size=batch_size, device=device)
        return prediction, compute_metrics(
            self.task,
            prediction.mean,
            stack_targets(graphs),
            std=prediction.std,
            lower=prediction.lower,
            upper=prediction.upper,
        )
