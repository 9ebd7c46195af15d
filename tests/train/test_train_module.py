"""The randomness of a training step: seeded by (seed, rank, step), kept off the global RNG."""

from __future__ import annotations

from types import SimpleNamespace

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch, Data

from gnnkit.train import Task, TrainConfig
from gnnkit.train.module import GraphTaskModule

WIDTH = 256


class MaskRecorder(nn.Module):
    """Drops out a ``[G, WIDTH]`` block of ones and keeps it: the step's dropout mask."""

    def __init__(self) -> None:
        super().__init__()
        self.dropout = nn.Dropout(0.5)
        self.masks: list[Tensor] = []

    def forward(self, batch: Batch) -> Tensor:
        mask = self.dropout(torch.ones(batch.num_graphs, WIDTH))
        self.masks.append(mask)
        return mask[:, :1]


def step_mask(rank: int, step: int, seed: int = 7) -> Tensor:
    """The dropout mask that process ``rank`` draws at ``step`` (through Lightning's hooks of a
    training step, in its order)."""
    recorder = MaskRecorder()
    module = GraphTaskModule(recorder, Task.create("regression", 1), TrainConfig(seed=seed))
    module.trainer = SimpleNamespace(global_rank=rank, global_step=step)
    graphs = [Data(x=torch.zeros(1, 1), y=torch.zeros(1, 1)) for _ in range(2)]
    batch = Batch.from_data_list(graphs)
    module.on_train_batch_start(batch, 0)
    module.training_step(batch, 0)
    return recorder.masks[0]


def test_ranks_draw_different_masks_that_repeat_per_rank_and_step() -> None:
    first = step_mask(rank=0, step=5)
    assert 0.3 < (first == 0).float().mean() < 0.7  # dropout is on
    assert torch.equal(first, step_mask(rank=0, step=5))
    assert not torch.equal(first, step_mask(rank=1, step=5))
    assert not torch.equal(first, step_mask(rank=0, step=6))
    assert not torch.equal(first, step_mask(rank=0, step=5, seed=8))


def test_a_step_leaves_the_global_rng_alone() -> None:
    torch.manual_seed(123)
    expected = torch.rand(4)
    torch.manual_seed(123)
    step_mask(rank=0, step=5)
    assert torch.equal(torch.rand(4), expected)
