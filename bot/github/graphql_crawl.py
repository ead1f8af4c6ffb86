"""The token crawl: GraphQL, many repositories per query, in three cheap steps.

0. Change check (re-crawls only): a 1–2 request-per-repository query whose fingerprint
   (push/update times, label count, count and latest update of beginner-labelled issues) is
   compared with the stored one; unchanged repositories are skipped (no issue query at all),
   changed ones are crawled first (most recent activity first), then new and due ones.

Steps 1–3 run in waves of at most `WAVE` repositories, each sized to what is left of the
budget (`GitHubClient.allowance`: the run's share, less the reserve and the queries in flight)
and saved before the next starts. When the next wave does not fit, or GitHub's budget ends
early, the run stops (`BudgetExhausted` / `RateLimited`) with every finished repository saved;
the crawl pass (`crawl_pass`) resumes with the rest.
1. Metadata of changed/new repositories (archived, languages, topics, labels, CONTRIBUTING, …),
   from which each repository's beginner labels are learned.
   The text of the CONTRIBUTING guide and README is fetched by blob id only when a blob id
   changed, and read for what the repository expects of contributors (`repo_rules`).
2. Open issues carrying any of those labels (GraphQL `labels:` is OR), fully paginated, with
   every availability signal; batches are packed under a points ceiling that halves when GitHub
   times out. Issues that left the label query are re-checked, never deleted.
3. The experience of the issues' authors on all of GitHub, for logins not looked up in the last
   `REPORTER_MAX_AGE` (cached per login across repositories and runs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import structlog

from bot.config.settings import GitHubSettings
from bot.core.availability import count_available
from bot.github import queries
from bot.github.client import (
    BudgetExhausted,
    GitHubError,
    GraphQLResult,
    NotFound,
    RateLimited,
)
from bot.github.crawler_base import BaseCrawler
from bot.github.persist import Target
from bot.github.repo_rules import CONTRIBUTING_PATHS, README_PATH, read_rules
from bot.github.signals import (
    blob_oids,
    closed_reply_hours,
    fingerprint,
    first_maintainer_reply_hours,
    issue_values,
    label_names,
    median_or_none,
    newcomer_share,
    project_history,
    repo_values,
    reporter_values,
)
from bot.logs import in_current_context

log = structlog.get_logger(__name__)
T = TypeVar("T")
MAX_ALIASES = 100
WAVE = 100  # repositories per wave: metadata, rules, issues, reporters, then saved
WAVE_REPORTERS = 2  # new issue authors expected per repository (estimate of step 3)
BLOB_REPOS = 20  # repositories per file-text query (bounds the response size, not the points)
REPORTER_MAX_AGE = timedelta(days=28)


@dataclass
class RepoState:
    """What phase 1 and 2 collected about one repository during this run."""

    target: Target
    meta: dict[str, Any] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)
    reply_hours: list[float] = field(default_factory=list)
    fp: dict[str, Any] | None = None
    closed: dict[str, Any] | None = None
    blobs: dict[str, str] = field(default_factory=dict)  # path -> blob id read for the rules
    rules: dict[str, Any] | None = None


def pack(items: Iterable[T], cost: Callable[[T], int], ceiling: int) -> list[list[T]]:
    """Greedy batches whose summed cost stays ≤ ceiling (a single item may exceed it)."""
    batches: list[list[T]] = []
    current: list[T] = []
    total = 0
    for item in items:
        c = cost(item)
        if current and (total + c > ceiling or len(current) >= MAX_ALIASES):
            batches.append(current)
            current, total = [], 0
        current.append(item)
        total += c
    if current:
        batches.append(current)
    return batches


class GraphQLCrawler(BaseCrawler):
    """Runs the three steps for a list of targets, saving each repository as it completes."""

    def configure(self, gh: GitHubSettings) -> None:
        self.ceiling = gh.max_query_points * 100  # in GitHub "requests"
        self.per_page = gh.issues_per_page
        self.pool = ThreadPoolExecutor(max_workers=gh.concurrency, thread_name_prefix="crawl")
        self.stop: GitHubError | None = None  # set by the first budget / rate-limit refusal

    # Driver ------------------------------------------------------------------------------------

    def run(self, targets: list[Target]) -> None:
        """Crawl `targets`; raises `BudgetExhausted` / `RateLimited` after saving what is done
        when the budget stops the run early."""
        try:
            pending = self._changed(targets)
            while pending and self.stop is None:
                size = self._wave_size(len(pending))
                wave, pending = pending[:size], pending[size:]
                states = self._metadata(wave)
                self._rules(states)
                self._issues(states)
                self._reporters(states)
        finally:
            self.pool.shutdown(wait=True)
        if self.stop is not None:
            raise self.stop

    def wave_cost(self, size: int) -> int:
        """Estimated points of a wave of `size` new repositories (first issue page each, one
        point per query for rounding)."""
        first_page = queries.issues_cost(queries.IssuePage("", []), self.per_page)
        issue_queries = -(-size * first_page // self.ceiling)
        return (
            queries.points_for(size * queries.META_REQUESTS)
            + -(-size // BLOB_REPOS)
            + queries.points_for(size * first_page)
            + issue_queries
            + queries.points_for(size * WAVE_REPORTERS * queries.REPORTER_REQUESTS)
        )

    def _wave_size(self, pending: int) -> int:
        """The largest wave (≤ WAVE) whose estimate fits the allowance; stops the run when not
        even one repository fits."""
        allowance = self.client.allowance("graphql")
        size = min(WAVE, pending)
        if allowance is None:
            return size
        while size and self.wave_cost(size) > allowance:
            size -= 1
        if not size:
            self.stop = BudgetExhausted(
                f"graphql budget: {allowance} points left for this run (its share, less the "
                f"reserve), the next repository needs about {self.wave_cost(1)}; "
                f"{pending} repositories wait for the next run"
            )
        return size

    def _send_all(self, documents: list[tuple[str, int]]) -> list[GraphQLResult | Exception]:
        """Send queries concurrently; each result is a GraphQLResult or the exception. After a
        budget or rate-limit refusal nothing more is sent (those results are `self.stop`)."""

        def send(doc: tuple[str, int]) -> GraphQLResult | Exception:
            if self.stop is not None:
                return self.stop
            try:
                return self.client.graphql(doc[0], estimate=queries.points_for(doc[1]))
            except (RateLimited, BudgetExhausted) as exc:
                self.stop = self.stop or exc
                return exc
            except GitHubError as exc:
                return exc

        return list(self.pool.map(in_current_context(send), documents))  # keeps the run id

    @staticmethod
    def _deferred(result: object) -> bool:
        """A query not answered for budget reasons: its repositories wait for the next run."""
        return isinstance(result, (RateLimited, BudgetExhausted))

    def _gone(self, target: Target, reason: str) -> None:
        log.warning("crawl.repo_gone", repo=target.full_name, reason=reason)
        self.report.repos_gone += 1
        self.store.mark_gone(target, reason, self.now)

    def _missing(self, target: Target, result: GraphQLResult, alias: str, step: str) -> None:
        """No data for `alias`: NOT_FOUND marks the repository gone, anything else is a failure
        (transient: retried by the next run, nothing marked)."""
        error = result.error_for(alias) or {}
        message = str(error.get("message", "no data"))
        if error.get("type") == "NOT_FOUND" and self._confirmed_gone(target):
            self._gone(target, f"NOT_FOUND: {message}")
        else:
            self._fail(target, f"{step}: {message}")

    def _confirmed_gone(self, target: Target) -> bool:
        """Ask REST too (one request): only its 404 means deleted. A rename or transfer
        answers a redirect there, anything else is an outage: both stay a (retried) failure."""
        try:
            self.client.get(f"/repos/{target.full_name}")
        except NotFound:
            return True
        except GitHubError as exc:
            log.info("crawl.repo_not_confirmed_gone", repo=target.full_name, error=str(exc))
        return False

    def _fail(self, target: Target, reason: str) -> None:
        log.warning("crawl.repo_failed", repo=target.full_name, reason=reason)
        self.report.failures[target.full_name] = reason
        self.report.repos_failed += 1
        self.store.fail_repo(target, reason, self.now)

    # Step 0: change check ----------------------------------------------------------------------

    def _changed(self, targets: list[Target]) -> list[Target]:
        refresh = timedelta(hours=self.settings.github.full_refresh_hours)
        checkable = [
            t
            for t in targets
            if t.fingerprint
            and not t.crawl_error
            and t.full_crawled_at is not None
            and self.now - t.full_crawled_at < refresh
        ]
        if not checkable:
            return targets
        checkable_ids = {t.id for t in checkable}
        others = [t for t in targets if t.id not in checkable_ids]  # new, failed, due
        changed: list[tuple[str, Target]] = []  # (latest activity, target)
        batches = pack(
            checkable, lambda t: queries.fingerprint_cost(t.beginner_labels or []), self.ceiling
        )
        documents = [
            (
                queries.fingerprint_query([(t.full_name, t.beginner_labels or []) for t in batch]),
                sum(queries.fingerprint_cost(t.beginner_labels or []) for t in batch),
            )
            for batch in batches
        ]
        unchanged: list[Target] = []
        for batch, result in zip(batches, self._send_all(documents), strict=True):
            if self._deferred(result):
                continue  # checked (and crawled) by the next run
            if isinstance(result, Exception):
                others.extend(batch)  # could not check: crawl them
                continue
            for i, target in enumerate(batch):
                node = result.data.get(f"r{i}")
                if node is None:
                    others.append(target)
                    continue
                labels = target.beginner_labels or []
                if fingerprint(node, labels, node.get("fp")) == target.fingerprint:
                    unchanged.append(target)
                else:
                    changed.append((_activity(node), target))
        self.store.touch_repos(unchanged, self.now)
        self.report.repos_unchanged += len(unchanged)
        self.report.repos_done += len(unchanged)
        self.progress(self.report)
        changed.sort(key=lambda pair: pair[0], reverse=True)  # stable: ties keep their order
        return [target for _, target in changed] + others

    # Step 1: metadata --------------------------------------------------------------------------

    def _metadata(self, targets: list[Target]) -> list[RepoState]:
        states: list[RepoState] = []
        pending = list(targets)
        ceiling = self.ceiling
        while pending:
            batches = pack(pending, lambda _t: queries.META_REQUESTS, ceiling)
            documents = [
                (queries.meta_query([t.full_name for t in b]), queries.meta_cost(len(b)))
                for b in batches
            ]
            pending = []
            for batch, result in zip(batches, self._send_all(documents), strict=True):
                if self._deferred(result):
                    continue
                if isinstance(result, Exception):
                    if len(batch) > 1:
                        pending.extend(batch)  # retry in smaller batches
                    else:
                        self._fail(batch[0], f"metadata: {result}")
                    continue
                for i, target in enumerate(batch):
                    node = result.data.get(f"r{i}")
                    if node is None:
                        self._missing(target, result, f"r{i}", "metadata")
                        continue
                    renamed = str(node.get("nameWithOwner") or target.full_name)
                    if renamed.lower() != target.full_name.lower():  # GitHub followed a rename
                        log.info("crawl.repo_renamed", repo=target.full_name, now_at=renamed)
                    labels = self.vocabulary.select(label_names(node), target.full_name)
                    states.append(RepoState(target, meta=node, labels=labels))
            ceiling = max(queries.META_REQUESTS, ceiling // 2)
            self.progress(self.report)
        return states

    def _rules(self, states: list[RepoState]) -> None:
        """Read what each repository expects; fetch file texts only for changed blob ids."""
        fetch: list[RepoState] = []
        for state in states:
            found = blob_oids(state.meta, queries.BLOB_PATHS)
            guide = next((p for p in CONTRIBUTING_PATHS if p in found), None)
            state.blobs = {p: found[p] for p in (guide, README_PATH) if p in found}
            conduct = bool(state.meta.get("codeOfConduct"))
            target = state.target
            if state.blobs == (target.rules_blobs or {}) and target.rules is not None:
                state.rules = {
                    **target.rules,
                    "code_of_conduct": conduct or target.rules.get("code_of_conduct", False),
                }
            elif not state.blobs:
                state.rules = read_rules({}, code_of_conduct=conduct)
            else:
                fetch.append(state)
        batches = [fetch[i : i + BLOB_REPOS] for i in range(0, len(fetch), BLOB_REPOS)]
        documents = [
            (queries.blobs_query([(s.target.full_name, list(s.blobs.values())) for s in b]), 1)
            for b in batches
        ]
        for batch, result in zip(batches, self._send_all(documents), strict=True):
            for i, state in enumerate(batch):
                node = None if isinstance(result, Exception) else result.data.get(f"r{i}")
                if node is None or any(node.get(f"b{j}") is None for j in range(len(state.blobs))):
                    # Failed, or a file changed again since phase 1: keep what was stored; the
                    # blob ids are not stored either, so the next run asks again.
                    state.rules, state.blobs = state.target.rules, state.target.rules_blobs or {}
                    continue
                texts = {
                    path: (node.get(f"b{j}") or {}).get("text")
                    for j, path in enumerate(state.blobs)
                }
                conduct = bool(state.meta.get("codeOfConduct"))
                state.rules = read_rules(texts, code_of_conduct=conduct)

    # Step 2: issues ----------------------------------------------------------------------------

    def _issues(self, states: list[RepoState]) -> None:
        by_name = {s.target.full_name: s for s in states}
        pages: list[queries.IssuePage] = []
        for state in states:
            if state.labels:
                pages.append(queries.IssuePage(state.target.full_name, state.labels))
            else:
                self._complete(state)
        ceiling = self.ceiling
        while pages:
            batches = pack(pages, lambda p: queries.issues_cost(p, self.per_page), ceiling)
            documents = [
                (
                    queries.issues_query(batch, self.per_page),
                    sum(queries.issues_cost(p, self.per_page) for p in batch),
                )
                for batch in batches
            ]
            next_pages: list[queries.IssuePage] = []
            timed_out = False
            for batch, result in zip(batches, self._send_all(documents), strict=True):
                if self._deferred(result):
                    continue  # these repositories are not saved: the next run crawls them
                if isinstance(result, Exception):
                    if len(batch) > 1:
                        timed_out = True
                        next_pages.extend(batch)
                    else:
                        state = by_name[batch[0].full_name]
                        self._fail(state.target, f"issues: {result}")
                    continue
                for i, page in enumerate(batch):
                    state = by_name[page.full_name]
                    follow = self._take_page(state, page, result, f"r{i}")
                    if follow is not None:
                        next_pages.append(follow)
            if timed_out:
                ceiling = max(1, ceiling // 2)
                log.info("crawl.smaller_batches", ceiling_points=max(1, ceiling // 100))
            pages = next_pages
            self.progress(self.report)

    def _take_page(
        self, state: RepoState, page: queries.IssuePage, result: GraphQLResult, alias: str
    ) -> queries.IssuePage | None:
        """Collect one page; return the next page to fetch, or None when the repo is done."""
        node = result.data.get(alias)
        if node is None:
            self._missing(state.target, result, alias, "issues")
            return None
        connection = node["issues"]
        for issue in connection.get("nodes") or []:
            if issue is None:
                continue
            state.issues.append(issue_values(issue, now=self.now, stale_claim_after=self.stale))
            hours = first_maintainer_reply_hours(issue)
            if hours is not None:
                state.reply_hours.append(hours)
        self.report.issues_seen += len(connection.get("nodes") or [])
        if page.first_page:
            state.fp, state.closed = node.get("fp"), node.get("closed")
        info = connection["pageInfo"]
        if info.get("hasNextPage"):
            return queries.IssuePage(page.full_name, page.labels, info["endCursor"])
        self._complete(state)
        return None

    def _complete(self, state: RepoState) -> None:
        """Save a fully crawled repository, then re-check the issues that left the query."""
        target = state.target
        values = repo_values(state.meta, state.labels)
        values.update(
            maintainer_response_hours=median_or_none(
                state.reply_hours + closed_reply_hours(state.closed)
            ),
            newcomer_share=newcomer_share(state.closed),
            **project_history(state.meta, state.closed),
            rules=state.rules,
            rules_blobs=state.blobs or None,
            crawled_at=self.now,
            full_crawled_at=self.now,
            crawl_error=None,
            crawl_fingerprint=fingerprint(state.meta, state.labels, state.fp),
            gone_at=None,  # found (again): offered again
            gone_reason=None,
        )
        seen = {v["number"] for v in state.issues}
        stored = self.store.open_issue_numbers(target)
        self.store.save_issues(target, state.issues, self.now)
        vanished = sorted(n for n in stored if n not in seen)
        if vanished:
            self._recheck(state, vanished)
        self.store.save_repo(target, values)  # fingerprint last: a crash before re-crawls it
        self.report.repos_done += 1
        self.report.issues_available += count_available(state.issues, values, self.policy)

    # Step 3: reporters -------------------------------------------------------------------------

    def _reporters(self, states: list[RepoState]) -> None:
        """Look up the authors of this run's issues whose experience is unknown or old."""
        logins = {
            str(v["author_login"]).lower()
            for state in states
            for v in state.issues
            if v.get("author_login")
        }
        fresh = self.store.fresh_reporters(logins, self.now - REPORTER_MAX_AGE)
        wanted = sorted(logins - fresh)
        if self.stop is not None:
            return  # looked up when their repositories change
        per_query = max(1, min(MAX_ALIASES, self.ceiling // queries.REPORTER_REQUESTS))
        batches = [wanted[i : i + per_query] for i in range(0, len(wanted), per_query)]
        documents = [
            (queries.reporters_query(batch), len(batch) * queries.REPORTER_REQUESTS)
            for batch in batches
        ]
        for batch, result in zip(batches, self._send_all(documents), strict=True):
            if isinstance(result, Exception):
                log.warning("crawl.reporters_failed", count=len(batch), error=str(result))
                continue  # looked up again next run
            rows = []
            for i, login in enumerate(batch):
                node = result.data.get(f"u{i}")
                error = result.error_for(f"u{i}") or {}
                if node is not None or error.get("type") == "NOT_FOUND":  # not a user: a bot
                    rows.append(reporter_values(node, login))
            self.store.save_reporters(rows, self.now)
        if wanted:
            log.info("crawl.reporters", looked_up=len(wanted), cached=len(fresh))

    def _recheck(self, state: RepoState, numbers: list[int]) -> None:
        """Look up issues that are no longer returned: closed, unlabelled or gone."""
        target = state.target
        for start in range(0, len(numbers), 50):
            chunk = numbers[start : start + 50]
            try:
                result = self.client.graphql(
                    queries.recheck_query([(target.full_name, chunk)]), estimate=1
                )
            except GitHubError as exc:
                log.warning("crawl.recheck_failed", repo=target.full_name, error=str(exc))
                return  # keep stored rows as they are; next run tries again
            repo = result.data.get("r0") or {}
            for number in chunk:
                node = repo.get(f"i{number}")
                self.report.issues_rechecked += 1
                if node is None or (
                    (node.get("repository") or {}).get("nameWithOwner", "").lower()
                    != target.full_name.lower()
                ):
                    new_state = "gone"
                    values: dict[str, Any] = {"state": new_state}
                elif node.get("state") == "CLOSED":
                    values = {"state": "closed"}
                else:
                    labels = [n["name"] for n in (node.get("labels") or {}).get("nodes") or []]
                    beginner = self.vocabulary.select(labels, target.full_name)
                    values = {"labels": labels, "state": "open" if beginner else "unlabelled"}
                values["crawled_at"] = self.now
                self.report.issues_closed += values["state"] != "open"
                self.store.update_issue(target, number, values)


def _activity(node: dict[str, Any]) -> str:
    """The latest activity the change check saw (ISO text sorts by time): the newest
    beginner-issue update, push or repository update."""
    latest = ((node.get("fp") or {}).get("nodes") or [{}])[0] or {}
    return max(
        str(latest.get("updatedAt") or ""),
        str(node.get("pushedAt") or ""),
        str(node.get("updatedAt") or ""),
    )
