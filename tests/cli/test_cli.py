"""The ``gnnkit`` command line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gnnkit.cli.main import main


def test_help_lists_commands(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    assert "certify" in out and "usage: gnnkit" in out


def test_certify_prints_a_passing_table(capsys):
    assert main(["certify", "--trials", "2"]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    assert header == ["component", "symmetry", "max", "error", "rtol", "passed", "reason"]
    assert "EGNNConv                " in out and "E(3)-equivariant" in out
    assert "DMPNNConv" in out and "model: D-MPNN" in out and "model: cascade upfd" in out
    assert "certificates passed" in out
    rows = [line for line in out.splitlines()[2:] if line.strip() and "passed" not in line]
    assert rows and all(line.rstrip().endswith("yes") for line in rows)


def test_certify_probes_are_all_caught(capsys):
    assert main(["certify", "--trials", "2", "--probes"]) == 0
    out = capsys.readouterr().out
    assert "7 of 7 broken components caught" in out
    assert "probe: LSTM aggregation" in out
    assert "probe: batch-softmax readout" in out and "probe: cross-molecule distance layer" in out
    assert "it depends on other graphs of the batch" in out
    assert "outputs do not follow a separate rigid motion of each graph" in out


def test_certify_pyg_prints_findings_and_skips_and_exits_0(capsys):
    only = "GCNConv,LSTMAggregation,ChebConv"
    assert main(["certify", "--pyg", "--only", only, "--trials", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["component", "symmetry", "max", "error", "rtol", "passed", "reason"]
    rows = {line.split("  ")[0]: line for line in lines[2:5]}  # by component
    assert rows["GCNConv"].rstrip().endswith("yes")
    assert " NO " in rows["LSTMAggregation"]
    assert "'index' tensor is not sorted" in rows["LSTMAggregation"]
    assert "outputs change when" in rows["LSTMAggregation (index sorted)"]
    assert "1 of 3 PyG certificates passed, 2 failed; 1 skipped:" in lines
    assert lines[-1].startswith("  ChebConv: cannot be built: TypeError")


@pytest.mark.parametrize(
    ("arguments", "status", "message"),
    [
        (["--only", "GCNConv"], 2, "gnnkit certify: error: --only needs --pyg"),
        (
            ["--pyg", "--only", "GCNConv,NoConv"],
            1,
            "gnnkit certify: error: not a PyG convolution or aggregation: NoConv",
        ),
    ],
)
def test_certify_pyg_refuses_bad_options_in_one_line(arguments, status, message, capsys):
    assert main(["certify", *arguments]) == status
    assert capsys.readouterr().err.splitlines() == [message]


def test_certify_pyg_and_probes_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["certify", "--pyg", "--probes"])
    assert exit_.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_console_entry_point_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "gnnkit", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0
    assert "certify" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["train", "--hidden", "-5"], "argument --hidden: must be at least 1, got -5"),
        (["train", "--folds", "0"], "argument --folds: must be at least 1, got 0"),
        (["train", "--folds", "-3"], "argument --folds: must be at least 1, got -3"),
        (["train", "--epochs", "0"], "argument --epochs: must be at least 1, got 0"),
        (["train", "--ffn-layers", "-1"], "argument --ffn-layers: must be at least 0, got -1"),
        (["train", "--depth", "two"], "argument --depth: expected an integer, got 'two'"),
        (
            ["predict", "--model", "m", "--data", "d.csv", "--out", "o.csv", "--batch-size", "0"],
            "argument --batch-size: must be at least 1, got 0",
        ),
        (
            ["screen", "--model", "m", "--library", "l.smi", "--out", "o.csv", "--top", "0"],
            "argument --top: must be at least 1, got 0",
        ),
    ],
)
def test_mol_widths_and_counts_are_checked_when_parsed(arguments, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["mol", *arguments])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == f"gnnkit mol {arguments[0]}: error: {message}"
