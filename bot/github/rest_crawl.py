"""The no-token crawl: unauthenticated REST search, slow but real.

Issue search is GitHub's advanced search, where a space is AND: several repositories go in
one query only as an explicit `(repo:a OR repo:b …)` group (sent with `advanced_search=true`).
GitHub refuses queries longer than 256 characters or with more than five AND/OR/NOT
operators, so a query names at most six repositories; `label:"a","b"` is OR and costs no
operator. A 422 ("the listed users and repositories cannot be searched", e.g. a missing or
renamed repository) splits the batch until the one repository is found and marked failed.
A rate-limit or budget stop ends the run as a stop (resumable: the next run starts with the
repositories crawled longest ago), never as per-repository failures.

Details that search does not return (comments for claim detection, the timeline for linked PRs
and assignment time, repository metadata) are fetched with conditional REST requests only for
new or changed issues and only while the core budget (60/h without a token) allows; otherwise
stored values are kept.
"""

from __future__ import annotations

import re
from collections import deque
from datetime import datetime
from typing import Any

import structlog

from bot.config.settings import GitHubSettings
from bot.core.availability import count_available
from bot.github.client import (
    BudgetExhausted,
    GitHubError,
    NotFound,
    RateLimited,
    Unprocessable,
)
from bot.github.crawler_base import BaseCrawler
from bot.github.labels import normalize_label
from bot.github.persist import Target
from bot.github.signals import parse_time, rest_issue_values

log = structlog.get_logger(__name__)

MAX_QUERY = 256  # characters, qualifiers and operators included (the stricter reading)
MAX_OPERATORS = 5  # AND / OR / NOT per query
MAX_REPOS = MAX_OPERATORS + 1  # repo:a OR … OR repo:f
LABEL_PART_MAX = 90
MAX_RESULTS = 1000
TIMELINE_PAGES = 4  # newest pages read after the first one
_LAST_PAGE = re.compile(r'[?&]page=(\d+)[^>]*>;\s*rel="last"')


def label_groups(labels: list[str], max_part: int = LABEL_PART_MAX) -> list[list[str]]:
    """Labels split so that each `label:"a","b"` list stays within `max_part` characters."""
    groups: list[list[str]] = [[]]
    for label in labels:
        part = ",".join(f'"{x}"' for x in [*groups[-1], label])
        if groups[-1] and len(part) > max_part:
            groups.append([])
        groups[-1].append(label)
    return groups


def search_query(labels: list[str], repos: list[str]) -> str:
    """`is:issue is:open label:"a","b" (repo:x OR repo:y)` (no group for one repository)."""
    head = "is:issue is:open label:" + ",".join(f'"{x}"' for x in labels)
    if len(repos) == 1:
        return f"{head} repo:{repos[0]}"
    return f"{head} ({' OR '.join(f'repo:{r}' for r in repos)})"


def repo_chunks(repos: list[str], groups: list[list[str]]) -> list[list[str]]:
    """Repositories in batches whose query fits the limits for every label group."""
    chunks: list[list[str]] = []
    chunk: list[str] = []
    for repo in repos:
        candidate = [*chunk, repo]
        fits = len(candidate) <= MAX_REPOS and all(
            len(search_query(group, candidate)) <= MAX_QUERY for group in groups
        )
        if chunk and not fits:
            chunks.append(chunk)
            candidate = [repo]
        chunk = candidate
    if chunk:
        chunks.append(chunk)
    return chunks


def build_searches(repos: list[str], labels: list[str]) -> list[tuple[str, list[str]]]:
    """(query, repos) pairs covering every repo × label within GitHub's query limits."""
    groups = label_groups(labels)
    return [
        (search_query(group, chunk), chunk)
        for chunk in repo_chunks(repos, groups)
        for group in groups
    ]


