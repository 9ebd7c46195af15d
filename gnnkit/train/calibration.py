r"""Calibration of a prediction's uncertainty, fitted on the validation split.

Each method is fitted per task on the labelled validation graphs, from the prediction of
exactly the models that will predict with it (one model, an ensemble, with the spread and
variances of :class:`~gnnkit.train.predict.EnsemblePrediction`), and is stored as plain JSON
(:data:`CALIBRATION_FILE`) beside those models.

Regression, with validation targets :math:`y_i`, predictions :math:`\mu_i`, standard deviations
:math:`\sigma_i` and miscoverage :math:`\alpha`:

``zscaling`` (Levi et al. 2022)
    one factor :math:`s` per task multiplies every :math:`\sigma`; it minimises the Gaussian
    negative log-likelihood :math:`\sum_i \log(s\sigma_i) + r_i^2 / (2 s^2 \sigma_i^2)` of the
    validation errors :math:`r_i = y_i - \mu_i`, whose minimiser has the closed form
    :math:`s^2 = \frac1n \sum_i r_i^2 / \sigma_i^2` (the paper fits it by gradient descent; the
    optimum is the same). The interval is Gaussian: :math:`\mu \pm z_{1-\alpha/2}\, s\sigma`.
    Needs a :math:`\sigma`: an ``mve`` or ``evidential`` head, or an ensemble's spread.
``conformal`` (split conformal regression, Lei et al. 2018)
    scores :math:`c_i = |r_i| / \sigma_i` when the prediction has a :math:`\sigma`
    (normalised scores: intervals widen with the uncertainty), else :math:`c_i = |r_i|`
    (absolute residuals: one width for every molecule); :math:`q` is the
    :math:`k`-th smallest score with :math:`k = \lceil (n + 1)(1 - \alpha) \rceil`, so that
    :math:`\Pr(y \in [\mu - q\sigma, \mu + q\sigma]) \ge 1 - \alpha` for a new molecule
    exchangeable with the validation ones. :math:`k > n` (fewer than :math:`1/\alpha - 1`
    validation labels) is refused.

Binary classification, with validation probabilities :math:`p_i` and labels :math:`y_i`:

``platt`` (Platt 1999)
    :math:`p' = \operatorname{sigmoid}(a \operatorname{logit}(p) + b)`, :math:`a, b` fitted by
    an unpenalised (``C = inf``) logistic regression of :math:`y` on :math:`\operatorname{logit}(p)`
    (scikit-learn). Departure: Platt's smoothed targets :math:`(N_+ + 1)/(N_+ + 2)` are not
    used; the labels are 0 and 1.
``isotonic`` (Zadrozny & Elkan 2002)
    scikit-learn's ``IsotonicRegression`` of :math:`y` on :math:`p` (non-decreasing, clipped to
    [0, 1]), stored as its breakpoints and applied by linear interpolation between them
    (constant beyond the ends), which is what ``IsotonicRegression.predict`` computes.

Calibration maps a prediction to another (:meth:`Calibration.apply`): regression gets
``lower``/``upper`` (and, for ``zscaling``, every standard deviation times :math:`s`),
classification gets calibrated probabilities in ``mean`` (an ensemble's spread stays that of
the uncalibrated probabilities).
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from gnnkit.choices import CLASSIFICATION_CALIBRATIONS, REGRESSION_CALIBRATIONS
from gnnkit.train.predict import EnsemblePrediction
from gnnkit.train.tasks import Task

CALIBRATION_FILE = "calibration.json"
#: The methods of each task kind (:mod:`gnnkit.choices` without ``"none"``).
REGRESSION_METHODS = tuple(m for m in REGRESSION_CALIBRATIONS if m != "none")
CLASSIFICATION_METHODS = tuple(m for m in CLASSIFICATION_CALIBRATIONS if m != "none")
#: Probabilities are clipped to [EPS, 1 - EPS] before the logit.
EPS = 1e-7


@dataclass(frozen=True, slots=True)
class Calibration:
    """A fitted calibration (see the module docstring).

    Attributes:
        method: ``"zscaling"``, ``"conformal"``, ``"platt"`` or ``"isotonic"``.
        alpha: miscoverage of the intervals (regression), else ``None``.
        score: ``"normalised"`` or ``"absolute"`` conformal scores, else ``None``.
        parameters: per task: ``{"scale"}``, ``{"quantile"}``, ``{"a", "b"}`` or ``{"x", "y"}``.
        n: labelled validation graphs per task.
    """

    method: str
    alpha: float | None
    score: str | None
    parameters: list[dict[str, Any]]
    n: list[int]

    def to_dict(self) -> dict[str, Any]:
        return {"format": "gnnkit-calibration", **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        return cls(data["method"], data["alpha"], data["score"], data["parameters"], data["n"])

    def apply(self, prediction: EnsemblePrediction) -> EnsemblePrediction:
        """The calibrated prediction (each tensor ``[B, T]``)."""
        if self.method in CLASSIFICATION_METHODS:
            columns = [
                _calibrate_probability(self.method, prediction.mean[:, t], parameters)
                for t, parameters in enumerate(self.parameters)
            ]
            return replace(prediction, mean=torch.stack(columns, dim=1))
        if self.method == "zscaling":
            scale = torch.tensor([p["scale"] for p in self.parameters], dtype=torch.float32)
            scaled = {
                name: getattr(prediction, name) * scale
                for name in ("std", "aleatoric_std", "epistemic_std")
                if getattr(prediction, name) is not None
            }
            prediction = replace(prediction, **scaled)
            half_width = prediction.std * gaussian_quantile(self.alpha)
        else:
            quantile = torch.tensor([p["quantile"] for p in self.parameters], dtype=torch.float32)
            if self.score == "normalised" and prediction.std is None:
                raise ValueError(
                    "this conformal calibration scales intervals by the predicted standard "
                    "deviation, which this prediction lacks"
                )
            half_width = quantile * (prediction.std if self.score == "normalised" else 1.0)
        return replace(
            prediction, lower=prediction.mean - half_width, upper=prediction.mean + half_width
        )


def gaussian_quantile(alpha: float) -> float:
    r""":math:`z_{1-\alpha/2}`, the half-width in standard deviations of a centred Gaussian
    interval holding :math:`1 - \alpha`."""
    return statistics.NormalDist().inv_cdf(1 - alpha / 2)


def conformal_quantile(scores: Tensor, alpha: float) -> float:
    r"""The :math:`\lceil (n+1)(1-\alpha) \rceil`-th smallest of ``scores`` ``[n]``."""
    n = scores.numel()
    k = math.ceil((n + 1) * (1 - alpha))
    if k > n:
        raise ValueError(
            f"conformal intervals at alpha={alpha} need at least {math.ceil(1 / alpha) - 1} "
            f"labelled validation molecules per task, got {n}; use a larger alpha or more data"
        )
    return torch.sort(scores.double()).values[k - 1].item()


def _logit(p: Tensor) -> Tensor:
    p = p.double().clamp(EPS, 1 - EPS)
    return torch.log(p) - torch.log1p(-p)


def _calibrate_probability(method: str, p: Tensor, parameters: dict[str, Any]) -> Tensor:
    if method == "platt":
        return torch.sigmoid(parameters["a"] * _logit(p) + parameters["b"]).to(p.dtype)
    values = np.interp(p.double().numpy(), parameters["x"], parameters["y"])
    return torch.from_numpy(values).to(p.dtype)


def _fit_probability(method: str, p: Tensor, y: Tensor) -> dict[str, Any]:
    if bool((y == y[0]).all()):
        raise ValueError(
            f"{method} calibration needs both classes among the validation labels of each task"
        )
    if method == "platt":
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=np.inf).fit(_logit(p).numpy()[:, None], y.numpy())
        return {"a": float(model.coef_[0, 0]), "b": float(model.intercept_[0])}
    from sklearn.isotonic import IsotonicRegression

    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    model.fit(p.double().numpy(), y.double().numpy())
    return {"x": model.X_thresholds_.tolist(), "y": model.y_thresholds_.tolist()}


def check_calibration(method: str, task: Task) -> None:
    """Raise ``ValueError`` unless ``method`` suits ``task``'s kind."""
    if task.kind == "regression" and method not in REGRESSION_METHODS:
        raise ValueError(
            f"calibration {method!r} calibrates probabilities; a regression task takes "
            f"{' or '.join(REGRESSION_METHODS)}"
        )
    if task.kind == "binary" and method not in CLASSIFICATION_METHODS:
        raise ValueError(
            f"calibration {method!r} makes intervals for regression; a classification task "
            f"takes {' or '.join(CLASSIFICATION_METHODS)}"
        )
    if task.kind == "multiclass":
        raise ValueError("calibration of multiclass tasks is not supported (binary only)")


