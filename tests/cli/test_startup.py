"""``gnnkit --help`` and each command's ``--help`` answer without importing the heavy
libraries: the options come from pure-Python modules, the workflows load when a command runs."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import gnnkit

#: Libraries whose import costs seconds; a help text must not import any of them.
HEAVY = (
    "torch",
    "torch_geometric",
    "lightning",
    "rdkit",
    "pandas",
    "sklearn",
    "scipy",
    "matplotlib",
    "ray",
    "numpy",
)
#: Prints the heavy libraries that ``gnnkit ARGS`` imported, as JSON, in a fresh interpreter.
PROBE = """
import contextlib, io, json, sys
from gnnkit.cli.main import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
print(json.dumps(sorted(name for name in {heavy} if name in sys.modules)))
"""


def heavy_imports(*args: str) -> list[str]:
    """The :data:`HEAVY` libraries imported by ``gnnkit ARGS`` run in a new process (from the
    folder holding the ``gnnkit`` under test, which ``python -c`` puts first on its path)."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
        cwd=Path(gnnkit.__file__).parents[1],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["mol"],
        ["mol", "train"],
        ["mol", "hpopt"],
        ["mol", "predict"],
        ["mol", "fingerprint"],
        ["mol", "screen"],
        ["cascade"],
        ["cascade", "train"],
        ["cascade", "baseline"],
        ["cascade", "predict"],
        ["cascade", "generate"],
        ["cascade", "stats"],
        ["certify"],
    ],
    ids=lambda command: " ".join(["gnnkit", *command]),
)
def test_help_imports_no_heavy_library(command: list[str]) -> None:
    assert heavy_imports(*command, "--help") == []


def test_version_imports_no_heavy_library() -> None:
    assert heavy_imports("--version") == []


@pytest.mark.parametrize(
    "package",
    [
        "gnnkit.train",
        "gnnkit.workflows.molecules",
        "gnnkit.workflows.screen",
        "gnnkit.workflows.hpopt",
    ],
)
def test_every_lazy_export_resolves(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is vars(module)[name]
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        _ = module.missing
