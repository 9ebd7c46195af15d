"""Blueprint stages: equivariant layers (B), coarsening (P), readouts (A), and the composer;
plus the time-warping gated recurrent cell."""

from gnnkit.nn.blueprint import Blueprint, GraphState, stage_role
from gnnkit.nn.conv import (
    DeepSetsConv,
    DMPNNConv,
    EGNNConv,
    GATConv,
    GCNConv,
    GraphTransformerConv,
    MLPGINConv,
    SAGEConv,
    SumGCNConv,
)
from gnnkit.nn.pool import PooledGraph, TopKCoarsening
from gnnkit.nn.readout import AttentionReadout, Readout
from gnnkit.nn.recurrent import GatedRNNCell, run_cell

__all__ = [
    "AttentionReadout",
    "Blueprint",
    "DMPNNConv",
    "DeepSetsConv",
    "EGNNConv",
    "GATConv",
    "GCNConv",
    "GatedRNNCell",
    "GraphState",
    "GraphTransformerConv",
    "MLPGINConv",
    "PooledGraph",
    "Readout",
    "SAGEConv",
    "SumGCNConv",
    "TopKCoarsening",
    "run_cell",
    "stage_role",
]
