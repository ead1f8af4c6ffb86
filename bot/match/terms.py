"""A fixed index over the taxonomy's canonical terms, so stacks become NumPy vectors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.match.taxonomy import Taxonomy


@dataclass(frozen=True)
class TermSpace:
    """Column order of language and topic matrices (sorted canonical names)."""

    taxonomy: Taxonomy
    languages: tuple[str, ...] = field(init=False)
    topics: tuple[str, ...] = field(init=False)
    _lang_index: dict[str, int] = field(init=False, repr=False)
    _topic_index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        langs = tuple(sorted(t for t, k in self.taxonomy.kinds.items() if k == "language"))
        topics = tuple(sorted(t for t, k in self.taxonomy.kinds.items() if k == "topic"))
        object.__setattr__(self, "languages", langs)
        object.__setattr__(self, "topics", topics)
        object.__setattr__(self, "_lang_index", {t: i for i, t in enumerate(langs)})
        object.__setattr__(self, "_topic_index", {t: i for i, t in enumerate(topics)})

    def language_matrix(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        """rows × languages float32 matrix of weights (unknown terms ignored)."""
        return self._matrix(rows, self._lang_index)

    def topic_matrix(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        """rows × topics float32 matrix of weights (unknown terms ignored)."""
        return self._matrix(rows, self._topic_index)

    @staticmethod
    def _matrix(rows: Sequence[Mapping[str, float]], index: Mapping[str, int]) -> np.ndarray:
        if len(rows) <= 1:  # explain() asks for one row per pick
            return TermSpace._distinct_matrix(rows, index)
        # members share stacks: build each distinct row once
        seen: dict[tuple[tuple[str, float], ...], int] = {}
        which = np.fromiter(
            (seen.setdefault(tuple(row.items()), len(seen)) for row in rows),
            dtype=np.int64,
            count=len(rows),
        )
        if len(seen) < len(rows):
            return TermSpace._distinct_matrix([dict(k) for k in seen], index)[which]
        return TermSpace._distinct_matrix(rows, index)

    @staticmethod
    def _distinct_matrix(
        rows: Sequence[Mapping[str, float]], index: Mapping[str, int]
    ) -> np.ndarray:
        out = np.zeros((len(rows), len(index)), dtype=np.float32)
        counts = np.fromiter((len(row) for row in rows), dtype=np.int64, count=len(rows))
        total = int(counts.sum())
        if not total:
            return out
        cols = np.fromiter(
            (index.get(term, -1) for row in rows for term in row), dtype=np.int64, count=total
        )
        weights = np.fromiter(
            (w for row in rows for w in row.values()), dtype=np.float32, count=total
        )
        r = np.repeat(np.arange(len(rows)), counts)
        known = cols >= 0  # unknown terms ignored
        out[r[known], cols[known]] = weights[known]
        return out


_SPACES: dict[int, tuple[Taxonomy, TermSpace]] = {}


def term_space(taxonomy: Taxonomy) -> TermSpace:
    """The TermSpace of `taxonomy`, built once per taxonomy object (explain() runs per pick)."""
    found = _SPACES.get(id(taxonomy))
    if found is None or found[0] is not taxonomy:
        found = (taxonomy, TermSpace(taxonomy))
        _SPACES[id(taxonomy)] = found
    return found[1]
