"""`recommend()`: the few available issues each member is most likely to finish, with reasons.

Pipeline: load open issues -> approachability (shipped model, cached on the issue) -> hard
eligibility filters (counted) -> members × repositories stack fit and feedback, × per-issue factors
-> per-member candidates -> global assignment with diversity and collision spreading -> reasons.
`recommend()` never writes picks; `record_picks()` does.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import structlog
from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.core.availability import PairRule, Policy, Reason, Viewer, viewer_exclusions
from bot.core.vocabulary import FeedbackKind, PickState
from bot.match.eligibility import (
    MEMBER_REASONS,
    EligibilityStats,
    count_issue_reasons,
    issue_reason_codes,
    level_allowed,
    level_code,
    pair_keys,
)
from bot.match.explain import explain
from bot.match.inputs import RankInputs, rank_inputs
from bot.match.issues import IssueTable
from bot.match.profile import MemberProfile, profile_from_member
from bot.match.ranking import pick_issues
from bot.match.recommendation import Recommendation
from bot.match.scoring import MemberArrays, issue_factors
from bot.match.sorted_keys import in_sorted
from bot.match.taxonomy import get_taxonomy
from bot.match.terms import TermSpace
from bot.store.models import Feedback, Issue, Member, Pick

log = structlog.get_logger(__name__)
UNLIMITED = 1_000_000
MAX_IN_CLAUSE = 5_000


@dataclass
class RankResult:
    """Picks per profile (same order as the profiles given) and what the run filtered."""

    picks: list[list[Recommendation]]
    stats: dict[str, Any]


def recommend(
    session: Session,
    settings: Settings,
    member_ids: list[int] | None = None,
    n: int = 3,
    *,
    now: datetime,
) -> dict[int, list[Recommendation]]:
    """Up to `n` picks for each member (all members when `member_ids` is None).

    Issues already shown to a member, marked "not for me" by them or reported taken are never
    picked; an issue goes to at most `settings.match.issue_capacity` members (counting picks of
    the last `settings.match.spread_days` days) unless there are not enough eligible issues.
    Stores fresh approachability scores on the issues; does not write Pick rows.
    """
    query = select(Member).order_by(col(Member.id))
    if member_ids is not None:
        if not member_ids:
            return {}
        query = query.where(col(Member.id).in_(sorted(set(member_ids))))
    members = list(session.exec(query).all())
    taxonomy = get_taxonomy()
    profiles = [profile_from_member(member, taxonomy) for member in members]
    result = rank_profiles(session, settings, profiles, n, now=now)
    log.debug("match.recommend", **{k: v for k, v in result.stats.items() if k != "seconds"})
    return {
        member.id: picks
        for member, picks in zip(members, result.picks, strict=True)
        if member.id is not None
    }


def rank_profiles(
    session: Session,
    settings: Settings,
    profiles: Sequence[MemberProfile],
    n: int = 3,
    *,
    now: datetime,
    spread: bool = True,
) -> RankResult:
    """Rank issues for any profiles (stored members or hypothetical ones, member_id None)."""
    started = time.perf_counter()
    inputs = rank_inputs(session, settings, now)
    space, table = inputs.space, inputs.table
    stats = EligibilityStats()
    codes = issue_reason_codes(table, settings, now)
    count_issue_reasons(codes, stats)
    stats.issues_total += inputs.closed
    stats.issue_reasons["closed"] += inputs.closed

    inputs.refresh_scores(session, codes == 0, now)
    factors = issue_factors(table, now)
    allowed = level_allowed(table) & (codes == 0)[None, :]
    issue_value = np.where(allowed, factors.total[None, :], 0).astype(np.float32)

    members, sent_keys, hidden = member_arrays(
        session, profiles, table, space, Policy.at(settings, now), inputs
    )
    stats.pair_reasons.update(_pair_counts(members, sent_keys, hidden, allowed, table))
    mset = settings.match
    capacity = np.full(table.size, mset.issue_capacity if spread else UNLIMITED, dtype=np.int64)
    if spread:
        capacity -= recent_pick_counts(session, table, now - timedelta(days=mset.spread_days))
        capacity = np.maximum(capacity, 0)
    assignment = pick_issues(
        members,
        table,
        issue_value,
        capacity,
        n,
        max_per_repo=mset.max_per_repo,
        repos_per_member=max(mset.candidates_per_member, 4 * n * mset.max_per_repo),
        issues_per_repo=max(8, 2 * mset.max_per_repo),
    )
    picks = [
        _recommendations(
            profile, row, assignment.picks[row], assignment.scores[row], table, factors, now
        )
        for row, profile in enumerate(profiles)
    ]
    summary: dict[str, Any] = stats.as_dict()
    summary.update(
        members=len(profiles),
        off_stack=assignment.off_stack,
        picks=int((assignment.picks >= 0).sum()),
        shared_beyond_capacity=assignment.shared,
        members_short=int(((assignment.picks >= 0).sum(axis=1) < n).sum()) if profiles else 0,
        seconds=round(time.perf_counter() - started, 3),
    )
    return RankResult(picks=picks, stats=summary)


def member_arrays(
    session: Session,
    profiles: Sequence[MemberProfile],
    table: IssueTable,
    space: TermSpace,
    policy: Policy,
    inputs: RankInputs | None = None,
) -> tuple[MemberArrays, np.ndarray, dict[str, np.ndarray]]:
    """Member-side matrices (stack weights, level, feedback, pairs never to show), the keys of
    the pairs excluded because they were already sent, and per viewer rule of the availability
    module the keys of the pairs it hides (per-workspace reports from `inputs` when given)."""
    weights = [profile.weights(space.taxonomy) for profile in profiles]
    row_of = {p.member_id: i for i, p in enumerate(profiles) if p.member_id is not None}
    ids = sorted(row_of)
    sent = _member_rows(
        session, select(col(Pick.member_id), col(Pick.issue_id)), col(Pick.member_id), ids
    )
    feedback = _feedback_rows(session, ids)
    hidden_pairs = _hidden_pairs(session, ids, row_of, policy, inputs)
    excluded: list[tuple[int, int]] = [(row_of[m], i) for m, i in sent if m in row_of]
    n_sent = len(excluded)
    excluded += [pair for pairs in hidden_pairs.values() for pair in pairs]
    signals = _FeedbackSignals.collect(feedback, row_of, table, len(profiles), len(space.topics))
    excluded += signals.not_for_me
    excluded_keys, sent_keys = _excluded_keys(excluded, n_sent, table)
    arrays = MemberArrays(
        lang=space.language_matrix([w[0] for w in weights]),
        topic=space.topic_matrix([w[1] for w in weights]),
        level=np.fromiter((level_code(p.level) for p in profiles), np.int8, len(profiles)),
        rejected=signals.rejected_arrays(),
        rejected_topic=signals.rejected_topic,
        liked_topic=signals.liked_topic,
        excluded=excluded_keys,
    )
    return arrays, sent_keys, _hidden_keys(hidden_pairs, table)


def _feedback_rows(session: Session, ids: list[int]) -> list[Any]:
    """(member id, issue id, kind, repository id) of the feedback of members `ids`."""
    return _member_rows(
        session,
        select(
            col(Feedback.member_id),
            col(Feedback.issue_id),
            col(Feedback.kind),
            col(Issue.repository_id),
        ).join(Issue, col(Feedback.issue_id) == col(Issue.id)),
        col(Feedback.member_id),
        ids,
    )


def _hidden_pairs(
    session: Session,
    ids: list[int],
    row_of: dict[int, int],
    policy: Policy,
    inputs: RankInputs | None,
) -> dict[str, list[tuple[int, int]]]:
    """Per availability rule, the (member row, issue id) pairs it hides from members `ids`."""
    viewers = [
        Viewer(m, team)
        for m, team in _member_rows(
            session, select(col(Member.id), col(Member.team_id)), col(Member.id), ids
        )
    ]
    hidden_pairs: dict[str, list[tuple[int, int]]] = defaultdict(list)
    overrides = {} if inputs is None else {Reason.REPORTED_IN_WORKSPACE: _workspace_pairs(inputs)}
    exclusions = viewer_exclusions(session, viewers, policy, overrides)
    for (member_id, issue_id), reason in exclusions.items():
        hidden_pairs[reason.value].append((row_of[member_id], issue_id))
    return hidden_pairs


def _hidden_keys(
    hidden_pairs: dict[str, list[tuple[int, int]]], table: IssueTable
) -> dict[str, np.ndarray]:
    """`_hidden_pairs` as pair keys, pairs of issues not in `table` left out."""
    hidden: dict[str, np.ndarray] = {}
    for reason_name, pairs in hidden_pairs.items():
        h_cols = table.index_of(i for _, i in pairs)
        h_rows = np.fromiter((r for r, _ in pairs), np.int64, len(pairs))
        hidden[reason_name] = pair_keys(h_rows[h_cols >= 0], h_cols[h_cols >= 0], table.size)
    return hidden


def _excluded_keys(
    excluded: list[tuple[int, int]], n_sent: int, table: IssueTable
) -> tuple[np.ndarray, np.ndarray]:
    """Pair keys of all `excluded` (member row, issue id) pairs and of its first `n_sent` (the
    already sent ones), pairs of issues not in `table` left out."""
    cols = table.index_of(i for _, i in excluded)
    rows = np.fromiter((r for r, _ in excluded), np.int64, len(excluded))
    keep = cols >= 0
    sent_keys = pair_keys(rows[:n_sent][keep[:n_sent]], cols[:n_sent][keep[:n_sent]], table.size)
    return pair_keys(rows[keep], cols[keep], table.size), sent_keys


@dataclass
class _FeedbackSignals:
    """What members' feedback tells the ranker: issues marked "not for me" (member row, issue
    id), per (member row, repository index) how many of them, and the topic weights of the
    repositories of rejected and of liked issues (float32 [M, topics])."""

    not_for_me: list[tuple[int, int]]
    rejected: dict[tuple[int, int], int]
    rejected_topic: np.ndarray
    liked_topic: np.ndarray

    @classmethod
    def collect(
        cls,
        feedback: Iterable[Any],
        row_of: dict[int, int],
        table: IssueTable,
        n_rows: int,
        n_topics: int,
    ) -> _FeedbackSignals:
        repo_pos = {repo.id: i for i, repo in enumerate(table.repos)}
        rejected_topic = np.zeros((n_rows, n_topics), dtype=np.float32)
        signals = cls([], defaultdict(int), rejected_topic, np.zeros_like(rejected_topic))
        for member_id, issue_id, kind, repository_id in feedback:
            row = row_of.get(member_id)
            if row is None:
                continue
            repo = repo_pos.get(repository_id)
            if kind == FeedbackKind.NOT_FOR_ME:
                signals.not_for_me.append((row, issue_id))
                if repo is not None:
                    signals.rejected[(row, repo)] += 1
                    signals.rejected_topic[row] += table.repo_topic[repo]
            elif kind == FeedbackKind.INTERESTED and repo is not None:
                signals.liked_topic[row] += table.repo_topic[repo]
        return signals

    def rejected_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`rejected` as (member rows, repository indexes, counts), sorted by key."""
        keys = sorted(self.rejected)
        return (
            np.fromiter((r for r, _ in keys), np.int64, len(keys)),
            np.fromiter((c for _, c in keys), np.int64, len(keys)),
            np.fromiter((self.rejected[k] for k in keys), np.float32, len(keys)),
        )


