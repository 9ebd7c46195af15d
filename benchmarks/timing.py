"""Wall-clock timing of a whole command, shared by the benchmarks."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def gnnkit_mol(*arguments: str) -> list[str]:
    """The command ``gnnkit mol ARGUMENTS`` with this Python."""
    return [sys.executable, "-m", "gnnkit", "mol", *arguments]


def timed(command: list[str], log: Path) -> float:
    """Wall seconds of ``command`` (its output goes to ``log``; a failure stops the run)."""
    start = time.perf_counter()
    with open(log, "w") as handle:
        subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, check=True)
    return time.perf_counter() - start