def fit_calibration(
    method: str, task: Task, prediction: EnsemblePrediction, target: Tensor, alpha: float = 0.1
) -> Calibration:
    """Fit ``method`` on validation ``prediction`` and ``target`` ``[n, T]`` (NaN = missing)."""
    check_calibration(method, task)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    if method == "zscaling" and prediction.std is None:
        raise ValueError(
            "zscaling scales a predicted standard deviation, and this model predicts none: "
            "train with --loss mve or evidential, or an ensemble (--ensemble N)"
        )
    parameters, counts = [], []
    for t in range(task.n_tasks):
        labelled = ~torch.isnan(target[:, t])
        y, mean = target[labelled, t].double(), prediction.mean[labelled, t].double()
        if y.numel() == 0:
            raise ValueError(f"task {task.names[t]!r} has no labelled validation molecules")
        counts.append(int(y.numel()))
        if method in CLASSIFICATION_METHODS:
            parameters.append(_fit_probability(method, mean, y))
            continue
        error = (y - mean).abs()
        std = prediction.std[labelled, t].double() if prediction.std is not None else None
        if method == "zscaling":
            parameters.append({"scale": (error / std).square().mean().sqrt().item()})
        else:
            scores = error / std if std is not None else error
            parameters.append({"quantile": conformal_quantile(scores, alpha)})
    regression = method in REGRESSION_METHODS
    score = None
    if method == "conformal":
        score = "normalised" if prediction.std is not None else "absolute"
    return Calibration(method, alpha if regression else None, score, parameters, counts)


def write_calibration(calibration: Calibration, folder: str | Path) -> Path:
    """Write :data:`CALIBRATION_FILE` into ``folder``."""
    path = Path(folder) / CALIBRATION_FILE
    path.write_text(json.dumps(calibration.to_dict(), indent=2, allow_nan=False) + "\n")
    return path


def read_calibration(folder: str | Path) -> Calibration | None:
    """The :data:`CALIBRATION_FILE` of ``folder`` (of the file's folder when given a model
    file), or ``None`` when there is none. Plain JSON: nothing is unpickled."""
    folder = Path(folder)
    path = (folder.parent if folder.is_file() else folder) / CALIBRATION_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        return Calibration.from_dict(data)
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: not a gnnkit calibration file ({error})") from error
