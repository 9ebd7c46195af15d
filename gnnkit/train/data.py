"""Graph splits as the trainer reads them, and their data loaders (single process or DDP).

A split is a sequence of ``torch_geometric.data.Data``, each with

- ``y`` ``[1, T]``: the graph's targets, ``NaN`` where a label is missing;
- optionally ``weight`` (one number): the graph's weight in the loss (all graphs or none);
- optionally an identifier (e.g. ``id`` or ``smiles``) written next to its predictions.

Loaders shard by process: training draws a fresh permutation every epoch from ``seed + epoch``
(``DistributedSampler``, which pads the last shard so every process runs as many steps);
evaluation gives process ``r`` of ``W`` the graphs ``r, r + W, …`` with no padding, so metrics
gathered over processes see each graph exactly once.

Molecule graphs (:class:`~gnnkit.data.molecules.graph.MoleculeGraph`) are batched from
concatenated arrays by :class:`~gnnkit.data.molecules.collate.MoleculeCollater`, the builder
prediction uses; other graphs by PyG's collation. Both give the same batches. ``pin_memory``
(for a CUDA device) puts batches in page-locked memory, so that copies to the device can run
asynchronously.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader as TorchDataLoader
from torch.utils.data import DistributedSampler, Sampler
from torch_geometric.data import Batch, Data
from torch_geometric.loader import DataLoader

ID_KEYS: tuple[str, ...] = ("id", "smiles", "name")


def check_split(graphs: Sequence[Data], where: str) -> int:
    """Validate a split's ``y`` and ``weight``; return the number of tasks ``T``."""
    if len(graphs) == 0:
        raise ValueError(f"the {where} split is empty")
    has_weight = getattr(graphs[0], "weight", None) is not None
    for index, graph in enumerate(graphs):
        y = getattr(graph, "y", None)
        if not isinstance(y, Tensor) or y.dim() != 2 or y.size(0) != 1:
            shape = list(y.shape) if isinstance(y, Tensor) else type(y).__name__
            raise ValueError(
                f"graph {index} of the {where} split has y {shape}; gnnkit expects a float "
                "tensor [1, n_tasks] per graph, NaN where a label is missing "
                "(e.g. y=torch.tensor([[2.5]]))"
            )
        if y.size(1) != graphs[0].y.size(1):
            raise ValueError(
                f"graph {index} of the {where} split has {y.size(1)} targets, graph 0 has "
                f"{graphs[0].y.size(1)}"
            )
        weight = getattr(graph, "weight", None)
        if (weight is not None) != has_weight:
            raise ValueError(f"in the {where} split some graphs have a weight and some do not")
        if weight is not None and not (
            torch.as_tensor(weight).numel() == 1
            and math.isfinite(float(weight))
            and float(weight) >= 0
        ):
            raise ValueError(
                f"graph {index} of the {where} split has weight {weight!r}; expected one finite "
                "number >= 0"
            )
    return graphs[0].y.size(1)


def stack_targets(graphs: Sequence[Data]) -> Tensor:
    """The targets of a split, ``[B, T]``."""
    return torch.cat([graph.y for graph in graphs], dim=0).float()


def find_id_key(graphs: Sequence[Data], id_key: str | None) -> str | None:
    """``id_key`` (checked present on every graph), or the first of :data:`ID_KEYS` that every
    graph has, or ``None``."""
    candidates = (id_key,) if id_key is not None else ID_KEYS
    for key in candidates:
        if all(getattr(graph, key, None) is not None for graph in graphs):
            return key
    if id_key is not None:
        raise ValueError(f"id_key {id_key!r} is not an attribute of every graph")
    return None


def graph_ids(graphs: Sequence[Data], id_key: str | None) -> list[object]:
    """One identifier per graph: its ``id_key`` attribute (tensors as Python numbers), or its
    position in the split when ``id_key`` is ``None``."""
    if id_key is None:
        return list(range(len(graphs)))
    values = [getattr(graph, id_key) for graph in graphs]
    return [value.item() if isinstance(value, Tensor) else value for value in values]


