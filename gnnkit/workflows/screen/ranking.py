"""Which molecules a screen keeps: a ranking rule and a running top-K with a novelty filter."""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gnnkit.data.molecules.similarity import NearestNeighbours

SIMILARITY = "max_train_similarity"
NEAREST = "nearest_training_smiles"


@dataclass(frozen=True, slots=True)
class RankRule:
    """Rank by one prediction column: highest first, or lowest first when ``ascending``."""

    column: str
    ascending: bool = False

    def scores(self, frame: pd.DataFrame) -> np.ndarray:
        """Higher is better ``[len(frame)]`` (float64; NaN where there is no prediction)."""
        values = frame[self.column].to_numpy(dtype=np.float64)
        return -values if self.ascending else values


class TopK:
    """The ``k`` best molecules offered so far that pass the novelty filter.

    Molecules are ordered by score (best first) and, on equal scores, by row (lower first), so
    the result does not depend on the order in which they were offered. With ``neighbours``,
    each molecule that could enter gets its similarity to the nearest training molecule
    (columns :data:`SIMILARITY` and :data:`NEAREST`), unless it already has one (a hit of
    another ``TopK``); with ``max_similarity`` too, those more similar than that are left out
    *before* the top ``k`` are cut, so the result is the best ``k`` that pass.

    Args:
        k: how many to keep (at least 1).
        rule: the ranking.
        neighbours: the training molecules, or ``None`` for no similarity columns.
        max_similarity: the novelty filter's threshold (needs ``neighbours``).
    """

    def __init__(
        self,
        k: int,
        rule: RankRule,
        neighbours: NearestNeighbours | None = None,
        max_similarity: float | None = None,
    ) -> None:
        if k < 1:
            raise ValueError(f"top-K needs k of at least 1, got {k}")
        if max_similarity is not None and neighbours is None:
            raise ValueError("the novelty filter (max_similarity) needs the training molecules")
        self.k, self.rule = k, rule
        self.neighbours, self.max_similarity = neighbours, max_similarity
        # Min-heap on (score, -row): the root is the worst molecule kept.
        self._heap: list[tuple[float, int, dict[str, Any]]] = []

    def __len__(self) -> int:
        return len(self._heap)

    def offer(self, candidates: pd.DataFrame) -> None:
        """Consider every row of ``candidates`` (which has ``row``, ``smiles`` and the rule's
        column; rows without a finite score are skipped)."""
        scores = self.rule.scores(candidates)
        rows = candidates["row"].to_numpy()
        eligible = np.isfinite(scores)
        if len(self._heap) == self.k:
            worst_score, worst_row = self._heap[0][0], -self._heap[0][1]
            eligible &= (scores > worst_score) | ((scores == worst_score) & (rows < worst_row))
        index = np.flatnonzero(eligible)
        for i in index[np.lexsort((rows[index], -scores[index]))]:
            key = (float(scores[i]), -int(rows[i]))
            if len(self._heap) == self.k and key <= self._heap[0][:2]:
                break  # every later candidate ranks lower still
            record = candidates.iloc[i].to_dict()
            if self.neighbours is not None and SIMILARITY not in record:
                record[SIMILARITY], record[NEAREST] = self.neighbours.nearest(record["smiles"])
            if self.max_similarity is not None and not record[SIMILARITY] <= self.max_similarity:
                continue
            if len(self._heap) < self.k:
                heapq.heappush(self._heap, (*key, record))
            else:
                heapq.heapreplace(self._heap, (*key, record))

    def frame(self, columns: Sequence[str]) -> pd.DataFrame:
        """The molecules kept, best first, with ``rank`` (1, 2, …) and ``columns``."""
        records = [entry[2] for entry in sorted(self._heap, reverse=True)]
        frame = pd.DataFrame(records, columns=list(columns))
        frame.insert(0, "rank", np.arange(1, len(frame) + 1))
        return frame
