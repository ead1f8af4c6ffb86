"""Vectorised scores: members × repositories (stack fit, feedback) times per-issue factors.

score(member, issue) = stack_fit(member, repo) × feedback(member, repo)
                       × approachability(issue) × freshness(issue) × health(repo)

Everything that depends on the member is a function of the issue's *repository* (languages,
topics and catalog sections are repository properties), so the member-dependent part is a
members × repositories matrix and the issue-dependent part a vector; a member's candidates are the
best few issues of their best repositories. Each factor is kept so a pick can say why it was chosen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from bot.match.issues import IssueTable
from bot.match.sorted_keys import in_sorted

LANGUAGE_SHARE = 0.6  # weight of language fit vs topic fit when a member gave both
NO_STACK_FIT = 0.5  # members without a stack: every repository fits a little
NOT_FOR_ME_REPO = 0.3  # factor per "not for me" on an issue of the same repository
NOT_FOR_ME_TOPIC = 0.35  # exp(-x · overlap with rejected repositories' topics)
INTERESTED_TOPIC = 0.1  # exp(+x · overlap with liked repositories' topics), capped
MAX_LIKE_BOOST = 1.25
FRESH_HALF_LIFE_DAYS = 120.0
QUANTUM = 1e6  # scores are compared at this resolution, then by index (deterministic ties)


@dataclass
class MemberArrays:
    """Member side of the score: rows follow the member order of the run."""

    lang: np.ndarray  # float32 [M, L] expanded weights
    topic: np.ndarray  # float32 [M, T]
    level: np.ndarray  # int8 [M]
    rejected: tuple[np.ndarray, np.ndarray, np.ndarray]  # (rows, repos, counts) of "not for me"
    rejected_topic: np.ndarray  # float32 [M, T] summed topic weights of rejected repositories
    liked_topic: np.ndarray  # float32 [M, T] summed topic weights of "interested" repositories
    excluded: np.ndarray  # int64 sorted keys row * I + col of pairs never to show

    @property
    def size(self) -> int:
        """Number of members."""
        return int(self.lang.shape[0])

    def take(self, rows: np.ndarray, n_issues: int) -> MemberArrays:
        """The members at sorted positions `rows`, renumbered 0..len(rows)-1."""
        n_issues = max(n_issues, 1)
        ex_rows = self.excluded // n_issues
        keep = in_sorted(ex_rows, rows)
        new_rows = np.searchsorted(rows, ex_rows[keep])
        r_rows, r_repos, r_counts = self.rejected
        rkeep = in_sorted(r_rows, rows)
        return MemberArrays(
            lang=self.lang[rows],
            topic=self.topic[rows],
            level=self.level[rows],
            rejected=(np.searchsorted(rows, r_rows[rkeep]), r_repos[rkeep], r_counts[rkeep]),
            rejected_topic=self.rejected_topic[rows],
            liked_topic=self.liked_topic[rows],
            excluded=np.sort(new_rows * n_issues + self.excluded[keep] % n_issues),
        )


@dataclass
class IssueFactors:
    """Per-issue multiplicative factors (neutral = 1.0) and their product."""

    approachability: np.ndarray  # the model score in [0, 1] (0.5 when unknown)
    approach: np.ndarray  # 0.5 + approachability
    fresh: np.ndarray
    health: np.ndarray
    total: np.ndarray


def issue_factors(table: IssueTable, now: datetime) -> IssueFactors:
    """Approachability, freshness and repository-health factors for every issue."""
    approach_score = np.where(np.isnan(table.approachability), 0.5, table.approachability)
    approach = (0.5 + approach_score).astype(np.float32)
    idle_days = (now.timestamp() - table.activity_at) / 86_400.0
    idle_days = np.where(np.isnan(idle_days), 365.0, np.maximum(idle_days, 0.0))
    fresh = (0.7 + 0.3 * np.exp(-idle_days / FRESH_HALF_LIFE_DAYS)).astype(np.float32)
    hours = table.response_hours
    reply = np.where(np.isnan(hours), 1.0, 0.8 + 0.4 / (1.0 + np.maximum(hours, 0) / 48.0))
    share = table.newcomer_share
    # (the approachability model already weighs the project's newcomer share; keep this mild)
    newcomers = np.where(np.isnan(share), 1.0, 0.95 + 0.2 * np.clip(share, 0.0, 1.0))
    health = (reply * newcomers).astype(np.float32)
    return IssueFactors(
        approachability=approach_score.astype(np.float32),
        approach=approach,
        fresh=fresh,
        health=health,
        total=(approach * fresh * health).astype(np.float32),
    )


def stack_fit(
    lang: np.ndarray, topic: np.ndarray, repo_lang: np.ndarray, repo_topic: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fit, language fit, topic fit), each [M, R] float32 in [0, 1].

    fit = (0.6·language + 0.4·topic) / (0.6·[has languages] + 0.4·[has topics]); members who
    gave neither fit every repository at NO_STACK_FIT.
    """
    lang_fit = np.minimum(lang @ repo_lang.T, 1.0, dtype=np.float32)
    topic_fit = np.minimum(topic @ repo_topic.T, 1.0, dtype=np.float32)
    wl = LANGUAGE_SHARE * (lang.max(axis=1, initial=0) > 0)
    wt = (1 - LANGUAGE_SHARE) * (topic.max(axis=1, initial=0) > 0)
    denom = wl + wt
    safe = np.where(denom > 0, denom, 1.0)
    fit = lang_fit * (wl / safe).astype(np.float32)[:, None]
    fit += topic_fit * (wt / safe).astype(np.float32)[:, None]
    fit[denom == 0] = NO_STACK_FIT
    return fit, lang_fit, topic_fit