class ShardSampler(Sampler[int]):
    """Indices ``rank, rank + world_size, …`` of ``size`` items: disjoint, unpadded shards."""

    def __init__(self, size: int, rank: int = 0, world_size: int = 1) -> None:
        self.size, self.rank, self.world_size = size, rank, world_size

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, self.size, self.world_size))

    def __len__(self) -> int:
        return len(range(self.rank, self.size, self.world_size))


def molecule_collater(graphs: Sequence[Data]) -> Callable[[list[int]], Batch] | None:
    """The array-based ``collate_fn`` of a split of molecule graphs (positions → batch), or
    ``None`` for other graphs."""
    # A MoleculeGraph exists only once its package is imported: other splits never import it
    # (nor RDKit).
    if "gnnkit.data.molecules.graph" not in sys.modules:
        return None
    from gnnkit.data.molecules.collate import MoleculeCollater

    return MoleculeCollater.of(graphs)


def graph_loader(
    graphs: Sequence[Data],
    batch_size: int,
    sampler: Sampler[int],
    *,
    num_workers: int = 0,
    pin_memory: bool = False,
) -> TorchDataLoader:
    """Batches of the graphs ``sampler`` draws: built from arrays for molecule graphs
    (:func:`molecule_collater`), by PyG's collation otherwise."""
    collate = molecule_collater(graphs)
    if collate is None:
        return DataLoader(
            graphs,
            batch_size=batch_size,
            sampler=sampler,
            num_workers=num_workers,
            pin_memory=pin_memory,
        )
    return TorchDataLoader(
        range(len(graphs)),
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        collate_fn=collate,
        pin_memory=pin_memory,
    )


def train_loader(
    graphs: Sequence[Data],
    batch_size: int,
    *,
    seed: int,
    rank: int = 0,
    world_size: int = 1,
    num_workers: int = 0,
    pin_memory: bool = False,
) -> TorchDataLoader:
    """Shuffled batches of this process's shard; call ``loader.sampler.set_epoch(e)`` (Lightning
    does) for epoch ``e``'s permutation."""
    sampler = DistributedSampler(
        graphs, num_replicas=world_size, rank=rank, shuffle=True, seed=seed, drop_last=False
    )
    return graph_loader(graphs, batch_size, sampler, num_workers=num_workers, pin_memory=pin_memory)


def eval_loader(
    graphs: Sequence[Data],
    batch_size: int,
    *,
    rank: int = 0,
    world_size: int = 1,
    num_workers: int = 0,
    pin_memory: bool = False,
) -> TorchDataLoader:
    """Batches of this process's unpadded shard, in order."""
    sampler = ShardSampler(len(graphs), rank, world_size)
    return graph_loader(graphs, batch_size, sampler, num_workers=num_workers, pin_memory=pin_memory)


class GraphDataModule(L.LightningDataModule):
    """Train and validation loaders, sharded by the trainer's process rank once it is known."""

    def __init__(
        self,
        train: Sequence[Data],
        val: Sequence[Data],
        *,
        batch_size: int,
        seed: int,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        self.train, self.val = train, val
        self.batch_size, self.seed, self.num_workers = batch_size, seed, num_workers

    @property
    def pin_memory(self) -> bool:
        """Pin batches in page-locked memory when training on a CUDA device."""
        return self.trainer.strategy.root_device.type == "cuda"

    def transfer_batch_to_device(
        self, batch: Any, device: torch.device, dataloader_idx: int
    ) -> Any:
        """Copy a batch to ``device``; to CUDA without blocking (the batches come pinned)."""
        if isinstance(batch, Batch):
            return batch.to(device, non_blocking=device.type == "cuda")
        return super().transfer_batch_to_device(batch, device, dataloader_idx)

    def train_dataloader(self) -> TorchDataLoader:
        return train_loader(
            self.train,
            self.batch_size,
            seed=self.seed,
            rank=self.trainer.global_rank,
            world_size=self.trainer.world_size,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
        )

    def val_dataloader(self) -> TorchDataLoader:
        return eval_loader(
            self.val,
            self.batch_size,
            rank=self.trainer.global_rank,
            world_size=self.trainer.world_size,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
        )
