"""SQLModel tables: the bot's whole persistent state.

Data flows one way: catalog -> github -> store -> match -> deliver -> slack. Every table here is
written by exactly one stage (noted in its docstring) and read by the later ones.
Rows coming from GitHub are keyed on GitHub node ids (`node_id`) so crawls upsert, never duplicate.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime


def utcnow() -> datetime:
    """Current time, timezone-aware UTC (stored naive-UTC by SQLite, aware by PostgreSQL)."""
    return datetime.now(UTC)


def json_column() -> Any:
    """A nullable JSON column (TEXT on SQLite, json on PostgreSQL)."""
    return Field(default=None, sa_column=Column(JSON, nullable=True))


class ListSource(SQLModel, table=True):
    """An awesome list the catalog crawls (written by catalog)."""

    __tablename__ = "list_source"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(unique=True, index=True, max_length=2000)
    etag: str | None = Field(default=None, max_length=500)
    enabled: bool = True
    last_fetched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    counts: dict[str, int] | None = json_column()
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Repository(SQLModel, table=True):
    """A GitHub repository named by at least one list (catalog creates, github fills in)."""

    __tablename__ = "repository"

    id: int | None = Field(default=None, primary_key=True)
    full_name: str = Field(unique=True, index=True, max_length=300)  # lower-case "owner/name"
    node_id: str | None = Field(default=None, unique=True, index=True, max_length=100)
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    primary_language: str | None = Field(default=None, max_length=100)
    languages: dict[str, int] | None = json_column()  # language -> bytes
    topics: list[str] | None = json_column()  # GitHub topics
    beginner_labels: list[str] | None = json_column()  # labels of this repo that mean "beginner"
    stars: int = 0
    forks: int = 0
    open_issues: int = 0
    archived: bool = False
    disabled: bool = False
    license: str | None = Field(default=None, max_length=100)
    has_contributing: bool = False
    pushed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    newcomer_share: float | None = None  # share of recently closed issues fixed by first-timers
    maintainer_response_hours: float | None = None  # median first maintainer reply
    etag: str | None = Field(default=None, max_length=500)
    crawled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    crawl_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # github: what the cheap change check saw at the last complete crawl (re-crawl when it differs)
    crawl_fingerprint: str | None = Field(default=None, max_length=100)
    full_crawled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # github: GitHub says the repository no longer exists (deleted, or made private/blocked)
    gone_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    gone_reason: str | None = Field(default=None, max_length=500)
    # github: project history, sampled at each full crawl (RecGFI's contributornum, proclspr,
    # clsisst; closed_issues_count x newcomer_share estimates proissnewnum)
    contributors_count: int | None = None  # GitHub mentionableUsers.totalCount
    closed_prs_count: int | None = None  # pullRequests(states: [CLOSED, MERGED]).totalCount
    closed_issues_count: int | None = None  # issues(states: [CLOSED]).totalCount
    close_hours_median: float | None = None  # median open->close of recently closed issues
    # github: what the repository expects of contributors (bot.github.repo_rules), and the blob
    # ids of the files it was read from ({"CONTRIBUTING.md": oid, ...}) so unchanged files are
    # not fetched again
    rules: dict[str, Any] | None = json_column()
    rules_blobs: dict[str, str] | None = json_column()
    # github (issue 18): the crawl pass (`crawl_pass.id`) that last handled this repository;
    # a pass spread over several runs resumes with the repositories it has not handled yet
    crawl_pass_id: int | None = Field(default=None, index=True)


class Reporter(SQLModel, table=True):
    """A GitHub account that opened a crawled issue: experience on all of GitHub (written by
    github, once per login and refreshed after weeks, whatever the number of its issues)."""

    __tablename__ = "reporter"

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(unique=True, index=True, max_length=100)  # lower-case
    is_user: bool = True  # False: a bot, organisation or deleted account (no counts)
    followers: int | None = None  # User.followers.totalCount (RecGFI rptfoll)
    pull_requests: int | None = None  # User.pullRequests.totalCount (rptallpr)
    issues: int | None = None  # User.issues.totalCount (rptalliss)
    commits: int | None = None  # contributionsCollection.totalCommitContributions, last year
    repositories: int | None = None  # repositoriesContributedTo.totalCount (rptpronum)
    fetched_at: datetime = Field(sa_type=UTCDateTime)


class ListEntry(SQLModel, table=True):
    """One entry of one list: a project link under a section (written by catalog).

    A re-crawl that no longer finds an entry sets `active=False` instead of deleting it.
    """

    __tablename__ = "list_entry"
    __table_args__ = (UniqueConstraint("list_id", "url", "section", name="uq_list_entry"),)

    id: int | None = Field(default=None, primary_key=True)
    list_id: int = Field(foreign_key="list_source.id", index=True)
    repository_id: int | None = Field(default=None, foreign_key="repository.id", index=True)
    name: str = Field(max_length=500)
    url: str = Field(max_length=2000)
    link_kind: str = Field(max_length=20)  # github_repo | github_subpath | other
    section: str = Field(default="", max_length=500)  # "Databases › Key-Value Databases"
    language: str | None = Field(default=None, max_length=50)  # canonical language tag
    topics: list[str] | None = json_column()
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    warning: str | None = Field(
        default=None, sa_column=Column(Text, nullable=True)
    )  # e.g. wrong link
    active: bool = True
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Issue(SQLModel, table=True):
    """An open (or formerly open) beginner issue with its availability signals (written by github).

    Never deleted because a request failed; `crawled_at` says how fresh the row is.
    """

    __tablename__ = "issue"
    __table_args__ = (UniqueConstraint("repository_id", "number", name="uq_issue_repo_number"),)

    id: int | None = Field(default=None, primary_key=True)
    node_id: str = Field(unique=True, index=True, max_length=100)
    repository_id: int = Field(foreign_key="repository.id", index=True)
    number: int
    title: str = Field(sa_column=Column(Text, nullable=False))
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    url: str = Field(max_length=2000)
    # open | closed | unlabelled (open, no beginner label any more) | gone (transferred/deleted)
    state: str = Field(default="open", max_length=20)
    is_pull_request: bool = False
    locked: bool = False
    pinned: bool = False
    labels: list[str] | None = json_column()
    assignees: list[str] | None = json_column()
    assigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    comments_count: int = 0
    reactions_count: int = 0
    author_login: str | None = Field(default=None, max_length=100)
    author_association: str | None = Field(default=None, max_length=40)
    open_pr_count: int = 0  # open PRs linked to the issue
    linked_prs: list[dict[str, Any]] | None = json_column()
    claimed: bool = False
    claim_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # claim comment time
    claimed_by: str | None = Field(default=None, max_length=100)
    created_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # on GitHub
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # on GitHub
    last_activity_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    crawled_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    approachability: float | None = None  # model score in [0, 1], set by match
    approachability_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime
    )  # when match scored it (re-scored after a newer crawl)


class Member(SQLModel, table=True):
    """A Slack user who uses the bot (written by slack)."""

    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("team_id", "slack_user_id", name="uq_member_slack"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(default="", max_length=40, index=True)
    slack_user_id: str = Field(max_length=40, index=True)
    display_name: str | None = Field(default=None, max_length=200)
    stack_text: str | None = Field(default=None, max_length=1000)  # what the member typed
    languages: dict[str, float] | None = json_column()  # canonical language -> weight
    topics: dict[str, float] | None = json_column()  # canonical topic -> weight
    level: str = Field(default="first-timer", max_length=20)  # first-timer | some | experienced
    github_login: str | None = Field(default=None, max_length=100)
    inferred: dict[str, Any] | None = json_column()  # stack inferred from GitHub + explanation
    digest_enabled: bool = True
    digest_day: str = Field(default="mon", max_length=3)
    digest_time: str = Field(default="09:00", max_length=5)
    timezone: str = Field(default="UTC", max_length=64)
    digest_every_weeks: int = 1  # engagement back-off: 1, 2 or 4
    ignored_digests: int = 0  # consecutive digests without any click
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CrawlRun(SQLModel, table=True):
    """One run of the catalog + GitHub crawl (written by github)."""

    __tablename__ = "crawl_run"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default="running", max_length=20)  # running | ok | partial | failed
    mode: str = Field(default="graphql", max_length=20)  # graphql | rest
    repos_total: int = 0
    repos_done: int = 0
    repos_failed: int = 0
    issues_seen: int = 0
    requests: int = 0
    points: int = 0
    budget_left: int | None = None
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class DigestRun(SQLModel, table=True):
    """One digest tick: which week, how many were due, sent, failed (written by deliver)."""

    __tablename__ = "digest_run"

    id: int | None = Field(default=None, primary_key=True)
    week: str = Field(max_length=10, index=True)  # ISO week, e.g. "2026-W48"
    kind: str = Field(default="dm", max_length=20)  # dm | channel
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default="running", max_length=20)
    due: int = 0
    sent: int = 0
    failed: int = 0
    error: str | None = Field(default=None, max_length=500)  # why it stopped (e.g. a bad token)


class Delivery(SQLModel, table=True):
    """The digest ledger: one row per (member, ISO week, kind); sent at most once (deliver)."""

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("member_id", "week", "kind", name="uq_delivery_week"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    digest_run_id: int | None = Field(default=None, foreign_key="digest_run.id")
    week: str = Field(max_length=10)
    kind: str = Field(default="dm", max_length=20)  # dm | channel
    channel: str | None = Field(default=None, max_length=40)
    # pending | sending | sent | failed | skipped | expired
    state: str = Field(default="pending", max_length=20)
    attempts: int = 0
    error: str | None = Field(default=None, max_length=500)
    slack_ts: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # "dm:<member id>:<week>" / "channel:<channel>:<week>": unique even when member_id is NULL
    dedupe_key: str | None = Field(default=None, unique=True, max_length=120)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # "sending" since
    content: list[dict[str, Any]] | None = json_column()  # a channel post's picks (no Pick rows)


class Pick(SQLModel, table=True):
    """An issue shown to a member, in a digest or on demand (written by match/deliver)."""

    __tablename__ = "pick"
    __table_args__ = (UniqueConstraint("member_id", "issue_id", name="uq_pick_member_issue"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    issue_id: int = Field(foreign_key="issue.id", index=True)
    delivery_id: int | None = Field(default=None, foreign_key="delivery.id", index=True)
    source: str = Field(default="digest", max_length=20)  # digest | on_demand
    rank: int = 0
    score: float = 0.0
    reasons: list[str] | None = json_column()
    state: str = Field(default="shown", max_length=20)  # shown | interested | not_for_me | taken
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Feedback(SQLModel, table=True):
    """A member's click on a pick card (written by slack)."""

    __tablename__ = "feedback"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    issue_id: int = Field(foreign_key="issue.id", index=True)
    pick_id: int | None = Field(default=None, foreign_key="pick.id")
    kind: str = Field(max_length=20)  # interested | not_for_me | already_taken
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TakenReport(SQLModel, table=True):
    """A member's "Already taken" click, kept per member and workspace (written by slack).

    It hides the issue from its reporter; from the rest of the workspace once enough distinct
    members reported it; it lapses for the workspace when GitHub shows activity after it.
    """

    __tablename__ = "taken_report"
    __table_args__ = (
        UniqueConstraint("member_id", "issue_id", name="uq_taken_report_member_issue"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=40, index=True)  # the reporter's workspace
    member_id: int = Field(foreign_key="member.id", index=True)
    issue_id: int = Field(foreign_key="issue.id", index=True)
    reported_at: datetime = Field(sa_type=UTCDateTime)
    # what the immediate GitHub re-check found: a Reason value, "" for nothing, None if not run
    github_reason: str | None = Field(default=None, max_length=40)
    checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SlackInstallation(SQLModel, table=True):
    """A workspace's OAuth install of the app, one row per (enterprise, team) (written by slack).

    Only used in HTTP mode with OAuth (multi-workspace); `data` holds the full installation
    as slack_sdk describes it, the columns are what lookups need.
    """

    __tablename__ = "slack_installation"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "team_id", name="uq_slack_installation_team"),
    )

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: str = Field(default="", max_length=40)
    team_id: str = Field(default="", max_length=40, index=True)
    team_name: str | None = Field(default=None, max_length=200)
    app_id: str | None = Field(default=None, max_length=40)
    bot_user_id: str | None = Field(default=None, max_length=40)
    bot_token: str | None = Field(default=None, max_length=500)  # xoxb-…, never logged
    installer_user_id: str | None = Field(default=None, max_length=40)
    is_enterprise_install: bool = False
    data: dict[str, Any] | None = json_column()
    installed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SlackOAuthState(SQLModel, table=True):
    """A one-time OAuth `state` value handed out at /slack/install (written by slack)."""

    __tablename__ = "slack_oauth_state"

    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(unique=True, index=True, max_length=200)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class SlackRequestSeen(SQLModel, table=True):
    """A signed Slack request (or Events API event id) already acted on (written by slack).

    Rows live for the signature window (5 minutes) plus a margin; replicas share them, so a
    replayed request is refused by whichever replica receives it.
    """

    __tablename__ = "slack_request_seen"

    key: str = Field(primary_key=True, max_length=200)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


