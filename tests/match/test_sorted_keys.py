"""Sorted-key set operations: the same as numpy's, and ranking never loads `numpy.ma`."""

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

url, now, ids = sys.argv[1], datetime.fromisoformat(sys.argv[2]), json.loads(sys.argv[3])
with Session(make_engine(url)) as session:
    picks = recommend(session, load_settings(), ids, 3, now=now)
print(json.dumps([sum(map(len, picks.values())), "numpy.ma" in sys.modules]))
"""


def test_ranking_picks_does_not_load_numpy_ma(world: World, session: Session, db_url: str) -> None:
    # np.unique / np.isin would import numpy.ma (≈6 MB that stays resident in `serve`); isin
    # does so for many sparse keys: here 30 members' sent picks among 400 issues
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
    picked, numpy_ma = json.loads(result.stdout.splitlines()[-1])
    assert picked > 0
    assert not numpy_ma
