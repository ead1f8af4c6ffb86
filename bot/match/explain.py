"""Why a pick was chosen: the real top factors of its score, as short phrases for a card."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from bot.match.features import reporter_is_newcomer
from bot.match.issues import IssueTable
from bot.match.profile import MemberProfile
from bot.match.scoring import IssueFactors, stack_fit
from bot.match.taxonomy import get_taxonomy
from bot.match.terms import term_space

MIN_TERM_CONTRIBUTION = 0.2  # a matched term below this share of a full match is not a reason
MAX_STACK_REASONS = 3
MAX_REASONS = 5
FRIENDLY_APPROACHABILITY = 0.6
FRIENDLY_NEWCOMER_SHARE = 0.25
FAST_REPLY_HOURS = 7 * 24
RECENT_DAYS = 14


def reply_time(hours: float) -> str:
    """ "~3 hours", "~2 days"."""
    if hours < 36:
        value = max(1, round(hours))
        return f"~{value} hour{'s' if value != 1 else ''}"
    days = round(hours / 24)
    return f"~{days} day{'s' if days != 1 else ''}"


def _days(now: datetime, epoch_s: float) -> float | None:
    if math.isnan(epoch_s):
        return None
    return max(0.0, (now.timestamp() - epoch_s) / 86_400.0)


def explain(
    profile: MemberProfile, table: IssueTable, col: int, factors: IssueFactors, now: datetime
) -> tuple[list[str], dict[str, Any]]:
    """(reasons strongest first, signals) for issue column `col` picked for `profile`."""
    taxonomy = get_taxonomy()
    repo_idx = int(table.repo[col])
    repo = table.repos[repo_idx]
    repo_langs, repo_topics = table.repo_terms[repo_idx]
    langs, topics = profile.weights(taxonomy)
    contributions: list[tuple[float, int, str, str]] = []
    for kind, mine, theirs in ((0, langs, repo_langs), (1, topics, repo_topics)):
        for term, weight in mine.items():
            value = min(weight * theirs.get(term, 0.0), 1.0)
            if value >= MIN_TERM_CONTRIBUTION:
                contributions.append((value, kind, term, taxonomy.label(term)))
    contributions.sort(key=lambda c: (-c[0], c[1], c[2]))
    reasons: list[str] = []
    covered: set[str] = set()
    for _value, _kind, term, label in contributions:
        if len(reasons) >= MAX_STACK_REASONS:
            break
        if term in covered:
            continue
        covered.update([term, *taxonomy.ancestors(term)])  # "PostgreSQL", not also "databases"
        suffix = " (from your GitHub)" if profile.is_inferred(term) else ""
        reasons.append(label + suffix)

    approach = float(factors.approachability[col])
    share = float(table.newcomer_share[col])
    hours = float(table.response_hours[col])
    idle = _days(now, float(table.activity_at[col]))
    extras: list[tuple[float, str]] = []
    if approach >= FRIENDLY_APPROACHABILITY:
        extras.append((approach - 0.5, "newcomer-friendly issue"))
    if not math.isnan(share) and share >= FRIENDLY_NEWCOMER_SHARE:
        extras.append((0.2 * share - 0.05, "newcomer-friendly repo"))
    if not math.isnan(hours) and hours <= FAST_REPLY_HOURS:
        reply = f"maintainers reply in {reply_time(hours)}"
        extras.append((0.4 / (1 + hours / 48) - 0.12, reply))  # said up to ~4 days
    issue = table.issues[col]
    if reporter_is_newcomer(issue.author_association) == 1.0:
        # The model's strongest issue-level signal: issues newcomers open, newcomers finish.
        extras.append((0.12, "the reporter is new here too"))
    if idle is not None and idle <= RECENT_DAYS:
        extras.append((0.015 * math.exp(-idle / RECENT_DAYS), "active in the last two weeks"))
    extras.sort(key=lambda e: -e[0])
    reasons += [text for strength, text in extras if strength > 0][: MAX_REASONS - len(reasons)]

    space = term_space(taxonomy)
    fit, lang_fit, topic_fit = (
        float(a[0, 0])
        for a in stack_fit(
            space.language_matrix([langs]),
            space.topic_matrix([topics]),
            table.repo_lang[repo_idx : repo_idx + 1],
            table.repo_topic[repo_idx : repo_idx + 1],
        )
    )
    created = _days(now, float(table.created_at[col]))
    signals: dict[str, Any] = {
        "stack_fit": round(fit, 4),
        "language_fit": round(lang_fit, 4),
        "topic_fit": round(topic_fit, 4),
        "matched_terms": [c[2] for c in contributions],
        "approachability": round(approach, 4),
        "freshness": round(float(factors.fresh[col]), 4),
        "health": round(float(factors.health[col]), 4),
        "age_days": None if created is None else round(created, 1),
        "idle_days": None if idle is None else round(idle, 1),
        "comments": int(table.comments[col]),
        "maintainer_response_hours": None if math.isnan(hours) else round(hours, 1),
        "newcomer_share": None if math.isnan(share) else round(share, 3),
        "language": repo.primary_language,
        "stars": int(table.stars[col]),
        "reporter_newcomer": reporter_is_newcomer(issue.author_association) == 1.0,
        "close_hours": repo.close_hours_median,
    }
    if repo.rules:
        signals["expects"] = dict(repo.rules)
    return reasons, signals
