"""Grouping equal member rows (candidates are computed once per group): exact, hash or no hash."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.match import scoring

ROWS = st.lists(
    st.lists(st.sampled_from([0.0, 0.5, 1.0, -0.0]), min_size=3, max_size=3), max_size=40
)


def expected(rows: list[list[float]]) -> tuple[list[int], list[int]]:
    """Groups numbered by their first row, by the rows' bytes (0.0 and -0.0 differ)."""
    keys = [np.array(r, dtype=np.float32).tobytes() for r in rows]
    first: dict[bytes, int] = {}
    for i, key in enumerate(keys):
        first.setdefault(key, i)
    leads = sorted(first.values())
    return [leads.index(first[k]) for k in keys], leads


@given(ROWS)
def test_rows_are_grouped_exactly_and_numbered_by_their_first_row(rows: list[list[float]]) -> None:
    matrix = np.array(rows, dtype=np.float32).reshape(len(rows), 3)
    groups, first = scoring.distinct_rows(matrix)
    assert (groups.tolist(), first.tolist()) == expected(rows)


def test_a_hash_collision_still_groups_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [[1.0, 0.0, 0.5], [0.5, 0.0, 1.0], [1.0, 0.0, 0.5], [0.0, 0.0, 0.0]]
    monkeypatch.setattr(scoring, "row_hashes", lambda words: np.zeros(len(words), np.uint64))
    groups, first = scoring.distinct_rows(np.array(rows, dtype=np.float32))
    assert (groups.tolist(), first.tolist()) == expected(rows) == ([0, 1, 0, 2], [0, 1, 3])