def _workspace_pairs(inputs: RankInputs) -> PairRule:
    """The REPORTED_IN_WORKSPACE pairs from the cached per-workspace answer."""

    def pairs(session: Any, viewers: Sequence[Viewer], policy: Policy) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for viewer in viewers:
            hidden = inputs.hidden_in_workspace(session, viewer.team_id, policy)
            out += [(viewer.member_id, int(i)) for i in hidden]
        return out

    return pairs


def _member_rows(session: Session, query: Any, column: Any, ids: list[int]) -> list[Any]:
    if not ids:
        return []
    if len(ids) > MAX_IN_CLAUSE:
        wanted = set(ids)
        return [row for row in session.exec(query).all() if row[0] in wanted]
    return list(session.exec(query.where(column.in_(ids))).all())


def _pair_counts(
    members: MemberArrays,
    sent_keys: np.ndarray,
    hidden: dict[str, np.ndarray],
    allowed: np.ndarray,
    table: IssueTable,
) -> dict[str, int]:
    """(member, available issue) pairs removed by each member-level rule (first rule wins)."""
    counts = dict.fromkeys(MEMBER_REASONS, 0)
    if not table.size or not members.size:
        return counts
    available = np.asarray(allowed.any(axis=0))
    left = np.ones(members.excluded.shape, dtype=bool)
    for reason, keys in hidden.items():
        mine = left & in_sorted(members.excluded, keys)
        counts[reason] = int(available[members.excluded[mine] % table.size].sum())
        left &= ~mine
    sent = left & in_sorted(members.excluded, sent_keys)
    cols = members.excluded % table.size
    counts["already_sent"] = int(available[cols[sent]].sum())
    counts["not_for_me"] = int(available[cols[left & ~sent]].sum())
    per_level = np.bincount(members.level, minlength=allowed.shape[0])
    blocked = (~allowed & available[None, :]).sum(axis=1)
    counts["level"] = int((per_level * blocked).sum())
    return counts


