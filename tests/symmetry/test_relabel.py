"""Relabelling a batch: attribute layouts from PyG's batching contract, permutations of nodes,
edges and graphs, and one graph cut out of its batch."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Batch, Data

from gnnkit.symmetry import as_cascade, as_molecule, random_graph_batch
from gnnkit.symmetry.permutation import random_relabelling
from gnnkit.symmetry.relabel import (
    Layout,
    alone,
    data_layout,
    graph_of_nodes,
    graph_selection,
    graph_sizes,
    pointer_levels,
    relabel,
)


def molecule_batch() -> Batch:
    batch = random_graph_batch(3, seed=1, transform=as_molecule)
    batch.y = torch.arange(3.0).view(3, 1)
    return batch


def test_layouts_come_from_the_batching_contract():
    layout = data_layout(molecule_batch())
    assert layout["x"] == Layout(0, "node", None)
    assert layout["edge_index"] == Layout(1, "edge", "node")
    assert layout["edge_attr"] == Layout(0, "edge", None)
    assert layout["rev_edge_index"] == Layout(0, "edge", "edge")  # MoleculeGraph.__inc__
    assert layout["batch"] == Layout(0, "node", "graph")
    assert layout["y"] == Layout(0, "graph", None)
    assert "ptr" not in layout
    cascades = data_layout(random_graph_batch(3, seed=1, transform=as_cascade))
    assert cascades["root_index"] == Layout(0, "graph", "node")


def test_a_pointer_out_of_range_must_be_declared():
    """A plain Data batches every `*index*` attribute as node indices: an index into the edges
    must then be declared, or the layout says why it cannot be a node index."""
    batch = random_graph_batch(2, seed=2)
    batch.rev_edge_index = torch.arange(batch.num_edges).flip(0)  # values up to E - 1 > N
    with pytest.raises(ValueError, match=r"'rev_edge_index' points at nodes .* edge_pointer_keys"):
        data_layout(batch)
    layout = data_layout(batch, pointer_levels(edge_pointer_keys=["rev_edge_index"]))
    assert layout["rev_edge_index"].points_to == "edge"


def test_relabelling_keeps_a_valid_batch_and_every_pointer():
    data = molecule_batch()
    sizes = graph_sizes(data)
    selection = random_relabelling(sizes, graph_of_nodes(data), torch.Generator().manual_seed(0))
    assert selection.graphs.tolist() != [0, 1, 2]  # this draw reorders the graphs
    moved = relabel(data, data_layout(data), selection)
    # Node i of the relabelled batch is old node selection.nodes[i], with its features and graph.
    assert torch.equal(moved.x, data.x[selection.nodes])
    assert torch.equal(selection.graphs[moved.batch], data.batch[selection.nodes])
    assert torch.all(moved.batch[1:] >= moved.batch[:-1])  # graphs stay contiguous and sorted
    counts = torch.bincount(moved.batch, minlength=3)
    assert moved.ptr.tolist() == [0, *torch.cumsum(counts, 0).tolist()]
    assert torch.equal(moved.y, data.y[selection.graphs])
    # Edges connect the same atoms and still point at their reverse.
    old_ends = data.edge_index[:, selection.edges]
    assert torch.equal(selection.nodes[moved.edge_index], old_ends)
    assert torch.equal(moved.edge_index[:, moved.rev_edge_index], moved.edge_index.flip(0))


def test_a_graph_alone_is_the_graph_the_batch_was_made_of():
    data = random_graph_batch(3, seed=3, transform=as_cascade)
    for index in range(3):
        single = alone(data, data_layout(data), graph_selection(data, index))
        expected = data.get_example(index)
        assert single.num_graphs == 1 and single.batch.unique().tolist() == [0]
        for key in ("x", "edge_index", "edge_attr", "pos", "root_index"):
            assert torch.equal(single[key], expected[key]), key


def test_lists_with_one_entry_per_graph_follow_their_graphs():
    data = Batch.from_data_list([Data(x=torch.randn(n, 2), name=f"g{n}") for n in (2, 3, 4)])
    layout = data_layout(data)
    selection = random_relabelling(graph_sizes(data), data.batch, torch.Generator().manual_seed(1))
    moved = relabel(data, layout, selection)
    assert moved.name == [data.name[g] for g in selection.graphs.tolist()]
    assert alone(data, layout, graph_selection(data, 1)).name == ["g3"]
