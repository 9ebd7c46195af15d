"""Task kinds and their losses, class balancing, target scaling and the learning-rate schedule."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from gnnkit.train import TargetScaler, Task
from gnnkit.train.schedule import warmup_decay, warmup_decay_scheduler
from gnnkit.train.tasks import balanced_class_weights

NAN = math.nan


def test_task_sizes_and_names() -> None:
    assert Task.create("regression", 2).names == ("task0", "task1")
    assert Task.create("binary", 3).n_outputs == 3
    multiclass = Task.create("multiclass", 2, ["a", "b"], n_classes=4)
    assert (multiclass.n_outputs, multiclass.n_classes) == (8, 4)
    assert Task.from_dict(multiclass.to_dict()) == multiclass
    with pytest.raises(ValueError, match="2 task names given for 3 tasks"):
        Task.create("binary", 3, ["a", "b"])
    with pytest.raises(ValueError, match="unknown task kind 'ordinal'"):
        Task.create("ordinal", 1)


def test_check_targets_names_the_split_and_the_bad_labels() -> None:
    binary = Task.create("binary", 1)
    binary.check_targets(torch.tensor([[0.0], [1.0], [NAN]]), "train")
    with pytest.raises(ValueError, match=r"val: binary labels .* found \[2.0\]"):
        binary.check_targets(torch.tensor([[0.0], [2.0]]), "val")
    with pytest.raises(ValueError, match=r"shape \[B, 1\]"):
        binary.check_targets(torch.zeros(3, 2), "test")
    with pytest.raises(ValueError, match="finite or NaN"):
        Task.create("regression", 1).check_targets(torch.tensor([[math.inf]]), "train")


def test_regression_loss_is_the_weighted_mean_over_labelled_entries() -> None:
    task = Task.create("regression", 2)
    output = torch.tensor([[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]])
    target = torch.tensor([[0.0, NAN], [1.0, 1.0], [NAN, NAN]])
    weight = torch.tensor([1.0, 2.0, 5.0])
    weighted, total = task.loss(output, target, weight)
    # labelled: (0,0) err 1 w 1; (1,0) err 4 w 2; (1,1) err 9 w 2
    assert total.item() == pytest.approx(5.0)
    assert (weighted / total).item() == pytest.approx((1 + 2 * 4 + 2 * 9) / 5)


def test_missing_labels_get_no_gradient() -> None:
    task = Task.create("binary", 2)
    output = torch.zeros(2, 2, requires_grad=True)
    weighted, total = task.loss(output, torch.tensor([[1.0, NAN], [NAN, 0.0]]))
    (weighted / total).backward()
    assert output.grad[0, 1] == 0 and output.grad[1, 0] == 0
    assert output.grad[0, 0] != 0 and output.grad[1, 1] != 0


def test_binary_and_multiclass_losses_match_torch() -> None:
    torch.manual_seed(0)
    logits = torch.randn(5, 2)
    labels = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.0]])
    weighted, total = Task.create("binary", 2).loss(logits, labels)
    assert (weighted / total).item() == pytest.approx(
        F.binary_cross_entropy_with_logits(logits, labels).item()
    )

    task = Task.create("multiclass", 2, n_classes=3)
    output = torch.randn(5, 6)
    classes = torch.tensor([[0, 2], [1, 1], [2, 0], [0, 0], [1, 2]])
    weighted, total = task.loss(output, classes.float())
    expected = F.cross_entropy(output.view(5, 2, 3).reshape(10, 3), classes.reshape(10))
    assert (weighted / total).item() == pytest.approx(expected.item(), rel=1e-6)
    assert task.activate(output).shape == (5, 2, 3)
    assert torch.allclose(task.activate(output).sum(-1), torch.ones(5, 2))


def test_balanced_class_weights_equalise_each_class_total() -> None:
    task = Task.create("binary", 2)
    y = torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, NAN]])
    weights = balanced_class_weights(task, y)
    # task 0: 3 negatives, 1 positive -> 4/(2*3), 4/(2*1); task 1: one class only -> weight 1
    assert torch.allclose(weights, torch.tensor([[4 / 6, 2.0], [1.0, 1.0]]))
    _, total = task.loss(torch.zeros(4, 2), y, class_weight=weights)
    assert total.item() == pytest.approx(4 + 3)
    with pytest.raises(ValueError, match="not regression"):
        balanced_class_weights(Task.create("regression", 1), y)


def test_target_scaler_uses_labelled_entries_only() -> None:
    y = torch.tensor([[1.0, 5.0], [3.0, 5.0], [NAN, 5.0]])
    scaler = TargetScaler.fit(y)
    assert scaler.state() == {"mean": [2.0, 5.0], "std": [1.0, 1.0]}  # constant task: std 1
    scaled = scaler.transform(y)
    assert torch.allclose(scaled[:2], torch.tensor([[-1.0, 0.0], [1.0, 0.0]]))
    assert torch.allclose(scaler.inverse(scaled[:2]), y[:2])
    assert TargetScaler.from_state(scaler.state()).state() == scaler.state()


def test_schedule_warms_up_then_decays_to_final_lr() -> None:
    factor = warmup_decay(
        warmup_steps=20, total_steps=120, init_lr=1e-4, max_lr=1e-3, final_lr=1e-4
    )
    assert factor(0) == pytest.approx(0.1)
    assert factor(10) == pytest.approx(0.55)
    assert factor(20) == pytest.approx(1.0)
    assert factor(120) == pytest.approx(0.1)
    assert factor(70) == pytest.approx(math.sqrt(0.1))  # geometric midpoint of the decay
    values = [factor(s) for s in range(121)]
    assert values[:21] == sorted(values[:21]) and values[20:] == sorted(values[20:], reverse=True)


def test_scheduler_drives_the_optimiser_rate() -> None:
    optimizer = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1e-3)
    scheduler = warmup_decay_scheduler(
        optimizer, warmup_steps=2, total_steps=4, init_lr=1e-4, max_lr=1e-3, final_lr=1e-4
    )
    rates = []
    for _ in range(5):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates == pytest.approx([1e-4, 5.5e-4, 1e-3, math.sqrt(1e-7), 1e-4])
    with pytest.raises(ValueError, match="max_lr"):
        warmup_decay_scheduler(
            optimizer, warmup_steps=0, total_steps=1, init_lr=1, max_lr=2, final_lr=1
        )


def test_class_names_round_trip_and_are_checked():
    task = Task.create("multiclass", 2, ["a", "b"], class_names=["low", "mid", "high"])
    assert task.n_classes == 3 and task.class_label(2) == "high"
    assert task.to_dict()["class_names"] == ["low", "mid", "high"]
    assert Task.from_dict(task.to_dict()) == task
    plain = Task.create("multiclass", 1, n_classes=3)
    assert "class_names" not in plain.to_dict() and plain.class_label(2) == "2"
    assert Task.from_dict({"kind": "multiclass", "names": ["task0"], "n_classes": 3}) == plain
    with pytest.raises(ValueError, match="class names are given for the 1 classes"):
        Task("regression", ("t",), 1, ("x",))
    with pytest.raises(ValueError, match="class names must be distinct"):
        Task("multiclass", ("t",), 2, ("x", "x"))
