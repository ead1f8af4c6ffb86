"""Sorted-key set operations: the same as numpy's; ranking loads neither numpy.ma nor .random."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session

from bot.match.sorted_keys import in_sorted, unique_sorted
from tests.match.conftest import NOW, World

ROOT = Path(__file__).resolve().parents[2]
KEYS = st.lists(st.integers(-(2**40), 2**40), max_size=60).map(lambda v: np.array(v, np.int64))


@given(KEYS)
def test_unique_sorted_is_np_unique(keys: np.ndarray) -> None:
    assert unique_sorted(keys).tolist() == np.unique(keys).tolist()


@given(KEYS, KEYS)
def test_in_sorted_is_np_isin(values: np.ndarray, keys: np.ndarray) -> None:
    assert in_sorted(values, np.unique(keys)).tolist() == np.isin(values, keys).tolist()


RANK = """
import json, sys
from datetime import datetime
from sqlmodel import Session
from bot.config import load_settings
from bot.match.recommend import recommend
from bot.store.db import make_engine

UNUSED = ("numpy.ma", "numpy.random")
url, now, ids = sys.argv[1], datetime.fromisoformat(sys.argv[2]), json.loads(sys.argv[3])
with Session(make_engine(url)) as session:
    picks = recommend(session, load_settings(), ids, 3, now=now)
print(json.dumps([sum(map(len, picks.values())), [m for m in UNUSED if m in sys.modules]]))
"""


def test_ranking_picks_loads_neither_numpy_ma_nor_numpy_random(
    world: World, session: Session, db_url: str
) -> None:
    # each would stay resident in `serve`, ≈6 MB apiece: np.unique / np.isin import numpy.ma
    # (isin for many sparse keys: here 30 members' sent picks among 400 issues)
    repos = [world.repo(f"py/lib{r}", section="Libraries") for r in range(40)]
    issues = [world.issue(repo) for repo in repos for _ in range(10)]
    members = [world.member("python") for _ in range(30)]
    for row, member in enumerate(members):
        world.pick(member, issues[row * 13], sent_at=NOW)
    world.report(members[1], issues[1])
    session.commit()
    ids = json.dumps([m.id for m in members])
    result = subprocess.run(
        [sys.executable, "-c", RANK, db_url, NOW.isoformat(), ids],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    picked, loaded = json.loads(result.stdout.splitlines()[-1])
    assert picked > 0
    assert loaded == []
