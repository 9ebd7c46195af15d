"""What a loader did with the irregularities of real cascade files: one count per rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Every irregularity a loader repairs or skips, with the documented rule it applies.
QUIRKS: dict[str, str] = {
    "self_loops": "an edge from a node to itself: dropped",
    "duplicate_edges": "an edge listed again: dropped",
    "extra_parents": (
        "a node named as the child of a second parent (or the root named as a child): the "
        "parent on the first line that names it is kept, later edges into it are dropped"
    ),
    "orphan_parents": (
        "a node other than the root that never appears as a child (a parent whose own parent "
        "is missing, or a UPFD node that no edge names): attached to the root"
    ),
    "cycles_broken": (
        "first-line parents that form a cycle away from the root: the node where the cycle "
        "closes is attached to the root"
    ),
    "root_delay_shifted": (
        "the root's delay is not 0 (e.g. the ROOT line names an earlier post): every delay is "
        "measured from the root"
    ),
    "negative_delays": "a re-post timed before the source: its delay is set to its parent's",
    "delays_before_parent": (
        "a re-post timed before its parent (delay >= 0): its delay is set to its parent's"
    ),
    "root_id_mismatch": (
        "the ROOT line's post id differs from the tree's file name: the file name identifies "
        "the cascade"
    ),
    "missing_tree_files": "a labelled cascade whose tree file is missing: cascade skipped",
    "unlabelled_tree_files": (
        "a tree file that label.txt does not name: cascade skipped (prediction reads it, "
        "without a label)"
    ),
    "duplicate_texts": "a source text listed again, identical: merged",
    "conflicting_texts": "a source text listed again with another text: the first is kept",
    "missing_texts": "a cascade without a source text: its text features are zero",
    "unknown_text_ids": "a source text of a cascade the data does not hold: ignored",
}


@dataclass(slots=True)
class LoadReport:
    """Counts of each quirk (see :data:`QUIRKS`) met while loading a data set.

    Attributes:
        source: what was read (a folder).
        cascades: cascades loaded.
        occurrences: quirk → how many times it occurred (edges, nodes or files).
        cascades_affected: quirk → how many cascades it occurred in.
        skipped: identifiers of the cascades that could not be loaded, with the reason.
    """

    source: str
    cascades: int = 0
    occurrences: dict[str, int] = field(default_factory=lambda: dict.fromkeys(QUIRKS, 0))
    cascades_affected: dict[str, int] = field(default_factory=lambda: dict.fromkeys(QUIRKS, 0))
    skipped: dict[str, str] = field(default_factory=dict)

    def add(self, counts: dict[str, int]) -> None:
        """Add the quirk counts of one cascade (or one file-level event)."""
        for quirk, count in counts.items():
            if quirk not in QUIRKS:
                raise KeyError(f"unknown quirk {quirk!r}")
            if count:
                self.occurrences[quirk] += count
                self.cascades_affected[quirk] += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "cascades": self.cascades,
            "quirks": {
                quirk: {
                    "occurrences": self.occurrences[quirk],
                    "cascades": self.cascades_affected[quirk],
                    "rule": rule,
                }
                for quirk, rule in QUIRKS.items()
            },
            "skipped": dict(self.skipped),
        }

    def summary(self) -> str:
        """A table of the quirks that occurred, with their rules."""
        lines = [f"{self.source}: {self.cascades} cascades loaded"]
        for quirk, rule in QUIRKS.items():
            if self.occurrences[quirk]:
                lines.append(
                    f"  {quirk}: {self.occurrences[quirk]} in {self.cascades_affected[quirk]} "
                    f"cascade(s) - {rule}"
                )
        return "\n".join(lines)