def recent_pick_counts(session: Session, table: IssueTable, since: datetime) -> np.ndarray:
    """int64 [I]: how many members were given each issue since `since`."""
    rows = session.exec(
        select(col(Pick.issue_id), func.count(func.distinct(col(Pick.member_id))))
        .where(col(Pick.created_at) >= since)
        .group_by(col(Pick.issue_id))
    ).all()
    counts = np.zeros(table.size, dtype=np.int64)
    if rows:
        cols = table.index_of(issue_id for issue_id, _ in rows)
        values = np.fromiter((c for _, c in rows), np.int64, len(rows))
        counts[cols[cols >= 0]] = values[cols >= 0]
    return counts


def _recommendations(
    profile: MemberProfile,
    row: int,
    picks: np.ndarray,
    scores: np.ndarray,
    table: IssueTable,
    factors: Any,
    now: datetime,
) -> list[Recommendation]:
    out: list[Recommendation] = []
    for rank, (column, score) in enumerate(
        ((int(c), float(s)) for c, s in zip(picks, scores, strict=True) if c >= 0), start=1
    ):
        issue = table.issues[column]
        repo = table.repos[int(table.repo[column])]
        reasons, signals = explain(profile, table, column, factors, now)
        out.append(
            Recommendation(
                member_id=profile.member_id,
                issue_id=int(issue.id or 0),
                repo_full_name=repo.full_name,
                issue_number=issue.number,
                title=issue.title,
                url=issue.url,
                labels=list(issue.labels or []),
                score=round(score, 6),
                reasons=reasons,
                signals=signals,
                rank=rank,
            )
        )
    return out


