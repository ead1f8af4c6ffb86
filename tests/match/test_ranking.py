"""Global assignment: diversity per member, collision spreading across members, fair and stable."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.match.ranking import assign
from bot.match.scoring import fit_only, repo_top_issues, stack_fit, top_k_columns


def _run(cands: list[list[tuple[int, float]]], repo: list[int], n: int, cap: int = 1, **kw):
    k = max(len(c) for c in cands)
    issue = np.full((len(cands), k), -1)
    score = np.zeros((len(cands), k), dtype=np.float32)
    for m, row in enumerate(cands):
        for j, (i, s) in enumerate(row):
            issue[m, j], score[m, j] = i, s
    capacity = np.full(len(repo), cap)
    return assign(issue, score, np.asarray(repo), capacity, n, **kw)


def test_at_most_one_issue_per_repository_per_member() -> None:
    # issues 0, 1, 2 in repo 0; issue 3 in repo 1
    result = _run([[(0, 0.9), (1, 0.8), (2, 0.7), (3, 0.1)]], [0, 0, 0, 1], n=3)
    assert result.picks.tolist() == [[0, 3, -1]]


def test_a_member_may_ask_for_more_per_repository() -> None:
    result = _run([[(0, 0.9), (1, 0.8), (2, 0.7), (3, 0.1)]], [0, 0, 0, 1], n=3, max_per_repo=2)
    assert result.picks.tolist() == [[0, 1, 3]]


def test_two_members_with_the_same_candidates_get_different_issues() -> None:
    same = [(0, 0.9), (1, 0.8), (2, 0.7), (3, 0.6)]
    result = _run([same, same], [0, 1, 2, 3], n=2)
    assert result.picks.tolist() == [[0, 2], [1, 3]]  # a draft: firsts before seconds
    assert result.shared == 0


def test_a_contested_issue_goes_to_the_member_it_suits_best() -> None:
    result = _run([[(0, 0.5), (1, 0.4)], [(0, 0.9), (1, 0.3)]], [0, 1], n=1)
    assert result.picks.tolist() == [[1], [0]]


def test_everybody_gets_a_first_pick_before_anybody_gets_a_second() -> None:
    # member 1 would score issue 0 higher, but it is member 0's only candidate
    cands = [[(0, 0.5)], [(1, 0.95), (0, 0.9)]]
    result = _run(cands, [0, 1], n=2, share_when_short=False)
    assert result.picks.tolist() == [[0, -1], [1, -1]]
    # with too few issues to go round, member 1 then shares issue 0 rather than get nothing
    assert _run(cands, [0, 1], n=2).picks.tolist() == [[0, -1], [1, 0]]


def test_issues_are_shared_only_when_there_are_not_enough() -> None:
    result = _run([[(0, 0.9)], [(0, 0.8)]], [0], n=1)
    assert result.picks.tolist() == [[0], [0]]
    assert result.shared == 1
    strict = _run([[(0, 0.9)], [(0, 0.8)]], [0], n=1, share_when_short=False)
    assert strict.picks.tolist() == [[0], [-1]]


def test_ties_are_broken_by_lower_index_whatever_the_input_order() -> None:
    a = _run([[(2, 0.5), (1, 0.5)], [(1, 0.5), (2, 0.5)]], [0, 1, 2], n=1)
    assert a.picks.tolist() == [[2], [1]]  # member 0 proposes its first; tie on issue -> member 0


def test_top_k_breaks_ties_by_lower_column() -> None:
    values = np.array([[0.5, 0.9, 0.5, 0.9, 0.1]])
    assert top_k_columns(values, 3).tolist() == [[1, 3, 0]]


def test_repo_top_issues_orders_each_repository_by_value() -> None:
    repo = np.array([0, 0, 1, 0, 1])
    value = np.array([0.2, 0.9, 0.0, 0.9, 0.4])
    assert repo_top_issues(repo, value, 2, 2).tolist() == [[1, 3], [4, -1]]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 12),
    st.integers(1, 30),
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(0, 2**31 - 1),
)
def test_assignment_invariants(members: int, issues: int, n: int, cap: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    repo = rng.integers(0, max(1, issues // 2), issues)
    k = min(issues, 8)
    cand = np.stack([rng.permutation(issues)[:k] for _ in range(members)])
    score = np.sort(rng.random((members, k)).astype(np.float32), axis=1)[:, ::-1].copy()
    capacity = np.full(issues, cap)
    strict = assign(cand, score, repo, capacity, n, share_when_short=False)
    loose = assign(cand, score, repo, capacity, n)
    for result in (strict, loose):
        for m in range(members):
            got = result.picks[m][result.picks[m] >= 0]
            assert len(set(got)) == len(got)  # never the same issue twice
            assert len(set(repo[got])) == len(got)  # one per repository
            assert set(got) <= set(cand[m])
    used = np.bincount(strict.picks[strict.picks >= 0], minlength=issues)
    assert (used <= cap).all()
    assert (loose.picks >= 0).sum() >= (strict.picks >= 0).sum()
    again = assign(cand, score, repo, capacity, n)
    assert np.array_equal(again.picks, loose.picks)


def test_the_fast_fit_equals_the_explained_fit() -> None:
    rng = np.random.default_rng(3)
    lang = (rng.random((40, 6)) < 0.3) * rng.random((40, 6))
    topic = (rng.random((40, 9)) < 0.3) * rng.random((40, 9))
    lang[0], topic[0] = 0, 0  # no stack at all
    repo_lang, repo_topic = rng.random((15, 6)), rng.random((15, 9))
    args = [a.astype(np.float32) for a in (lang, topic, repo_lang, repo_topic)]
    assert np.allclose(fit_only(*args), stack_fit(*args)[0], atol=1e-6)
    assert np.allclose(fit_only(*args)[0], 0.5)
