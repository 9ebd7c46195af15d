"""Regression heads with a variance: their negative log-likelihoods by hand, the un-scaling of
their variances, and the law of total variance over samples."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from gnnkit.train import Task, TrainConfig
from gnnkit.train.losses import EPSILON, head_variances
from gnnkit.train.predict import combine_samples, outputs_to_variances
from gnnkit.train.scaling import TargetScaler

#: softplus(ONE) = 1
ONE = math.log(math.e - 1)


def test_mve_loss_is_the_gaussian_nll_by_hand():
    task = Task.create("regression", 1, regression_loss="mve")
    output = torch.tensor([[0.0, ONE], [2.0, ONE]])  # mean 0 and 2, variance 1 (+ epsilon)
    target = torch.tensor([[1.0], [2.0]])
    variance = 1 + EPSILON
    expected = [
        0.5 * math.log(2 * math.pi * variance) + 1 / (2 * variance),
        0.5 * math.log(2 * math.pi * variance),
    ]
    assert task.element_loss(output, target)[:, 0].tolist() == pytest.approx(expected)
    assert task.activate(output)[:, 0].tolist() == [0.0, 2.0]
    assert F.gaussian_nll_loss(
        torch.tensor([0.0, 2.0]), target[:, 0], torch.full((2,), variance), full=True
    ).item() == pytest.approx(sum(expected) / 2)


def test_evidential_loss_by_hand_and_as_a_student_t():
    """γ = 0, ν = 1, α = 2, β = 1 and y = 1: Ω = 4, the regulariser |y − γ|(2ν + α) = 4."""
    task = Task.create("regression", 1, regression_loss="evidential", evidential_lambda=0.2)
    output = torch.tensor([[0.0, ONE, ONE, ONE]], dtype=torch.float64)
    target = torch.tensor([[1.0]], dtype=torch.float64)
    nll = (
        0.5 * math.log(math.pi / 1)
        - 2 * math.log(4)
        + 2.5 * math.log(1 * 1 + 4)
        + math.lgamma(2)
        - math.lgamma(2.5)
    )
    assert task.element_loss(output, target).item() == pytest.approx(nll + 0.2 * 4, rel=1e-5)
    # the NIG marginal is a Student t with 2α degrees of freedom, scale² β(1 + ν)/(να)
    student = torch.distributions.StudentT(4.0, 0.0, math.sqrt(1 * 2 / (1 * 2)))
    assert nll == pytest.approx(-student.log_prob(torch.tensor(1.0)).item())
    aleatoric, epistemic = head_variances("evidential", output)
    assert aleatoric.item() == pytest.approx(1.0, rel=1e-5)  # β / (α − 1)
    assert epistemic.item() == pytest.approx(1.0, rel=1e-5)  # β / (ν(α − 1))


def test_heads_have_k_outputs_per_task_and_checkpoints_name_the_loss():
    assert [
        Task.create("regression", 3, regression_loss=loss).n_outputs
        for loss in ("mse", "mve", "evidential")
    ] == [3, 6, 12]
    task = Task.create("regression", 1, regression_loss="evidential", evidential_lambda=0.05)
    assert Task.from_dict(task.to_dict()) == task
    old = {"kind": "regression", "names": ["y"], "n_classes": 1}  # before the losses existed
    assert Task.from_dict(old).regression_loss == "mse"
    with pytest.raises(ValueError, match="loss 'mve' applies to regression tasks, not binary"):
        Task.create("binary", 1, regression_loss="mve")
    with pytest.raises(ValueError, match="loss 'mve' predicts a variance for regression tasks"):
        TrainConfig(task="binary", loss="mve").validate()


def test_variances_are_unscaled_by_the_square_of_the_training_std():
    task = Task.create("regression", 2, regression_loss="mve")
    scaler = TargetScaler(torch.tensor([5.0, -1.0]), torch.tensor([2.0, 0.5]))
    output = torch.tensor([[0.0, 0.0, ONE, ONE]])  # standardised variance 1 for both tasks
    aleatoric, epistemic = outputs_to_variances(task, scaler, output)
    assert aleatoric[0].tolist() == pytest.approx([4 * (1 + EPSILON), 0.25 * (1 + EPSILON)])
    assert epistemic is None


def test_samples_combine_by_the_law_of_total_variance():
    means = torch.tensor([[[1.0]], [[3.0]]])  # two members, one molecule
    aleatoric = torch.tensor([[[1.0]], [[2.0]]])
    prediction = combine_samples(means, aleatoric)
    assert prediction.mean.item() == 2.0
    assert prediction.aleatoric_std.item() == pytest.approx(math.sqrt(1.5))
    assert prediction.epistemic_std.item() == pytest.approx(1.0)  # the spread
    assert prediction.std.item() == pytest.approx(math.sqrt(2.5))
    assert prediction.parts == ("std", "aleatoric_std", "epistemic_std")
    alone = combine_samples(means[:1], aleatoric[:1])  # one mve model: its own variance only
    assert alone.parts == ("std",) and alone.std.item() == pytest.approx(1.0)
    spread_only = combine_samples(means)  # a squared-error ensemble: the spread, as before
    assert spread_only.parts == ("std",) and spread_only.std.item() == pytest.approx(1.0)
    assert combine_samples(means[:1]).parts == ()
