"""The one definition of "available": an ordered list of rules, each with a reason and its text.

Every rule says when an issue is *not* available, in two equivalent forms:

* `sql(policy, viewer)`: a SQLAlchemy condition over `Issue` (joined with `Repository`), used by
  queries (`available_clause`, `reason_case`);
* `mask(columns, policy)`: a NumPy bool array over the ranker's per-issue columns (issue rules
  only), used by `reason_codes`.

Issue rules are the same for everyone. Viewer rules depend on who looks (a member of a
workspace): "you reported it taken", "enough members of your workspace reported it taken",
"it is held for another member of your workspace" (an active claim hold, `bot.deliver.holds`).
The first failing rule is the reason shown in `status`, `preview`, App Home and `/metrics`.
Adding a rule is one `Rule(...)` entry in `ISSUE_RULES` or `VIEWER_RULES` (plus its `Reason`).

All times are inputs: `Policy.at(settings, now)` turns the caller's clock reading into the
thresholds; the database clock is never used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

import numpy as np
from sqlalchemy import String, and_, case, cast, exists, false, func, not_, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from bot.config import Settings
from bot.store.models import Hold, Issue, Repository, TakenReport


class Reason(StrEnum):
    """Why an issue is not available (stored in logs and metrics, never shown raw to users)."""

    CLOSED = "closed"
    PULL_REQUEST = "pull_request"
    LOCKED = "locked"
    REPO_ARCHIVED = "repo_archived"
    REPO_DISABLED = "repo_disabled"
    REPO_GONE = "repo_gone"
    REPO_INACTIVE = "repo_inactive"
    ASSIGNED = "assigned"
    LINKED_PR = "linked_pr"
    CLAIMED = "claimed"
    REPORTED_BY_YOU = "reported_by_you"
    REPORTED_IN_WORKSPACE = "reported_in_workspace"
    HELD_FOR_OTHER = "held_for_other"


@dataclass(frozen=True)
class Policy:
    """Thresholds of the rules at one instant (computed from the caller's `now`)."""

    now: datetime
    inactive_before: datetime  # repository pushed before this: inactive
    stale_before: datetime  # assignment without a sign of life since this: stale (ignored)
    reporters_needed: int  # distinct members of a workspace whose reports hide an issue there

    @classmethod
    def at(cls, settings: Settings, now: datetime) -> Policy:
        """The policy of `settings` at `now`."""
        return cls(
            now=now,
            inactive_before=now - timedelta(days=settings.github.inactive_after_days),
            stale_before=now - timedelta(days=settings.github.stale_assignment_days),
            reporters_needed=settings.match.taken_reporters_needed,
        )


@dataclass(frozen=True)
class Viewer:
    """Who looks: a member of a workspace (Slack team)."""

    member_id: int
    team_id: str


class Columns(Protocol):
    """Per-issue arrays the issue rules read (`bot.match.issues.IssueTable` has them)."""

    open: np.ndarray
    is_pr: np.ndarray
    locked: np.ndarray
    archived: np.ndarray
    disabled: np.ndarray
    gone: np.ndarray  # GitHub says the repository no longer exists
    pushed_at: np.ndarray  # epoch s, NaN when unknown
    assigned: np.ndarray
    assignment_activity: np.ndarray  # epoch s of the newest sign of the assignee, NaN
    open_prs: np.ndarray
    claimed: np.ndarray


@dataclass
class IssueColumns:
    """The issue rules' inputs as arrays (what `issue_columns` builds)."""

    open: np.ndarray
    is_pr: np.ndarray
    locked: np.ndarray
    archived: np.ndarray
    disabled: np.ndarray
    gone: np.ndarray
    pushed_at: np.ndarray
    assigned: np.ndarray
    assignment_activity: np.ndarray
    open_prs: np.ndarray
    claimed: np.ndarray


def _get(row: Any, name: str, default: Any = None) -> Any:
    if row is None:
        return default
    if isinstance(row, Mapping):
        return row.get(name, default)
    return getattr(row, name, default)


def _epoch(value: datetime | None) -> float:
    return value.timestamp() if value is not None else float("nan")


def issue_columns(issues: Sequence[Any], repos: Sequence[Any]) -> IssueColumns:
    """Arrays of the issue rules' inputs from `Issue` rows or crawl value dicts (`repos[i]` is
    the repository row or values of `issues[i]`, None when unknown)."""
    n = len(issues)

    def arr(values: Iterable[Any], dtype: Any = np.float64) -> np.ndarray:
        return np.fromiter(values, dtype=dtype, count=n)

    def activity(issue: Any) -> float:
        times = [_get(issue, k) for k in ("assigned_at", "last_activity_at", "updated_at")]
        stamps = [t.timestamp() for t in times if t is not None]
        return max(stamps) if stamps else float("nan")

    return IssueColumns(
        open=arr((_get(i, "state", "open") == "open" for i in issues), bool),
        is_pr=arr((bool(_get(i, "is_pull_request")) for i in issues), bool),
        locked=arr((bool(_get(i, "locked")) for i in issues), bool),
        archived=arr((bool(_get(r, "archived")) for r in repos), bool),
        disabled=arr((bool(_get(r, "disabled")) for r in repos), bool),
        gone=arr((_get(r, "gone_at") is not None for r in repos), bool),
        pushed_at=arr(_epoch(_get(r, "pushed_at")) for r in repos),
        assigned=arr((bool(_get(i, "assignees")) for i in issues), bool),
        assignment_activity=arr(activity(i) for i in issues),
        open_prs=arr((int(_get(i, "open_pr_count") or 0) for i in issues), np.int32),
        claimed=arr((bool(_get(i, "claimed")) for i in issues), bool),
    )


def count_available(issues: Sequence[Any], repo: Any, policy: Policy) -> int:
    """How many of one repository's issues (rows or crawl values) pass every issue rule."""
    columns = issue_columns(issues, [repo] * len(issues))
    return int((reason_codes(columns, policy) == 0).sum())


SqlRule = Callable[[Policy, Viewer | None], ColumnElement[bool]]
MaskRule = Callable[[Columns, Policy], np.ndarray]
# (session, viewers, policy) -> (member id, issue id) pairs the rule hides (viewer rules)
PairRule = Callable[[Any, Sequence[Viewer], Policy], Iterable[tuple[int, int]]]


@dataclass(frozen=True)
class Rule:
    """One reason an issue is unavailable: its code, what users read, and when it applies."""

    reason: Reason
    text: str  # user-facing, completes "Not available: …"
    sql: SqlRule
    mask: MaskRule | None = None  # issue rules: the same test over the ranker's arrays
    pairs: PairRule | None = None  # viewer rules: the same test for many viewers at once


# --- SQL forms -------------------------------------------------------------------------------


def _has_items(column: Any) -> ColumnElement[bool]:
    """A JSON list column holds at least one item (portable: compares the JSON text)."""
    text = cast(column, String)
    return and_(column.is_not(None), text.not_in(["[]", "null", ""]))


def _live_assignment(policy: Policy, _viewer: Viewer | None) -> ColumnElement[bool]:
    times = (col(Issue.assigned_at), col(Issue.last_activity_at), col(Issue.updated_at))
    stale = and_(
        and_(*(or_(t.is_(None), t < policy.stale_before) for t in times)),
        or_(*(t.is_not(None) for t in times)),
    )
    return and_(_has_items(col(Issue.assignees)), not_(stale))


def _last_activity() -> Any:
    """GitHub's newest sign of activity on the issue (comments, edits, events)."""
    return func.coalesce(col(Issue.last_activity_at), col(Issue.updated_at))


def _reported_by_you(policy: Policy, viewer: Viewer | None) -> ColumnElement[bool]:
    if viewer is None:
        return false()
    return exists().where(
        col(TakenReport.issue_id) == col(Issue.id),
        col(TakenReport.member_id) == viewer.member_id,
    )


def live_reporters(team_id: str) -> Any:
    """Scalar subquery: distinct members of `team_id` whose report on the issue is still live
    (made at or after GitHub's last activity on it)."""
    return (
        select(func.count(func.distinct(col(TakenReport.member_id))))
        .where(
            col(TakenReport.issue_id) == col(Issue.id),
            col(TakenReport.team_id) == team_id,
            _live_report(),
        )
        .correlate(Issue)
        .scalar_subquery()
    )


def _live_report() -> ColumnElement[bool]:
    activity = _last_activity()
    return or_(activity.is_(None), col(TakenReport.reported_at) >= activity)


def hidden_in_some_workspace(policy: Policy) -> ColumnElement[bool]:
    """SQL condition: in at least one workspace enough members reported the issue taken (the
    viewer rule `REPORTED_IN_WORKSPACE` applies to that workspace's members)."""
    return exists(
        select(col(TakenReport.team_id))
        .where(col(TakenReport.issue_id) == col(Issue.id), _live_report())
        .group_by(col(TakenReport.team_id))
        .having(func.count(func.distinct(col(TakenReport.member_id))) >= policy.reporters_needed)
        .correlate(Issue)
    )


def _reported_in_workspace(policy: Policy, viewer: Viewer | None) -> ColumnElement[bool]:
    if viewer is None:
        return false()
    return live_reporters(viewer.team_id) >= policy.reporters_needed


def _pairs_reported_by_you(
    session: Any, viewers: Sequence[Viewer], policy: Policy
) -> Iterable[tuple[int, int]]:
    ids = sorted({v.member_id for v in viewers})
    for start in range(0, len(ids), 1000):
        rows = session.execute(
            select(col(TakenReport.member_id), col(TakenReport.issue_id)).where(
                col(TakenReport.member_id).in_(ids[start : start + 1000])
            )
        )
        yield from ((int(m), int(i)) for m, i in rows)


def _members_by_team(viewers: Sequence[Viewer]) -> dict[str, list[int]]:
    """The viewers' member ids, grouped by workspace."""
    by_team: dict[str, list[int]] = {}
    for viewer in viewers:
        by_team.setdefault(viewer.team_id, []).append(viewer.member_id)
    return by_team


def _pairs_reported_in_workspace(
    session: Any, viewers: Sequence[Viewer], policy: Policy
) -> Iterable[tuple[int, int]]:
    for team_id, members in _members_by_team(viewers).items():
        hidden = session.execute(
            select(col(Issue.id)).where(live_reporters(team_id) >= policy.reporters_needed)
        ).scalars()
        for issue_id in hidden:
            yield from ((member_id, int(issue_id)) for member_id in members)


def active_hold(policy: Policy) -> ColumnElement[bool]:
    """SQL condition over `Hold`: the hold is active at `policy.now` (not released, not expired)."""
    return and_(col(Hold.released_at).is_(None), col(Hold.expires_at) > policy.now)


def held_in_some_workspace(policy: Policy) -> ColumnElement[bool]:
    """SQL condition: the issue has an active hold in at least one workspace (the viewer rule
    `HELD_FOR_OTHER` applies to that workspace's other members)."""
    return exists().where(col(Hold.issue_id) == col(Issue.id), active_hold(policy))


def _held_for_other(policy: Policy, viewer: Viewer | None) -> ColumnElement[bool]:
    if viewer is None:
        return false()
    return exists().where(
        col(Hold.issue_id) == col(Issue.id),
        col(Hold.team_id) == viewer.team_id,
        col(Hold.member_id) != viewer.member_id,
        active_hold(policy),
    )


def _pairs_held_for_other(
    session: Any, viewers: Sequence[Viewer], policy: Policy
) -> Iterable[tuple[int, int]]:
    for team_id, members in _members_by_team(viewers).items():
        held = session.execute(
            select(col(Hold.issue_id), col(Hold.member_id)).where(
                col(Hold.team_id) == team_id, active_hold(policy)
            )
        ).all()
        for issue_id, holder in held:
            yield from ((m, int(issue_id)) for m in members if m != holder)


# --- NumPy forms -----------------------------------------------------------------------------


def _mask_live_assignment(c: Columns, p: Policy) -> np.ndarray:
    # NaN (no timestamp at all) compares False: the assignment counts as live.
    return c.assigned & ~(c.assignment_activity < p.stale_before.timestamp())


ISSUE_RULES: tuple[Rule, ...] = (
    Rule(
        Reason.CLOSED,
        "the issue is closed",
        lambda p, v: col(Issue.state) != "open",
        lambda c, p: ~c.open,
    ),
    Rule(
        Reason.PULL_REQUEST,
        "it is a pull request",
        lambda p, v: col(Issue.is_pull_request).is_(True),
        lambda c, p: c.is_pr,
    ),
    Rule(
        Reason.LOCKED,
        "the issue is locked",
        lambda p, v: col(Issue.locked).is_(True),
        lambda c, p: c.locked,
    ),
    Rule(
        Reason.REPO_ARCHIVED,
        "the repository is archived",
        lambda p, v: col(Repository.archived).is_(True),
        lambda c, p: c.archived,
    ),
    Rule(
        Reason.REPO_DISABLED,
        "the repository is disabled",
        lambda p, v: col(Repository.disabled).is_(True),
        lambda c, p: c.disabled,
    ),
    Rule(
        Reason.REPO_GONE,
        "the repository no longer exists on GitHub",
        lambda p, v: col(Repository.gone_at).is_not(None),
        lambda c, p: c.gone,
    ),
    Rule(
        Reason.REPO_INACTIVE,
        "the repository has had no push for a long time",
        lambda p, v: col(Repository.pushed_at) < p.inactive_before,
        lambda c, p: c.pushed_at < p.inactive_before.timestamp(),  # NaN: kept
    ),
    Rule(
        Reason.ASSIGNED,
        "someone is assigned on GitHub",
        _live_assignment,
        _mask_live_assignment,
    ),
    Rule(
        Reason.LINKED_PR,
        "an open pull request is linked to it",
        lambda p, v: col(Issue.open_pr_count) > 0,
        lambda c, p: c.open_prs > 0,
    ),
    Rule(
        Reason.CLAIMED,
        "someone claimed it in a comment",
        lambda p, v: col(Issue.claimed).is_(True),
        lambda c, p: c.claimed,
    ),
)

VIEWER_RULES: tuple[Rule, ...] = (
    Rule(
        Reason.REPORTED_BY_YOU,
        "you reported it as already taken",
        _reported_by_you,
        pairs=_pairs_reported_by_you,
    ),
    Rule(
        Reason.REPORTED_IN_WORKSPACE,
        "members of your workspace reported it as already taken",
        _reported_in_workspace,
        pairs=_pairs_reported_in_workspace,
    ),
    Rule(
        Reason.HELD_FOR_OTHER,
        "it is held for another member of your workspace who is working on it",
        _held_for_other,
        pairs=_pairs_held_for_other,
    ),
)

RULES: tuple[Rule, ...] = ISSUE_RULES + VIEWER_RULES
_BY_REASON = {rule.reason: rule for rule in RULES}


def reason_text(reason: Reason | str) -> str:
    """The user-facing text of a reason ("" for an unknown one)."""
    rule = _BY_REASON.get(Reason(reason)) if reason in Reason._value2member_map_ else None
    return rule.text if rule else ""


def available_clause(policy: Policy, viewer: Viewer | None = None) -> ColumnElement[bool]:
    """SQL condition: the issue (joined with its repository) is available to `viewer`
    (to everyone when `viewer` is None: only issue rules apply)."""
    # Via the CASE: a rule whose condition is NULL (e.g. a never-pushed repository) passes,
    # as in NumPy, instead of turning NOT(...) into NULL.
    return reason_case(policy, viewer).is_(None)


def reason_case(policy: Policy, viewer: Viewer | None = None) -> Any:
    """SQL expression: the first failing rule's reason code, NULL when available."""
    rules = RULES if viewer is not None else ISSUE_RULES
    return case(*((rule.sql(policy, viewer), rule.reason.value) for rule in rules), else_=None)


def reason_codes(columns: Columns, policy: Policy) -> np.ndarray:
    """int8 per issue: 0 when every issue rule passes, else 1 + index in `ISSUE_RULES` of the
    first failing one."""
    size = int(np.asarray(columns.open).shape[0])
    codes = np.zeros(size, dtype=np.int8)
    for code, rule in reversed(list(enumerate(ISSUE_RULES, start=1))):
        assert rule.mask is not None
        codes[rule.mask(columns, policy)] = code
    return codes


def code_reason(code: int) -> Reason | None:
    """The reason of a code from `reason_codes` (None for 0, available)."""
    return ISSUE_RULES[code - 1].reason if code else None


def issue_reason(
    session: Any, issue_id: int, policy: Policy, viewer: Viewer | None = None
) -> Reason | None:
    """Why one stored issue is unavailable to `viewer` (None when it is available or unknown)."""
    value = session.execute(
        select(reason_case(policy, viewer))
        .select_from(Issue)
        .join(Repository, col(Repository.id) == col(Issue.repository_id))
        .where(col(Issue.id) == issue_id)
    ).scalar_one_or_none()
    return Reason(value) if value else None


def issue_reasons(
    session: Any, issue_ids: Sequence[int], policy: Policy, viewer: Viewer | None = None
) -> dict[int, Reason | None]:
    """`issue_reason` for many issues in one query: {issue id: reason or None}."""
    if not issue_ids:
        return {}
    rows = session.execute(
        select(col(Issue.id), reason_case(policy, viewer))
        .join(Repository, col(Repository.id) == col(Issue.repository_id))
        .where(col(Issue.id).in_(list(issue_ids)))
    ).all()
    return {int(i): (Reason(r) if r else None) for i, r in rows}


def viewer_exclusions(
    session: Any,
    viewers: Sequence[Viewer],
    policy: Policy,
    pairs: Mapping[Reason, PairRule] | None = None,
) -> dict[tuple[int, int], Reason]:
    """{(member id, issue id): first viewer rule that hides the issue from that member}.

    `pairs` replaces a rule's pair query (e.g. the ranker's cached per-workspace answer)."""
    found: dict[tuple[int, int], Reason] = {}
    if not viewers:
        return found
    for rule in VIEWER_RULES:
        rule_pairs = (pairs or {}).get(rule.reason, rule.pairs)
        assert rule_pairs is not None
        for pair in rule_pairs(session, viewers, policy):
            found.setdefault((int(pair[0]), int(pair[1])), rule.reason)
    return found
