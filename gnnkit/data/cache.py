"""Where gnnkit keeps processed and downloaded data."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``$GNNKIT_CACHE`` or ``~/.cache/gnnkit``."""
    return Path(os.environ.get("GNNKIT_CACHE", Path.home() / ".cache" / "gnnkit"))