class RestCrawler(BaseCrawler):
    """Search-based crawl for deployments without a GitHub token."""

    def configure(self, gh: GitHubSettings) -> None:
        self.pause = 60.0 / gh.search_per_minute
        self._last_search: float | None = None
        self._gone: set[str] = set()  # repositories GitHub answered 404 for in this run

    def _labels(self, targets: list[Target]) -> list[str]:
        """Every spelling to search for: vocabulary, per-repo extras, labels learned before."""
        spellings: dict[str, str] = {}
        pool = [
            *self.settings.github.beginner_labels,
            *(x for labels in self.settings.github.extra_labels.values() for x in labels),
            *(x for t in targets for x in (t.beginner_labels or [])),
        ]
        for label in pool:
            spellings.setdefault(label.lower(), label)
        return list(spellings.values())

    def run(self, targets: list[Target]) -> None:
        # Least recently crawled first, so a run stopped by a limit resumes where it ended.
        ordered = sorted(targets, key=lambda t: (t.full_crawled_at or datetime.min, t.full_name))
        by_name = {t.full_name.lower(): t for t in ordered}
        groups = label_groups(self._labels(ordered))
        chunks = repo_chunks([t.full_name for t in ordered], groups)
        self.report.estimated_seconds = round(len(chunks) * len(groups) * self.pause, 1)
        log.info(
            "crawl.rest_search",
            queries=len(chunks) * len(groups),
            estimated_minutes=round(len(chunks) * len(groups) * self.pause / 60, 1),
            note="no GitHub token: unauthenticated search is limited to 10 requests/min",
        )
        queue = deque(chunks)
        while queue:
            chunk = queue.popleft()
            found = self._search_chunk(chunk, groups, by_name)
            if found is None:  # split: the halves are searched next
                half = len(chunk) // 2
                queue.extendleft([chunk[half:], chunk[:half]])
                continue
            for repo in chunk:
                if repo not in self.report.failures and repo not in self._gone:
                    self._complete(by_name[repo.lower()], found.get(repo.lower(), []))
                self.progress(self.report)

    def _search_chunk(
        self, chunk: list[str], groups: list[list[str]], by_name: dict[str, Target]
    ) -> dict[str, list[dict[str, Any]]] | None:
        """Every label group's results for `chunk`, by lower-case repo; None: split it.

        RateLimited / BudgetExhausted propagate: the run stops, nothing is marked failed."""
        found: dict[str, list[dict[str, Any]]] = {}
        for group in groups:
            query = search_query(group, chunk)
            try:
                items, total = self._search(query)
            except (RateLimited, BudgetExhausted):
                raise
            except (Unprocessable, NotFound) as exc:
                if len(chunk) > 1:
                    return None
                self._refused(by_name[chunk[0].lower()], exc)
                return {}
            except GitHubError as exc:  # e.g. 5xx after retries: these repositories only
                for repo in chunk:
                    self._fail(by_name[repo.lower()], f"search: {exc}")
                return {}
            if total > MAX_RESULTS and len(chunk) > 1:
                return None
            for item in items:
                repo = item["repository_url"].rsplit("/repos/", 1)[-1].lower()
                found.setdefault(repo, []).append(item)
        return found

    def _refused(self, target: Target, exc: GitHubError) -> None:
        """A search naming only `target` was refused: gone when GitHub answers 404 for the
        repository itself (a deleted or private repository), otherwise a failure of it alone."""
        if self._can_spend(1):
            try:
                self.client.get(f"/repos/{target.full_name}", etag=target.etag)
            except NotFound:
                self._gone.add(target.full_name)
                self.report.repos_gone += 1
                self.store.mark_gone(target, "404: repository not found", self.now)
                return
            except GitHubError:
                pass
        self._fail(target, f"search refused: {exc}")

    def _fail(self, target: Target, reason: str) -> None:
        if target.full_name not in self.report.failures:
            self.report.failures[target.full_name] = reason
            self.report.repos_failed += 1
            self.store.fail_repo(target, reason, self.now)

    def _search(self, query: str) -> tuple[list[dict[str, Any]], int]:
        items: list[dict[str, Any]] = []
        total = 0
        for page in range(1, MAX_RESULTS // 100 + 1):
            self._pace()
            params = {"q": query, "advanced_search": "true", "per_page": 100, "page": page}
            data = self.client.get("/search/issues", params).json()
            total = data.get("total_count", 0)
            items.extend(data.get("items") or [])
            if len(items) >= min(total, MAX_RESULTS) or not data.get("items"):
                break
        return items, total

    def _pace(self) -> None:
        """Keep searches at ≤ `search_per_minute` (on the client's clock)."""
        now = self.client.now()
        if self._last_search is not None:
            self.client.sleep(self._last_search + self.pause - now)
        self._last_search = max(now, (self._last_search or now) + self.pause)

    def _can_spend(self, requests: int) -> bool:
        allowance = self.client.allowance("core")
        return allowance is None or allowance >= requests

    def _complete(self, target: Target, items: list[dict[str, Any]]) -> None:
        values: dict[str, Any] = {}
        owner_repo = target.full_name
        if self._can_spend(1):
            try:
                response = self.client.get(f"/repos/{owner_repo}", etag=target.etag)
                if response.status_code == 200:  # 304: stored metadata is current
                    values.update(_rest_repo_values(response.json()))
                    values["etag"] = response.headers.get("ETag")
            except NotFound:  # deleted (a rename or transfer answers 301, not 404)
                self.report.repos_gone += 1
                self.store.mark_gone(target, "404: repository not found", self.now)
                return
            except GitHubError as exc:
                log.warning("crawl.repo_details_skipped", repo=owner_repo, error=str(exc))
        stored = self.store.stored_issue_times(target)
        issues = []
        seen_labels: list[str] = []
        for item in items:
            if "pull_request" in item:
                continue
            seen_labels += [label["name"] for label in item.get("labels") or []]
            changed = stored.get(item["number"]) != parse_time(item.get("updated_at"))
            comments = timeline = None
            if changed and self._can_spend(2):
                comments, timeline = self._details(owner_repo, item)
            issues.append(
                rest_issue_values(
                    item,
                    comments=comments,
                    timeline=timeline,
                    now=self.now,
                    stale_claim_after=self.stale,
                )
            )
        self.report.issues_seen += len(issues)
        labels = self.vocabulary.select(seen_labels + (target.beginner_labels or []), owner_repo)
        labels = list({normalize_label(x): x for x in labels}.values())
        self.store.save_issues(target, issues, self.now)
        self._recheck(target, {i["number"] for i in issues})
        values.update(
            beginner_labels=labels,
            crawled_at=self.now,
            full_crawled_at=self.now,
            crawl_error=None,
            crawl_fingerprint=None,  # the GraphQL change check needs a GraphQL crawl first
            gone_at=None,
            gone_reason=None,
        )
        self.store.save_repo(target, values)
        self.report.repos_done += 1
        self.report.issues_available += count_available(issues, values, self.policy)

    def _details(
        self, owner_repo: str, item: dict[str, Any]
    ) -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]] | None]:
        number = item["number"]
        try:
            comments: list[dict[str, Any]] = []
            if item.get("comments"):
                comments = self.client.get(
                    f"/repos/{owner_repo}/issues/{number}/comments", {"per_page": 100}
                ).json()
            timeline = self._timeline(owner_repo, number)
            return comments, timeline
        except GitHubError as exc:
            log.warning(
                "crawl.issue_details_skipped", repo=owner_repo, issue=number, error=str(exc)
            )
            return None, None

    def _timeline(self, owner_repo: str, number: int) -> list[dict[str, Any]]:
        """The timeline, oldest first: page 1 and up to TIMELINE_PAGES of the newest pages."""
        path = f"/repos/{owner_repo}/issues/{number}/timeline"
        first = self.client.get(path, {"per_page": 100})
        match = _LAST_PAGE.search(first.headers.get("Link", ""))
        last = int(match.group(1)) if match else 1
        newest: list[list[dict[str, Any]]] = []
        for page in range(last, max(1, last - TIMELINE_PAGES), -1):
            if not self._can_spend(1):
                break
            newest.insert(0, self.client.get(path, {"per_page": 100, "page": page}).json())
        return [*first.json(), *(event for events in newest for event in events)]

    def _recheck(self, target: Target, seen: set[int]) -> None:
        for number in sorted(set(self.store.open_issue_numbers(target)) - seen):
            if not self._can_spend(1):
                return
            self.report.issues_rechecked += 1
            try:
                item = self.client.get(f"/repos/{target.full_name}/issues/{number}").json()
            except NotFound:
                values: dict[str, Any] = {"state": "gone"}
            except GitHubError:
                continue
            else:
                if item.get("state") == "closed":
                    values = {"state": "closed"}
                elif (item.get("repository_url") or "").lower().rsplit("/repos/", 1)[
                    -1
                ] != target.full_name.lower():
                    values = {"state": "gone"}
                else:
                    labels = [label["name"] for label in item.get("labels") or []]
                    beginner = self.vocabulary.select(labels, target.full_name)
                    values = {"labels": labels, "state": "open" if beginner else "unlabelled"}
            self.report.issues_closed += values["state"] != "open"
            values["crawled_at"] = self.now
            self.store.update_issue(target, number, values)


def _rest_repo_values(data: dict[str, Any]) -> dict[str, Any]:
    language = data.get("language")
    return {
        "node_id": data.get("node_id"),
        "description": data.get("description"),
        "archived": bool(data.get("archived")),
        "disabled": bool(data.get("disabled")),
        "pushed_at": parse_time(data.get("pushed_at")),
        "stars": data.get("stargazers_count") or 0,
        "forks": data.get("forks_count") or 0,
        "primary_language": language,
        "topics": data.get("topics") or [],
        "license": (data.get("license") or {}).get("spdx_id"),
    }
