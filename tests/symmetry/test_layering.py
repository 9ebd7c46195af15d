"""Certificates depend on layers, not the reverse: no module below gnnkit.symmetry imports it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import gnnkit

PACKAGE = Path(gnnkit.__file__).parent
LOWER = ("ops", "data", "nn", "models")


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of its code (lazy imports included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", LOWER)
def test_lower_layers_do_not_import_the_certificates(layer):
    offenders = {
        str(path.relative_to(PACKAGE))
        for path in (PACKAGE / layer).rglob("*.py")
        if any(name.startswith("gnnkit.symmetry") for name in imported_modules(path))
    }
    assert not offenders
