"""Forward+backward time of gnnkit's own message-passing layers against the same computation in PyG.

    python benchmarks/layers.py [--nodes 10000] [--edges 200000] [--channels 64]
                                [--repeats 21] [--device cpu|cuda]

gnnkit's ``GCNConv``, ``GATConv`` and ``SAGEConv`` are PyG's classes (a ratio of 1 by
construction), so the pairs are the layers gnnkit defines itself: ``SumGCNConv`` against PyG's
``GCNConv(normalize=False)`` after ``add_remaining_self_loops``, and ``MLPGINConv`` against PyG's
``GINConv`` around the same MLP. Each pair is timed on the same random graph and input,
alternating gnnkit and PyG within each repeat so that both see the same machine state. Prints
the median milliseconds per forward+backward and the ratio gnnkit / PyG.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch_geometric.nn as pyg
from torch import Tensor, nn
from torch_geometric.utils import add_remaining_self_loops

import gnnkit.nn as gk


class PyGSumGCN(nn.Module):
    """PyG's un-normalised ``GCNConv`` on the graph with one self-loop per node."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = pyg.GCNConv(channels, channels, add_self_loops=False, normalize=False)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        edge_index, _ = add_remaining_self_loops(edge_index, num_nodes=x.size(0))
        return self.conv(x, edge_index)


def layer_pairs(
    channels: int,
) -> dict[str, tuple[Callable[[], nn.Module], Callable[[], nn.Module]]]:
    """gnnkit layer and the matching PyG computation."""

    def pyg_gin() -> nn.Module:
        mlp = nn.Sequential(nn.Linear(channels, channels), nn.ReLU(), nn.Linear(channels, channels))
        return pyg.GINConv(mlp)

    return {
        "SumGCNConv": (lambda: gk.SumGCNConv(channels, channels), lambda: PyGSumGCN(channels)),
        "MLPGINConv": (lambda: gk.MLPGINConv(channels, channels), pyg_gin),
    }


def time_forward_backward(
    layer: nn.Module, x: torch.Tensor, edge_index: torch.Tensor, device: torch.device
) -> float:
    """Seconds for one forward and backward pass."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    layer(x, edge_index).sum().backward()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def benchmark(args: argparse.Namespace) -> list[tuple[str, float, float]]:
    device = torch.device(args.device)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(args.nodes, args.channels, generator=generator).to(device)
    x.requires_grad_(True)
    edge_index = torch.randint(0, args.nodes, (2, args.edges), generator=generator).to(device)
    rows = []
    for name, (make_gnnkit, make_pyg) in layer_pairs(args.channels).items():
        torch.manual_seed(0)
        layers = {"gnnkit": make_gnnkit().to(device), "pyg": make_pyg().to(device)}
        times: dict[str, list[float]] = {"gnnkit": [], "pyg": []}
        for repeat in range(args.warmup + args.repeats):
            order = ("gnnkit", "pyg") if repeat % 2 == 0 else ("pyg", "gnnkit")
            for tool in order:
                elapsed = time_forward_backward(layers[tool], x, edge_index, device)
                if repeat >= args.warmup:
                    times[tool].append(elapsed)
        ours, theirs = (1e3 * statistics.median(times[t]) for t in ("gnnkit", "pyg"))
        rows.append((name, ours, theirs))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--edges", type=int, default=200_000)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    rows = benchmark(args)
    print(
        f"{args.nodes:,} nodes, {args.edges:,} edges, {args.channels} channels, "
        f"device {args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"median of {args.repeats} forward+backward passes"
    )
    print(f"{'layer':<14}{'gnnkit ms':>11}{'PyG ms':>10}{'ratio':>8}")
    for name, ours, theirs in rows:
        print(f"{name:<14}{ours:>11.2f}{theirs:>10.2f}{ours / theirs:>8.2f}")


if __name__ == "__main__":
    main()
