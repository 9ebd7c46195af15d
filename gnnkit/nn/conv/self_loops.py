"""Self-loop handling shared by the convolutions that aggregate over N(i) ∪ {i}."""

from __future__ import annotations

import torch
from torch import Tensor


def add_self_loops(edge_index: Tensor, num_nodes: int) -> Tensor:
    """Replace any self-loops in ``edge_index`` by exactly one loop per node.

    Shapes:
        ``edge_index``: ``[2, E]``; output: ``[2, E' + num_nodes]`` where ``E'`` counts the
        edges that are not loops. The loops come last, in node order.
    """
    source, target = edge_index
    keep = source != target
    loops = torch.arange(num_nodes, device=edge_index.device, dtype=edge_index.dtype)
    return torch.cat([edge_index[:, keep], loops.unsqueeze(0).expand(2, -1)], dim=1)