# -- people: mentors, buddies, intros (issue 20; written by bot.people and bot.deliver.intros) --


class PeoplePrefs(SQLModel, table=True):
    """A member's opt-ins for people features; no row means everything off (written by slack)."""

    __tablename__ = "people_prefs"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=40, index=True)
    member_id: int = Field(foreign_key="member.id", unique=True, index=True)
    mentor: bool = False
    mentor_paused: bool = False
    mentor_scope: list[str] | None = json_column()  # "owner/name" or topic terms; empty = merged
    buddies: bool = False
    intro_post: str | None = Field(default=None, max_length=10)  # None never asked | yes | no
    paused: bool = False  # after too many ignored intros; `buddies on`/`mentor on` resumes
    ignored_intros: int = 0  # consecutive intros whose follow-up went unanswered
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NoPair(SQLModel, table=True):
    """A member's private do-not-pair entry: never introduce them to `other_user_id`."""

    __tablename__ = "no_pair"
    __table_args__ = (UniqueConstraint("member_id", "other_user_id", name="uq_no_pair"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=40, index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    other_user_id: str = Field(max_length=40)  # a Slack user id of the same workspace
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Intro(SQLModel, table=True):
    """An introduction of two members of one workspace: mentor <-> mentee or two buddies.

    `member_a_id` is the mentee (mentor intros) or the lower member id (buddies); `pair_key`
    is "low:high" of the two member ids, for repeat avoidance.
    """

    __tablename__ = "intro"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=40, index=True)
    kind: str = Field(max_length=10)  # mentor | buddy
    pair_key: str = Field(max_length=60, index=True)
    member_a_id: int = Field(foreign_key="member.id", index=True)
    member_b_id: int = Field(foreign_key="member.id", index=True)
    repository_id: int | None = Field(default=None, foreign_key="repository.id")
    issue_id: int | None = Field(default=None, foreign_key="issue.id")
    topic: str | None = Field(default=None, max_length=100)
    # offered | declined | accepted (group DM queued) | open (posted) | closed
    state: str = Field(default="offered", max_length=20)
    dedupe_key: str = Field(unique=True, max_length=120)
    channel: str | None = Field(default=None, max_length=40)  # the group DM
    created_at: datetime = Field(sa_type=UTCDateTime)
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class IntroSide(SQLModel, table=True):
    """One member's side of an intro: the follow-up asked of them and their answer."""

    __tablename__ = "intro_side"
    __table_args__ = (UniqueConstraint("intro_id", "member_id", name="uq_intro_side"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=40, index=True)
    intro_id: int = Field(foreign_key="intro.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    followup_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # asked "did you meet?"
    answer: str | None = Field(default=None, max_length=20)  # met | not_yet | didnt_work
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ignored: bool = False  # the follow-up went unanswered (counted once)


class PeopleMessage(SQLModel, table=True):
    """The people ledger: every offer, intro, follow-up and notice, sent at most once.

    pending -> sending (claimed) -> sent | failed; a "sending" row left by a crash is
    re-claimed after the lease and resolved by asking Slack whether it was posted.
    """

    __tablename__ = "people_message"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=40, index=True)
    dedupe_key: str = Field(unique=True, max_length=160)
    kind: str = Field(max_length=30)
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    intro_id: int | None = Field(default=None, foreign_key="intro.id", index=True)
    target: str | None = Field(default=None, max_length=40)  # user id (DM) or channel id
    users: list[str] | None = json_column()  # group DM members (conversations.open)
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    blocks: list[dict[str, Any]] | None = json_column()
    state: str = Field(default="pending", max_length=20, index=True)
    attempts: int = 0
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # set just before chat.postMessage: a crashed row without it was certainly not posted
    post_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    channel: str | None = Field(default=None, max_length=40)
    slack_ts: str | None = Field(default=None, max_length=40)
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BuddyRound(SQLModel, table=True):
    """One buddy-pairing round of a workspace (at most one per ISO week)."""

    __tablename__ = "buddy_round"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=40, index=True)
    round_key: str = Field(unique=True, max_length=80)  # "<team>:<ISO week>"
    ran_at: datetime = Field(sa_type=UTCDateTime)
    pairs: int = 0


# -- claim holds (issue 19; written by bot.deliver.holds) ----------------------------------------


class Hold(SQLModel, table=True):
    """An issue held for one member after their "Interested" click: nobody else of the same
    workspace is offered it until `expires_at` or an early release.

    `active_key` is "<team_id>:<issue_id>" while the hold is active and NULL once released:
    its unique index allows one active hold per issue and workspace (NULLs never collide, on
    SQLite and PostgreSQL alike), so two concurrent clicks make exactly one hold.
    """

    __tablename__ = "hold"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=40, index=True)
    issue_id: int = Field(foreign_key="issue.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    held_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    nudged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # "still on it?" queued
    keeps: int = 0  # how often the member pressed Keep (bounded by match.hold_max_keeps)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # not_for_me | released | taken | expired | forgotten
    release_reason: str | None = Field(default=None, max_length=20)
    active_key: str | None = Field(default=None, unique=True, max_length=80)


# Issue 19: outcomes of picks, merged PRs, celebrations ----------------------------------------


class PickOutcome(SQLModel, table=True):
    """What became of one pick on GitHub (written by github's outcome tracking).

    none -> commented -> pr_opened -> merged, or closed_by_other (closed without the member's
    merged PR); each step keeps the time it was first seen on GitHub.
    """

    __tablename__ = "pick_outcome"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=40, index=True)
    pick_id: int = Field(foreign_key="pick.id", unique=True, index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    issue_id: int = Field(foreign_key="issue.id", index=True)
    state: str = Field(default="none", max_length=20, index=True)
    commented_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    pr_opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    merged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # closed by someone else
    pr_node_id: str | None = Field(default=None, max_length=100)
    pr_url: str | None = Field(default=None, max_length=2000)
    checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # the issue's stored GitHub updated_at and state at the last check: unchanged since, and
    # checked within the sweep interval -> not fetched again
    seen_updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    seen_state: str | None = Field(default=None, max_length=20)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class MergedPR(SQLModel, table=True):
    """A member's merged pull request in a catalog repository (written by github).

    `picked` says whether it closed an issue the bot had picked for the member; a contribution
    the bot did not pick still counts.
    """

    __tablename__ = "merged_pr"
    __table_args__ = (UniqueConstraint("member_id", "pr_node_id", name="uq_merged_pr_member"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=40, index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    repository_id: int = Field(foreign_key="repository.id", index=True)
    pr_node_id: str = Field(max_length=100)
    number: int
    title: str = Field(default="", sa_column=Column(Text, nullable=False))
    url: str = Field(max_length=2000)
    merged_at: datetime = Field(sa_type=UTCDateTime)
    picked: bool = False
    pick_id: int | None = Field(default=None, foreign_key="pick.id")
    seen_at: datetime = Field(sa_type=UTCDateTime)  # when the crawl first saw it merged


class CelebratePrefs(SQLModel, table=True):
    """A member's opt-in to merge celebrations (off by default; written by slack)."""

    __tablename__ = "celebrate_prefs"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=40, index=True)
    member_id: int = Field(foreign_key="member.id", unique=True, index=True)
    enabled: bool = False
    updated_at: datetime = Field(sa_type=UTCDateTime)


class RankGeneration(SQLModel, table=True):
    """A counter per kind of ranker input, bumped by every transaction that changes it (issue 18).

    Processes keep the ranked inputs in memory while the counters they loaded them at are
    unchanged (bot/core/generation.py), so every replica sees a crawl's or a report's writes.
    """

    __tablename__ = "rank_generation"

    name: str = Field(primary_key=True, max_length=40)  # "issues" | "reports"
    value: int = Field(default=0, sa_type=BigInteger)


class CrawlPass(SQLModel, table=True):
    """One GitHub crawl over the whole catalog, possibly spread over several runs: a run stops
    before the hourly budget runs out and the next one resumes where it stopped (written by
    github; the repositories it handled carry its id)."""

    __tablename__ = "crawl_pass"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # None: unfinished
    runs: int = 0  # crawl runs that worked on it
    repos_total: int = 0  # catalog size when its last run started
    repos_done: int = 0  # handled so far (crawled, unchanged, failed or gone)
    points: int = 0  # GraphQL points spent by all its runs
    stopped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    stop_reason: str | None = Field(default=None, max_length=500)  # why its last run stopped
    resume_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # budget resets
