"""PyG's own convolutions and aggregations, certified by gnnkit's harness."""

from __future__ import annotations

import pytest
import torch_geometric.nn.aggr as pyg_aggr
import torch_geometric.nn.conv as pyg_conv

from gnnkit.symmetry.pyg_zoo import (
    aggregation_candidates,
    certify_candidate,
    certify_pyg,
    conv_candidates,
    sorted_candidate,
)

RELABELLED = "outputs change when nodes, edges and graphs are relabelled"


def by_name(report):
    return {c.component: c for c in report.certificates}, {s.name: s for s in report.skipped}


def test_the_zoo_is_pygs_own_list():
    assert [c.name for c in conv_candidates()] == list(pyg_conv.__all__)
    assert [c.name for c in aggregation_candidates()] == list(pyg_aggr.__all__)


def test_pyg_gcn_and_sum_aggregation_are_certified():
    certificates, skipped = by_name(certify_pyg(["GCNConv", "SumAggregation"], trials=2))
    assert not skipped and set(certificates) == {"GCNConv", "SumAggregation"}
    for certificate in certificates.values():
        assert certificate.passed, certificate
        assert certificate.kind == "equivariant" and certificate.max_error < 1e-5


def test_lstm_aggregation_fails_with_its_reason_sorted_or_not():
    certificates, _ = by_name(certify_pyg(["LSTMAggregation"], trials=2))
    raw, ordered = certificates["LSTMAggregation"], certificates["LSTMAggregation (index sorted)"]
    assert not raw.passed and "'index' tensor is not sorted" in raw.reason
    assert raw.reason.startswith("raises ValueError on relabelling")
    assert not ordered.passed and ordered.max_error > 1e-2 and RELABELLED in ordered.reason


def test_sort_aggregation_needs_sorted_messages_but_not_their_order():
    certificates, _ = by_name(certify_pyg(["SortAggregation"], trials=2))
    assert "not sorted" in certificates["SortAggregation"].reason
    assert certificates["SortAggregation (index sorted)"].passed


def test_classes_that_do_not_fit_are_skipped_with_their_reason():
    _, skipped = by_name(certify_pyg(["ChebConv", "PointTransformerConv", "Aggregation"]))
    assert set(skipped) == {"ChebConv", "PointTransformerConv", "Aggregation"}
    assert skipped["ChebConv"].reason.startswith("cannot be built: TypeError")
    assert "'K'" in skipped["ChebConv"].reason
    assert skipped["PointTransformerConv"].reason.startswith("cannot run: raises TypeError")
    assert "'pos'" in skipped["PointTransformerConv"].reason
    assert skipped["Aggregation"].reason == "cannot run: returns NoneType, not one row per node"


def test_certificates_are_reproducible_from_the_seed():
    first = certify_candidate(sorted_candidate("SetTransformerAggregation"), trials=1, seed=3)
    second = certify_candidate(sorted_candidate("SetTransformerAggregation"), trials=1, seed=3)
    assert first == second and first.passed


def test_unknown_names_are_refused_in_one_line():
    with pytest.raises(ValueError, match=r"^not a PyG convolution or aggregation: NoConv$"):
        certify_pyg(["GCNConv", "NoConv"])


def test_the_whole_zoo_runs_and_accounts_for_every_class():
    report = certify_pyg(trials=1)
    certified = {c.component for c in report.certificates if "(index sorted)" not in c.component}
    skipped = {s.name for s in report.skipped}
    assert not certified & skipped
    assert certified | skipped == set(pyg_conv.__all__) | set(pyg_aggr.__all__)
    assert {"GCNConv", "GATConv", "SAGEConv", "MeanAggregation"} <= certified
    convs = [c for c in report.certificates if c.component in pyg_conv.__all__]
    assert convs and all(c.passed for c in convs)  # every conv that fits keeps its promise
    assert not next(c for c in report.certificates if c.component == "LSTMAggregation").passed
    assert all(s.reason for s in report.skipped)