def record_picks(
    session: Session,
    recs: Iterable[Recommendation],
    source: str,
    delivery_id: int | None = None,
    *,
    now: datetime,
) -> int:
    """Store the picks shown to members (one Pick per member and issue; repeats are skipped).

    One bulk insert in the session's transaction (no ORM objects: a burst of on-demand picks
    stores hundreds at once); returns how many were new.
    """
    recs = [r for r in recs if r.member_id is not None]
    if not recs:
        return 0
    member_ids = sorted({r.member_id for r in recs if r.member_id is not None})
    existing = set(
        session.exec(
            select(col(Pick.member_id), col(Pick.issue_id)).where(
                col(Pick.member_id).in_(member_ids)
            )
        ).all()
    )
    rows: list[dict[str, Any]] = []
    for rec in recs:
        assert rec.member_id is not None  # filtered above
        key = (rec.member_id, rec.issue_id)
        if key in existing:
            continue
        existing.add(key)
        rows.append(
            {
                "member_id": rec.member_id,
                "issue_id": rec.issue_id,
                "delivery_id": delivery_id,
                "source": source,
                "rank": rec.rank,
                "score": rec.score,
                "reasons": list(rec.reasons),
                "state": str(PickState.SHOWN),
                "created_at": now,
            }
        )
    if rows:
        session.execute(insert(Pick), rows)
    return len(rows)
