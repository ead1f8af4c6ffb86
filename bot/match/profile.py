"""Member profiles: the stack a member typed, optionally filled in from their public GitHub repos.

What the member typed always wins: inferred terms only add languages/topics the member did not
name, at most at `INFERRED_WEIGHT`. Inference reads the member's own non-fork public repositories
(languages weighted by bytes, GitHub topics) with PyGithub against `settings.github_api_url`, and
is cached in `Member.inferred` with a human explanation ("inferred from 12 public repos").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlmodel import Session

from bot.config import Settings
from bot.match.taxonomy import Taxonomy, get_taxonomy
from bot.store.models import Member

if TYPE_CHECKING:  # PyGithub is imported where it is used: ranking alone never needs it
    from github import Github

INFERRED_WEIGHT = 0.5  # an inferred term counts at most half as much as a typed one
MIN_LANGUAGE_SHARE = 0.05  # languages below this share of the member's bytes are ignored
INFERENCE_TIMEOUT_S = 15


@dataclass(frozen=True)
class MemberProfile:
    """A member's stack as canonical weights, their level, and what was inferred from GitHub."""

    member_id: int | None
    languages: dict[str, float] = field(default_factory=dict)  # typed
    topics: dict[str, float] = field(default_factory=dict)  # typed
    level: str = "first-timer"
    inferred_languages: dict[str, float] = field(default_factory=dict)
    inferred_topics: dict[str, float] = field(default_factory=dict)
    inferred_explanation: str | None = None
    slack_user_id: str | None = None

    def weights(self, taxonomy: Taxonomy) -> tuple[dict[str, float], dict[str, float]]:
        """(languages, topics) to score with: typed terms, then inferred ones, parents expanded."""
        langs = _merge(self.languages, self.inferred_languages)
        topics = _merge(self.topics, self.inferred_topics)
        return taxonomy.expand(langs), taxonomy.expand(topics)

    def is_inferred(self, term: str) -> bool:
        """True when `term` comes only from GitHub inference, not from what the member typed."""
        typed = term in self.languages or term in self.topics
        return not typed and (term in self.inferred_languages or term in self.inferred_topics)


def _merge(typed: Mapping[str, float], inferred: Mapping[str, float]) -> dict[str, float]:
    out = {term: float(weight) for term, weight in typed.items() if weight > 0}
    for term, weight in inferred.items():
        if term not in out and weight > 0:
            out[term] = INFERRED_WEIGHT * min(float(weight), 1.0)
    return out


def _canonical(weights: Mapping[str, Any] | None, taxonomy: Taxonomy) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, weight in (weights or {}).items():
        term = taxonomy.lookup(name) or name
        try:
            out[term] = max(out.get(term, 0.0), float(weight))
        except (TypeError, ValueError):
            continue
    return out


def profile_from_member(member: Member, taxonomy: Taxonomy | None = None) -> MemberProfile:
    """Profile of a stored member: `languages`/`topics` when set, else parsed `stack_text`."""
    taxonomy = taxonomy or get_taxonomy()
    langs = _canonical(member.languages, taxonomy)
    topics = _canonical(member.topics, taxonomy)
    if not langs and not topics and member.stack_text:
        stack = taxonomy.parse(member.stack_text)
        langs, topics = dict(stack.languages), dict(stack.topics)
    inferred = member.inferred or {}
    return MemberProfile(
        member_id=member.id,
        languages=langs,
        topics=topics,
        level=member.level or "first-timer",
        inferred_languages=_canonical(inferred.get("languages"), taxonomy),
        inferred_topics=_canonical(inferred.get("topics"), taxonomy),
        inferred_explanation=inferred.get("explanation"),
        slack_user_id=member.slack_user_id,
    )


def profile_from_text(stack: str, level: str = "first-timer") -> MemberProfile:
    """A hypothetical member's profile (for `matchmaker preview --stack …`)."""
    parsed = get_taxonomy().parse(stack)
    return MemberProfile(
        member_id=None, languages=dict(parsed.languages), topics=dict(parsed.topics), level=level
    )


# -- GitHub inference ---------------------------------------------------------------------------


