"""Equivariant layers B of the blueprint, one per file."""

from gnnkit.nn.conv.deepsets import DeepSetsConv
from gnnkit.nn.conv.dmpnn import DMPNNConv, find_reverse_edges
from gnnkit.nn.conv.egnn import EGNNConv
from gnnkit.nn.conv.gat import GATConv
from gnnkit.nn.conv.gcn import GCNConv, SumGCNConv
from gnnkit.nn.conv.gin import MLPGINConv
from gnnkit.nn.conv.sage import SAGEConv
from gnnkit.nn.conv.transformer import GraphTransformerConv

__all__ = [
    "DMPNNConv",
    "DeepSetsConv",
    "EGNNConv",
    "GATConv",
    "GCNConv",
    "GraphTransformerConv",
    "MLPGINConv",
    "SAGEConv",
    "SumGCNConv",
    "find_reverse_edges",
]
