"""Rows of a molecule file that hold the same molecule (the same canonical SMILES).

What :class:`~gnnkit.data.molecules.MoleculeCSVDataset` does with them (``deduplicate``):

- ``keep``: keep every row, with a warning; the dataset's :attr:`molecule_keys` let the splits
  keep each molecule's rows in one part (``groups`` of :mod:`gnnkit.data.splits`);
- ``mean``: one row per molecule, the first, with the mean of the rows' targets per task
  (missing values ignored);
- ``first``: one row per molecule, the first as it is;
- ``error``: refuse the file, naming the rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from rdkit import Chem, rdBase

from gnnkit.data.molecules.featurizer import parse_smiles

#: Molecules named in a report.
EXAMPLES = 3


def canonical_smiles(smiles: Sequence[str]) -> list[str]:
    """RDKit's canonical SMILES of each molecule (stereo kept); the string itself where RDKit
    rejects it."""
    with rdBase.BlockLogs():
        molecules = [parse_smiles(text) for text in smiles]
    return [
        Chem.MolToSmiles(mol) if mol is not None else text for mol, text in zip(molecules, smiles)
    ]


@dataclass(slots=True)
class Duplicates:
    """The molecules found in more than one row.

    Attributes:
        groups: per such molecule (in the order of its first row), the positions of its rows.
        conflicting: per group, whether its rows' targets differ in a task.
    """

    groups: list[list[int]]
    conflicting: list[bool]

    def describe(self, keys: Sequence[str], rows: Sequence[int], line: Callable[[int], int]) -> str:
        """The counts and the first :data:`EXAMPLES` molecules: ``keys`` (canonical SMILES)
        and ``rows`` (data rows) by position, ``line`` the file line of a data row."""
        examples = []
        for group in self.groups[:EXAMPLES]:
            numbers = [int(rows[position]) for position in group]
            examples.append(
                f"{keys[group[0]]!r} in rows {', '.join(map(str, numbers))} "
                f"(lines {', '.join(str(line(row)) for row in numbers)})"
            )
        total = sum(len(group) for group in self.groups)
        return (
            f"the same molecule (canonical SMILES) in several rows: {len(self.groups)} molecules "
            f"in {total} rows, {sum(self.conflicting)} with conflicting targets; e.g. "
            + "; ".join(examples)
        )


def find_duplicates(keys: Sequence[str], targets: np.ndarray) -> Duplicates:
    """The positions sharing a key (canonical SMILES), and whether their ``targets``
    (``[positions, tasks]``, NaN where missing) conflict."""
    members: dict[str, list[int]] = defaultdict(list)
    for position, key in enumerate(keys):
        members[key].append(position)
    groups = [group for group in members.values() if len(group) > 1]
    return Duplicates(groups, [_conflicting(targets[group]) for group in groups])


def _conflicting(values: np.ndarray) -> bool:
    """Whether rows ``[rows, tasks]`` hold two different values of a task (NaN ignored)."""
    for column in values.T:
        present = column[~np.isnan(column)]
        if (present != present[:1]).any():
            return True
    return False


def mean_targets(values: np.ndarray) -> np.ndarray:
    """The mean of rows ``[rows, tasks]`` per task, missing values (NaN) ignored; NaN for a
    task that every row misses."""
    present = ~np.isnan(values)
    counts = present.sum(axis=0)
    sums = np.where(present, values, 0.0).sum(axis=0)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
