"""Package namespaces that import their names on first use (PEP 562).

A package whose ``__init__`` imported every submodule would make ``import gnnkit.train.config``
pay for torch and Lightning; with :func:`lazy_exports` it imports only the submodule asked for,
and ``from gnnkit.train import fit`` still works, importing ``gnnkit.train.trainer`` then.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_exports(
    namespace: dict[str, Any], exports: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` of the package whose globals are
    ``namespace``, exporting the names ``exports[module]`` of each module (``.name``: a
    submodule of the package): a name is imported from its module when first read, then kept
    in ``namespace``."""
    package = namespace["__name__"]
    home = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name not in home:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home[name], package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *home})

    return __getattr__, __dir__, sorted(home)