def fit_only(
    lang: np.ndarray, topic: np.ndarray, repo_lang: np.ndarray, repo_topic: np.ndarray
) -> np.ndarray:
    """`stack_fit(...)[0]` computed in place (the hot path of `candidates`)."""
    wl = LANGUAGE_SHARE * (lang.max(axis=1, initial=0) > 0)
    wt = (1 - LANGUAGE_SHARE) * (topic.max(axis=1, initial=0) > 0)
    denom = wl + wt
    safe = np.where(denom > 0, denom, 1.0)
    a = (wl / safe).astype(np.float32)[:, None]
    b = (wt / safe).astype(np.float32)[:, None]
    # min(x, 1) · a == min(x · a, a) for a >= 0: fold the weights into the small member matrices
    fit = (lang * a) @ repo_lang.T
    np.minimum(fit, a, out=fit)
    part = (topic * b) @ repo_topic.T
    np.minimum(part, b, out=part)
    fit += part
    if (denom == 0).any():
        fit[denom == 0] = NO_STACK_FIT
    return fit


def _distinct_fits(
    weights: np.ndarray, repo_terms: np.ndarray, share: float, members: MemberArrays
) -> tuple[np.ndarray, np.ndarray]:
    """One part of `fit_only` (languages or topics) for each distinct member row:
    (fits [D, R], row of each member [M]). Few distinct stacks, so this is a small product."""
    wl = LANGUAGE_SHARE * (members.lang.max(axis=1, initial=0) > 0)
    wt = (1 - LANGUAGE_SHARE) * (members.topic.max(axis=1, initial=0) > 0)
    denom = wl + wt
    mine = wl if share == LANGUAGE_SHARE else wt
    weight = (mine / np.where(denom > 0, denom, 1.0)).astype(np.float32)[:, None]
    keyed = np.concatenate([weights * weight, weight], axis=1)
    row_of, first = distinct_rows(keyed)
    distinct = keyed[first]
    scaled, cap = distinct[:, :-1], distinct[:, -1:]
    fits = scaled @ repo_terms.T
    np.minimum(fits, cap, out=fits)
    return fits.astype(np.float32), row_of.ravel()


def feedback_factor(
    members: MemberArrays, rows: slice, repo_topic: np.ndarray
) -> np.ndarray | None:
    """[m, R] factor from "not for me" (lower) and "interested" (slightly higher) clicks.

    None when no member of `rows` gave feedback.
    """
    start, stop = rows.start or 0, rows.stop
    r_rows, r_repos, r_counts = members.rejected
    inside = (r_rows >= start) & (r_rows < stop)
    rejected = members.rejected_topic[rows]
    liked = members.liked_topic[rows]
    if not inside.any() and not rejected.any() and not liked.any():
        return None
    factor = np.ones((stop - start, repo_topic.shape[0]), dtype=np.float32)
    if inside.any():
        factor[r_rows[inside] - start, r_repos[inside]] = NOT_FOR_ME_REPO ** r_counts[inside]
    if rejected.any():
        factor *= np.exp(-NOT_FOR_ME_TOPIC * (rejected @ repo_topic.T))
    if liked.any():
        factor *= np.minimum(np.exp(INTERESTED_TOPIC * (liked @ repo_topic.T)), MAX_LIKE_BOOST)
    return factor


