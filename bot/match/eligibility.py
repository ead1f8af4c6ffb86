"""Hard filters: which issues may be shown at all, and to which member. Every rule has a code.

Issue-level rules (same for every member, from `bot.core.availability`) give each issue its
*first* failing reason, so the counts add up to the number of issues. Member-level rules (the
availability module's viewer rules, already sent, not for me, level) are counted per
(member, issue) pair.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from bot.config import Settings
from bot.core.availability import ISSUE_RULES, VIEWER_RULES, Policy, reason_codes
from bot.core.vocabulary import Level, parse_level
from bot.match.issues import IssueTable
from bot.match.sorted_keys import unique_sorted

# Issue-level reasons, in the order they are checked (the availability module's issue rules).
ISSUE_REASONS: tuple[str, ...] = tuple(rule.reason.value for rule in ISSUE_RULES)
# Per (member, issue) pair: the availability module's viewer rules, then the matcher's own.
VIEWER_REASONS: tuple[str, ...] = tuple(rule.reason.value for rule in VIEWER_RULES)
MEMBER_REASONS: tuple[str, ...] = (*VIEWER_REASONS, "already_sent", "not_for_me", "level")

LEVELS: tuple[str, ...] = tuple(level.value for level in Level)


def level_code(level: str | None) -> int:
    """0 = first-timer, 1 = some, 2 = experienced; unknown levels count as first-timer."""
    return (parse_level(level) or Level.FIRST_TIMER).code


@dataclass
class EligibilityStats:
    """How many issues / pairs each rule removed."""

    issues_total: int = 0
    issues_eligible: int = 0
    issue_reasons: Counter[str] = field(default_factory=Counter)
    pair_reasons: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, int]:
        """Flat counts for logs and reports."""
        out = {"issues_total": self.issues_total, "issues_eligible": self.issues_eligible}
        out.update({reason: self.issue_reasons.get(reason, 0) for reason in ISSUE_REASONS})
        out.update({reason: self.pair_reasons.get(reason, 0) for reason in MEMBER_REASONS})
        return out


def issue_reason_codes(table: IssueTable, settings: Settings, now: datetime) -> np.ndarray:
    """Per issue: 0 when available, else 1 + index of the first failing rule in ISSUE_REASONS."""
    return reason_codes(table, Policy.at(settings, now))


def count_issue_reasons(codes: np.ndarray, stats: EligibilityStats) -> None:
    """Add per-reason issue counts to `stats`."""
    counts = np.bincount(codes, minlength=len(ISSUE_REASONS) + 1)
    stats.issues_total += int(codes.size)
    stats.issues_eligible += int(counts[0])
    for i, reason in enumerate(ISSUE_REASONS, start=1):
        if counts[i]:
            stats.issue_reasons[reason] += int(counts[i])


def level_allowed(table: IssueTable) -> np.ndarray:
    """bool [3, I]: may a member of each level get each issue?

    First-timers need a real beginner label ("help wanted" alone is not one); "first-timers-only"
    issues are kept for first-timers.
    """
    allowed = np.ones((len(LEVELS), table.size), dtype=bool)
    allowed[0] = table.beginner_label
    allowed[1] = ~table.first_timers_only
    allowed[2] = ~table.first_timers_only
    return allowed


def pair_keys(member_rows: np.ndarray, issue_cols: np.ndarray, n_issues: int) -> np.ndarray:
    """Encode (member row, issue column) pairs as sorted unique int64 keys."""
    keys = member_rows.astype(np.int64) * max(n_issues, 1) + issue_cols.astype(np.int64)
    return unique_sorted(keys)  # not np.unique: it imports numpy.ma (see bot.match.sorted_keys)
