"""The ``gnnkit`` command line."""

from __future__ import annotations

import subprocess
import sys

from gnnkit.cli.main import main


def test_help_lists_commands(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    assert "certify" in out and "usage: gnnkit" in out


def test_certify_prints_a_passing_table(capsys):
    assert main(["certify", "--trials", "2"]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    assert header == ["component", "symmetry", "max", "error", "atol", "passed"]
    assert "EGNNConv                " in out and "E(3)-equivariant" in out
    assert "certificates passed" in out
    rows = [line for line in out.splitlines()[2:] if line.strip() and "passed" not in line]
    assert rows and all(line.rstrip().endswith("yes") for line in rows)


def test_certify_probes_are_all_caught(capsys):
    assert main(["certify", "--trials", "2", "--probes"]) == 0
    out = capsys.readouterr().out
    assert "4 of 4 broken components caught" in out
    assert "probe: LSTM aggregation" in out


def test_console_entry_point_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "gnnkit", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0
    assert "certify" in result.stdout