def repo_top_issues(repo: np.ndarray, value: np.ndarray, n_repos: int, per_repo: int) -> np.ndarray:
    """int64 [R, per_repo]: each repository's best issues by `value` (ties: lower index), -1 pad.

    Issues with value <= 0 are left out.
    """
    out = np.full((n_repos, per_repo), -1, dtype=np.int64)
    idx = np.nonzero(value > 0)[0]
    if idx.size == 0:
        return out
    order = idx[np.lexsort((idx, -value[idx], repo[idx]))]
    grp = repo[order]
    starts = np.r_[0, np.nonzero(np.diff(grp))[0] + 1]
    rank = np.arange(order.size) - np.repeat(starts, np.diff(np.r_[starts, order.size]))
    keep = rank < per_repo
    out[grp[keep], rank[keep]] = order[keep]
    return out


def top_k_columns(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best columns per row, best first; ties go to the lower column index.

    Scores are compared at a fixed resolution (≤ 1e-6): each becomes an integer key with the
    reversed column index in its low digits, so keys are unique within a row and equal scores
    order by column deterministically.
    """
    n_rows, n_cols = values.shape
    k = min(k, n_cols)
    if k == 0 or n_rows == 0:
        return np.zeros((n_rows, k), dtype=np.int64)
    top = float(values.max(initial=0.0))
    scale = min(QUANTUM, (2**31 - 1) / (n_cols * (top + 1.0)))
    if scale >= 1.0:  # 32-bit keys are enough
        keys = (values * np.float32(scale)).astype(np.int32)
        keys *= n_cols
        keys += np.arange(n_cols - 1, -1, -1, dtype=np.int32)
    else:
        keys = np.floor(values.astype(np.float64) * QUANTUM).astype(np.int64) * n_cols
        keys += np.arange(n_cols - 1, -1, -1, dtype=keys.dtype)
    if k < n_cols:
        threshold = np.partition(keys, n_cols - k, axis=1)[:, n_cols - k]
        flat = np.flatnonzero(keys >= threshold[:, None])  # exactly k per row, row-major
        part = (flat % n_cols).reshape(n_rows, k)
    else:
        part = np.broadcast_to(np.arange(n_cols), keys.shape).copy()
    chosen = np.take_along_axis(keys, part, axis=1).astype(np.int64)
    order = np.argsort(-chosen, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1).astype(np.int64)


@dataclass
class Candidates:
    """Each member's candidate issues, best first (-1 = none), with their scores."""

    issue: np.ndarray  # int32 or int64 [M, K]
    score: np.ndarray  # float32 [M, K]
    off_stack: int = 0  # members whose stack matched no repository with an available issue
    # members with the same group have identical rows (None: unknown)
    group: np.ndarray | None = None


def distinct_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(group of each row [N], first row of each group [G] ascending) of equal rows, exactly
    (the rows' bytes, compared as 64-bit words; groups numbered by their first row).

    Rows are sorted by a 64-bit hash of their words (one sort key, not one per word) and each
    is compared with the first row of its hash run; on a collision the rows are sorted by all
    their words instead.
    """
    n = matrix.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    raw = np.ascontiguousarray(matrix).view(np.uint8).reshape(n, -1)
    pad = (-raw.shape[1]) % 8
    if pad:
        raw = np.concatenate([raw, np.zeros((n, pad), dtype=np.uint8)], axis=1)
    words = raw.view(np.uint64)  # [N, W]
    hashes = row_hashes(words)
    order = np.argsort(hashes, kind="stable")  # stable: equal rows keep their order
    run = hashes[order]
    new = np.r_[True, run[1:] != run[:-1]]
    ordered = words[order]
    lead = np.maximum.accumulate(np.where(new, np.arange(n), 0))
    if not (ordered == ordered[lead]).all():  # a hash collision
        order = np.lexsort(words.T[::-1])
        ordered = words[order]
        new = np.r_[True, (ordered[1:] != ordered[:-1]).any(axis=1)]
    sorted_group = np.cumsum(new) - 1
    first = order[new]  # the first row of each group (stable sort: the lowest index)
    renumber = np.argsort(first)
    rank = np.empty_like(renumber)
    rank[renumber] = np.arange(renumber.size)
    groups = np.empty(n, dtype=np.int64)
    groups[order] = rank[sorted_group]
    return groups, first[renumber].astype(np.int64)


def row_hashes(words: np.ndarray) -> np.ndarray:
    """uint64 [N]: a multiply-add hash of each row of 64-bit words (fixed odd multipliers)."""
    return (words * hash_multipliers(words.shape[1])).sum(axis=1, dtype=np.uint64)


def hash_multipliers(n: int) -> np.ndarray:
    """uint64 [n]: fixed odd multipliers, splitmix64 of 1..n (the same in every process).

    Not numpy.random: importing it keeps ≈6 MB resident in `serve`.
    """
    z = np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)  # wraps mod 2**64
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return (z ^ (z >> np.uint64(31))) | np.uint64(1)


def member_groups(members: MemberArrays) -> tuple[np.ndarray, np.ndarray]:
    """(group of each member [M], first member of each group [G]) over identical score inputs.

    Members with the same stack weights and level and no feedback score every repository the
    same, so candidates are computed once per group (communities share stacks). A member with
    feedback is a group of their own. Pairs never to show are not part of the key: they are
    removed per member afterwards.
    """
    m_total = members.size
    r_rows = members.rejected[0]
    with_feedback = np.asarray(
        members.rejected_topic.any(axis=1) | members.liked_topic.any(axis=1), dtype=bool
    )
    with_feedback[r_rows[(r_rows >= 0) & (r_rows < m_total)]] = True
    own = np.where(with_feedback, np.arange(m_total) + 1, 0).astype(np.uint32)
    key = np.concatenate(
        [
            members.lang.astype(np.float32).view(np.uint32),
            members.topic.astype(np.float32).view(np.uint32),
            members.level.astype(np.uint32)[:, None],
            own[:, None],
        ],
        axis=1,
    )
    return distinct_rows(key)


def drop_excluded(
    issue: np.ndarray, score: np.ndarray, excluded: np.ndarray, n_issues: int
) -> np.ndarray:
    """Remove the pairs `excluded` (sorted keys row * I + col) from ranked candidate rows, in
    place; the rows stay packed (best first, -1 after the last candidate). Returns the rows
    that changed."""
    none = np.zeros(0, dtype=np.int64)
    if not excluded.size or not issue.size:
        return none
    keys = np.arange(issue.shape[0])[:, None] * n_issues + np.maximum(issue, 0)
    pos = np.searchsorted(excluded, keys).clip(0, excluded.size - 1)
    hit = (excluded[pos] == keys) & (issue >= 0)
    rows = np.nonzero(hit.any(axis=1))[0]
    if not rows.size:
        return none
    sub_issue, sub_score = issue[rows], score[rows]
    sub_issue[hit[rows]] = -1
    sub_score[hit[rows]] = 0
    order = np.argsort(sub_issue < 0, axis=1, kind="stable")
    issue[rows] = np.take_along_axis(sub_issue, order, axis=1)
    score[rows] = np.take_along_axis(sub_score, order, axis=1)
    return rows


def candidates(
    members: MemberArrays,
    table: IssueTable,
    issue_value: np.ndarray,
    *,
    repos_per_member: int,
    issues_per_repo: int,
    chunk_cells: int = 1_000_000,
) -> Candidates:
    """Best candidate issues per member; `issue_value` is float32 [levels, I] (0 = not allowed).

    Computed once per group of members with identical score inputs (`member_groups`), then the
    pairs never to show are removed per member.
    """
    m_total, n_issues, n_repos = members.size, table.size, table.repo_lang.shape[0]
    if m_total == 0 or n_issues == 0 or n_repos == 0:
        k = min(repos_per_member, n_repos) * issues_per_repo
        empty = np.full((m_total, k), -1, dtype=np.int64)
        return Candidates(empty, np.zeros((m_total, k), dtype=np.float32))
    tops = np.stack(
        [repo_top_issues(table.repo, v, n_repos, issues_per_repo) for v in issue_value]
    )  # [levels, R, J]
    # Repositories with few available issues give few alternatives: look at more of them so a
    # member keeps about half the nominal number of candidates (at most 4× the repositories).
    filled = (tops >= 0).sum(axis=2)
    per_repo = float(filled[filled > 0].mean()) if (filled > 0).any() else 1.0
    wanted = math.ceil(repos_per_member * issues_per_repo / 2 / per_repo)
    repos_per_member = min(max(repos_per_member, wanted), 4 * repos_per_member, n_repos)
    groups, first = member_groups(members)
    reps = members.take(first, n_issues)
    g_issue, g_score, g_off = _group_candidates(
        reps, table, issue_value, tops, repos_per_member, chunk_cells
    )
    out_issue, out_score = g_issue[groups], g_score[groups]
    changed = drop_excluded(out_issue, out_score, members.excluded, n_issues)
    off_stack = int(g_off[groups].sum())
    groups[changed] = first.size + np.arange(changed.size)  # rows of their own now
    return Candidates(out_issue, out_score, off_stack, groups)


def _group_candidates(
    members: MemberArrays,
    table: IssueTable,
    issue_value: np.ndarray,
    tops: np.ndarray,
    repos_per_member: int,
    chunk_cells: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(issues, scores, off stack) per member of `members`, ignoring `members.excluded`."""
    m_total, n_issues, n_repos = members.size, table.size, table.repo_lang.shape[0]
    k = repos_per_member * tops.shape[2]
    out_issue = np.full((m_total, k), -1, dtype=np.int32)  # half the traffic of int64
    out_score = np.zeros((m_total, k), dtype=np.float32)
    off_stack = np.zeros(m_total, dtype=bool)
    best = np.where(
        tops[:, :, 0] >= 0,
        np.take_along_axis(issue_value, np.maximum(tops[:, :, 0], 0), axis=1),
        0,
    ).astype(np.float32)  # [levels, R]
    lang_fit, lang_of = _distinct_fits(members.lang, table.repo_lang, LANGUAGE_SHARE, members)
    topic_fit, topic_of = _distinct_fits(
        members.topic, table.repo_topic, 1 - LANGUAGE_SHARE, members
    )
    no_stack = np.asarray(~(members.lang.any(axis=1) | members.topic.any(axis=1)), dtype=bool)
    step = max(1, chunk_cells // n_repos)
    for start in range(0, m_total, step):
        rows = slice(start, min(start + step, m_total))
        member_repo = lang_fit[lang_of[rows]]  # `fit_only` of these rows, from distinct parts
        member_repo += topic_fit[topic_of[rows]]
        member_repo[no_stack[rows]] = NO_STACK_FIT
        feedback = feedback_factor(members, rows, table.repo_topic)
        if feedback is not None:
            member_repo *= feedback
        level = members.level[rows]
        repo_score = best[level]  # a fresh [m, R] array (fancy indexing copies)
        repo_score *= member_repo
        off_stack[rows] = repo_score.max(axis=1) <= 0
        sel = top_k_columns(repo_score, repos_per_member)  # [m, Kr]
        cand = tops[level[:, None], sel]  # [m, Kr, J]
        m_idx = np.arange(sel.shape[0])[:, None]
        score = member_repo[m_idx, sel][:, :, None] * np.where(
            cand >= 0, issue_value[level[:, None, None], np.maximum(cand, 0)], 0
        )
        cand = cand.reshape(len(level), -1)
        score = score.reshape(len(level), -1).astype(np.float32)
        score[cand < 0] = 0
        # best first; equal scores (at 1e-6) by lower issue index; no candidate (-1) last
        key = np.floor(score.astype(np.float64) * QUANTUM).astype(np.int64) * (n_issues + 1)
        key += n_issues - np.where(cand < 0, n_issues, cand)
        # keys are distinct within a row except for score 0 (all of those become -1)
        order = np.argsort(-key, axis=1)
        cand = np.take_along_axis(cand, order, axis=1)
        score = np.take_along_axis(score, order, axis=1)
        cand[score <= 0] = -1
        out_issue[rows, : cand.shape[1]] = cand
        out_score[rows, : score.shape[1]] = score
    return out_issue, out_score, off_stack
