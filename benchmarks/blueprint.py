"""Forward time of a small blueprint model (GIN), where per-call overhead is what counts.

    OMP_NUM_THREADS=1 python benchmarks/blueprint.py [--graphs 8] [--hidden 16] [--layers 2]
                                                     [--calls 200] [--repeats 21]

Times ``--calls`` forward passes of ``build_model("gin", ...)`` in inference mode on one random
batch, ``--repeats`` times, and prints the median (and fastest) microseconds per forward.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from gnnkit.models import build_model
from gnnkit.symmetry import random_graph_batch


def forward_microseconds(
    graphs: int, hidden: int, layers: int, calls: int, repeats: int
) -> list[float]:
    """Mean microseconds of one forward in each of ``repeats`` runs of ``calls`` forwards."""
    hparams = {"in_channels": 8, "out_channels": 3, "hidden_channels": hidden, "num_layers": layers}
    model = build_model("gin", hparams).eval()
    batch = random_graph_batch(graphs)
    times = []
    with torch.inference_mode():
        for _ in range(calls):
            model(batch)
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(calls):
                model(batch)
            times.append((time.perf_counter() - start) / calls * 1e6)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    times = forward_microseconds(args.graphs, args.hidden, args.layers, args.calls, args.repeats)
    print(
        f"GIN ({args.layers} layers, hidden {args.hidden}, {args.graphs} graphs): "
        f"median {statistics.median(times):.1f} µs, fastest {min(times):.1f} µs per forward "
        f"({args.repeats} × {args.calls} calls)"
    )


if __name__ == "__main__":
    main()
