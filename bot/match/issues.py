"""Load stored issues and their repositories into NumPy arrays for eligibility and scoring."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlmodel import Session

from bot.config import Settings
from bot.core.availability import issue_columns
from bot.match.taxonomy import Taxonomy, term_key
from bot.match.terms import TermSpace
from bot.store.models import Issue, ListEntry, Repository

# Labels that invite help but do not promise a beginner-sized task.
GENERIC_LABELS = frozenset(
    {"help-wanted", "up-for-grabs", "contributions-welcome", "hacktoberfest"}
)
FIRST_TIMERS_ONLY = frozenset({"first-timers-only", "first-timer-only", "first-timers"})


def epoch(value: datetime | None) -> float:
    """Seconds since the epoch, NaN for None."""
    return value.timestamp() if value is not None else float("nan")


@dataclass
class IssueTable:
    """Issues (sorted by id) with per-issue arrays; repositories with term matrices."""

    issues: list[Any]  # Issue rows (read-only rows or models)
    repos: list[Any]  # Repository rows
    repo_terms: list[tuple[dict[str, float], dict[str, float]]]  # (languages, topics) per repo
    ids: np.ndarray  # int64 [I]
    repo: np.ndarray  # int32 [I] index into `repos`
    repo_lang: np.ndarray  # float32 [R, L]
    repo_topic: np.ndarray  # float32 [R, T]
    # availability
    open: np.ndarray
    is_pr: np.ndarray
    locked: np.ndarray
    assigned: np.ndarray
    assignment_activity: np.ndarray  # epoch s of the newest of assigned/updated/activity (NaN)
    open_prs: np.ndarray
    claimed: np.ndarray
    archived: np.ndarray
    disabled: np.ndarray
    gone: np.ndarray  # the repository was deleted (GitHub NOT_FOUND / 404)
    pushed_at: np.ndarray  # epoch s (NaN)
    # level
    beginner_label: np.ndarray  # carries a beginner label that is not merely "help wanted"
    first_timers_only: np.ndarray
    # scoring signals
    created_at: np.ndarray
    activity_at: np.ndarray
    comments: np.ndarray
    approachability: np.ndarray  # float32, NaN when unknown
    newcomer_share: np.ndarray  # float32 per issue (repo's), NaN when unknown
    response_hours: np.ndarray  # float32 per issue (repo's), NaN when unknown
    stars: np.ndarray

    @property
    def size(self) -> int:
        """Number of issues."""
        return int(self.ids.shape[0])

    def index_of(self, issue_ids: Iterable[int]) -> np.ndarray:
        """Positions of the given issue ids (-1 where not in the table)."""
        wanted = np.fromiter(issue_ids, dtype=np.int64)
        if not len(self.ids) or not len(wanted):
            return np.full(len(wanted), -1, dtype=np.int64)
        pos = np.searchsorted(self.ids, wanted).clip(0, len(self.ids) - 1)
        return np.where(self.ids[pos] == wanted, pos, -1)


def repo_terms(
    repo: Repository, entries: Sequence[ListEntry], taxonomy: Taxonomy
) -> tuple[dict[str, float], dict[str, float]]:
    """Canonical languages (by byte share) and topics (GitHub topics, catalog sections), expanded.

    A language with at least half of the bytes, the primary language and the catalog's language
    tag weigh 1.0; smaller shares weigh share / 0.5.
    """
    langs: dict[str, float] = {}
    total = sum(v for v in (repo.languages or {}).values() if isinstance(v, int | float) and v > 0)
    for name, size in (repo.languages or {}).items():
        term = taxonomy.language(name)
        if term and total and isinstance(size, int | float) and size > 0:
            langs[term] = max(langs.get(term, 0.0), min(1.0, size / total / 0.5))
    for language in [repo.primary_language, *(e.language for e in entries)]:
        term = taxonomy.language(language)
        if term:
            langs[term] = 1.0
    topics: dict[str, float] = {}
    found = list(taxonomy.repo_topic_terms(repo.topics or []))
    for entry in entries:
        found += taxonomy.section_terms(entry.section or "")
        found += taxonomy.repo_topic_terms(entry.topics or [])
    for term in found:
        if taxonomy.is_language(term):
            langs.setdefault(term, 1.0)
        else:
            topics[term] = 1.0
    return langs, taxonomy.expand(topics)


def _label_flags(labels: Iterable[str], beginner: frozenset[str]) -> tuple[bool, bool]:
    keys = {term_key(label) for label in labels}
    first_timers = bool(keys & FIRST_TIMERS_ONLY)
    specific = {k for k in keys if k in beginner and k not in GENERIC_LABELS}
    return bool(specific) or first_timers, first_timers


def load_issue_table(
    session: Session, settings: Settings, space: TermSpace, *, include_closed: bool = False
) -> IssueTable:
    """Read issues with their repositories and list entries.

    The table holds read-only rows (attribute access like the models, not ORM instances), so it
    can outlive the session and be shared across threads (`bot.match.inputs`).
    """
    issue_t, repo_t = Issue.__table__, Repository.__table__  # type: ignore[attr-defined]
    query = select(issue_t)
    if not include_closed:
        query = query.where(issue_t.c.state == "open")
    issues = session.execute(query.order_by(issue_t.c.id)).all()
    repo_ids = sorted({row.repository_id for row in issues})
    repos: dict[int | None, Any] = {}
    entries: dict[int, list[Any]] = defaultdict(list)
    entry_t = ListEntry.__table__  # type: ignore[attr-defined]
    for start in range(0, len(repo_ids), 5_000):
        chunk = repo_ids[start : start + 5_000]
        for repo in session.execute(select(repo_t).where(repo_t.c.id.in_(chunk))):
            repos[repo.id] = repo
        for entry in session.execute(
            select(entry_t).where(entry_t.c.repository_id.in_(chunk), entry_t.c.active)
        ):
            entries[entry.repository_id or 0].append(entry)
    issues = [row for row in issues if row.repository_id in repos]
    return build_issue_table(issues, repos, entries, settings, space)


def build_issue_table(
    issues: Sequence[Any],
    repos_by_id: dict[int | None, Any],
    entries: dict[int, list[Any]],
    settings: Settings,
    space: TermSpace,
) -> IssueTable:
    """Arrays for `issues` (must be sorted by id)."""
    taxonomy = space.taxonomy
    repos = [repos_by_id[k] for k in sorted(repos_by_id, key=lambda k: k or 0)]
    repo_pos = {repo.id: i for i, repo in enumerate(repos)}
    terms = [repo_terms(repo, entries.get(repo.id or 0, []), taxonomy) for repo in repos]
    base_beginner = {term_key(label) for label in settings.github.beginner_labels}
    extra = {
        name.lower(): {term_key(label) for label in labels}
        for name, labels in settings.github.extra_labels.items()
    }
    n = len(issues)
    repo_idx = np.fromiter((repo_pos[i.repository_id] for i in issues), dtype=np.int32, count=n)
    flags = []
    for issue in issues:
        repo = repos[repo_pos[issue.repository_id]]
        beginner = base_beginner | extra.get(repo.full_name, set())
        beginner |= {term_key(label) for label in repo.beginner_labels or []}
        flags.append(_label_flags(issue.labels or [], frozenset(beginner)))

    def arr(values: Iterable[float], dtype: type = np.float64) -> np.ndarray:
        return np.fromiter(values, dtype=dtype, count=n)

    repo_of = [repos[repo_pos[i.repository_id]] for i in issues]
    return IssueTable(
        issues=list(issues),
        repos=repos,
        repo_terms=terms,
        ids=arr((i.id or 0 for i in issues), np.int64),
        repo=repo_idx,
        repo_lang=space.language_matrix([t[0] for t in terms]),
        repo_topic=space.topic_matrix([t[1] for t in terms]),
        **vars(issue_columns(issues, repo_of)),
        beginner_label=arr((f[0] for f in flags), bool),
        first_timers_only=arr((f[1] for f in flags), bool),
        created_at=arr(epoch(i.created_at) for i in issues),
        activity_at=arr(epoch(i.last_activity_at or i.updated_at or i.created_at) for i in issues),
        comments=arr((i.comments_count or 0 for i in issues), np.int32),
        approachability=arr(
            (np.nan if i.approachability is None else i.approachability for i in issues),
            np.float32,
        ),
        newcomer_share=arr(
            (np.nan if r.newcomer_share is None else r.newcomer_share for r in repo_of),
            np.float32,
        ),
        response_hours=arr(
            (
                np.nan if r.maintainer_response_hours is None else r.maintainer_response_hours
                for r in repo_of
            ),
            np.float32,
        ),
        stars=arr((r.stars or 0 for r in repo_of), np.int32),
    )
