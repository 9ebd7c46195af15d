"""Blueprint stages: equivariant layers (B), coarsening (P), readouts (A), and the composer."""

from gnnkit.nn.blueprint import Blueprint, GraphState, stage_role
from gnnkit.nn.conv import (
    DeepSetsConv,
    DMPNNConv,
    EGNNConv,
    GATConv,
    GCNConv,
    GINConv,
    GraphTransformerConv,
    SAGEConv,
)
from gnnkit.nn.pool import PooledGraph, TopKPooling
from gnnkit.nn.readout import AttentionReadout, Readout

__all__ = [
    "AttentionReadout",
    "Blueprint",
    "DMPNNConv",
    "DeepSetsConv",
    "EGNNConv",
    "GATConv",
    "GCNConv",
    "GINConv",
    "GraphState",
    "GraphTransformerConv",
    "PooledGraph",
    "Readout",
    "SAGEConv",
    "TopKPooling",
    "stage_role",
]