def github_client(settings: Settings) -> Github:
    """A PyGithub client for `settings.github_api_url` (token when configured)."""
    from github import Auth, Github

    token = settings.github_token.get_secret_value() if settings.github_token else None
    local = urlsplit(settings.github_api_url).hostname in ("127.0.0.1", "localhost", "::1")
    return Github(
        base_url=settings.github_api_url.rstrip("/"),
        auth=Auth.Token(token) if token else None,
        timeout=INFERENCE_TIMEOUT_S,
        retry=None,
        per_page=100,
        # PyGithub paces requests (0.25 s) to respect GitHub's secondary limits; a local fake
        # GitHub (tests, demo) has none.
        seconds_between_requests=None if local else 0.25,
    )


def infer_from_github(
    login: str,
    settings: Settings,
    *,
    client: Github | None = None,
    taxonomy: Taxonomy | None = None,
    now: datetime,
) -> dict[str, Any]:
    """Read `login`'s own non-fork public repos; return the cache value for `Member.inferred`.

    Raises `github.GithubException` (e.g. 404 for an unknown login) or a network error.
    """
    taxonomy = taxonomy or get_taxonomy()
    client = client or github_client(settings)
    user = client.get_user(login)
    limit = settings.match.inference_max_repos
    repos = []
    for repo in user.get_repos(type="owner", sort="pushed"):
        if not repo.fork:
            repos.append(repo)
        if len(repos) >= limit:
            break
    language_bytes: Counter[str] = Counter()
    topic_repos: Counter[str] = Counter()
    for repo in repos:
        for name, size in repo.get_languages().items():
            term = taxonomy.language(name)
            if term:
                language_bytes[term] += int(size)
        for term in taxonomy.repo_topic_terms(repo.topics or []):
            if not taxonomy.is_language(term):
                topic_repos[term] += 1
    total = sum(language_bytes.values())
    top = max(language_bytes.values(), default=0)
    languages = {
        term: round(size / top, 3)
        for term, size in language_bytes.most_common()
        if total and size / total >= MIN_LANGUAGE_SHARE
    }
    most = max(topic_repos.values(), default=0)
    topics = {term: round(count / most, 3) for term, count in topic_repos.most_common()}
    count = len(repos)
    return {
        "login": user.login,
        "languages": languages,
        "topics": topics,
        "repos": count,
        "explanation": f"inferred from {count} public repo{'s' if count != 1 else ''}",
        "inferred_at": now.isoformat(),
    }


def inference_is_fresh(member: Member, settings: Settings, now: datetime) -> bool:
    """True when the cached inference is for the member's current login and recent enough."""
    cached = member.inferred or {}
    if not member.github_login or not cached.get("inferred_at"):
        return False
    if str(cached.get("login", "")).lower() != member.github_login.lower():
        return False
    try:
        when = datetime.fromisoformat(cached["inferred_at"])
    except (TypeError, ValueError):
        return False
    return now - when < timedelta(days=settings.match.inference_cache_days)


def refresh_inference(
    session: Session,
    member: Member,
    settings: Settings,
    *,
    client: Github | None = None,
    now: datetime,
    force: bool = False,
) -> dict[str, Any] | None:
    """Re-infer the member's stack from GitHub when the cache is stale; store it on the member.

    A failure keeps the previous cache and records the error in it; returns the cached value.
    Members without a GitHub login get no inference (and any old one is dropped).
    """
    from github import GithubException

    if not member.github_login:
        if member.inferred:
            member.inferred = None
            session.add(member)
        return None
    if not force and inference_is_fresh(member, settings, now):
        return member.inferred
    try:
        member.inferred = infer_from_github(member.github_login, settings, client=client, now=now)
    except (GithubException, OSError) as exc:
        status = getattr(exc, "status", None)
        reason = f"GitHub answered {status}" if status else type(exc).__name__
        previous = dict(member.inferred or {})
        previous["error"] = f"could not read {member.github_login}'s repos: {reason}"
        member.inferred = previous
    session.add(member)
    return member.inferred


def refresh_stale_inferences(
    session: Session,
    settings: Settings,
    *,
    now: datetime,
    limit: int = 50,
    client: Github | None = None,
) -> int:
    """Refresh up to `limit` members whose GitHub inference is missing or stale (called by the
    scheduled crawl job, `schedule.jobs.refresh_inferences`); returns how many were refreshed."""
    from sqlmodel import col, select

    members = session.exec(
        select(Member).where(col(Member.github_login).is_not(None)).order_by(col(Member.id))
    ).all()
    done = 0
    for member in members:
        if done >= limit:
            break
        if not inference_is_fresh(member, settings, now):
            refresh_inference(session, member, settings, client=client, now=now, force=True)
            done += 1
    return done
