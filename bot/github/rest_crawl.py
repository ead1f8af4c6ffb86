"""The no-token crawl: unauthenticated REST search, slow but real.

Search (10 requests/min without a token) finds open issues with any beginner label in several
repositories per query (`label:"a","b"` is OR; `repo:` qualifiers are OR; each query ≤ 256
characters and ≤ 1,000 results, else the repository group is split). Details that search does
not return (comments for claim detection, the timeline for linked PRs and assignment time,
repository metadata) are fetched with conditional REST requests only for new or changed issues
and only while the core budget (60/h without a token) allows; otherwise stored values are kept.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import structlog

from bot.config.settings import GitHubSettings
from bot.core.availability import count_available
from bot.github.client import GitHubError, NotFound
from bot.github.crawler_base import BaseCrawler
from bot.github.labels import normalize_label
from bot.github.persist import Target
from bot.github.signals import parse_time, rest_issue_values

log = structlog.get_logger(__name__)

MAX_QUERY = 256
LABEL_PART_MAX = 120
MAX_RESULTS = 1000


def build_searches(repos: list[str], labels: list[str]) -> list[tuple[str, list[str]]]:
    """(query, repos) pairs covering every repo × label with queries ≤ 256 characters."""
    groups: list[list[str]] = [[]]
    for label in labels:
        quoted = f'"{label}"'
        part = ",".join([*(f'"{x}"' for x in groups[-1]), quoted])
        if groups[-1] and len(part) > LABEL_PART_MAX:
            groups.append([])
        groups[-1].append(label)
    searches: list[tuple[str, list[str]]] = []
    for group in groups:
        head = "is:issue is:open label:" + ",".join(f'"{x}"' for x in group)
        chunk: list[str] = []
        for repo in repos:
            candidate = " ".join([head, *(f"repo:{r}" for r in [*chunk, repo])])
            if chunk and len(candidate) > MAX_QUERY:
                searches.append((" ".join([head, *(f"repo:{r}" for r in chunk)]), chunk))
                chunk = []
            chunk.append(repo)
        if chunk:
            searches.append((" ".join([head, *(f"repo:{r}" for r in chunk)]), chunk))
    return searches


class RestCrawler(BaseCrawler):
    """Search-based crawl for deployments without a GitHub token."""

    def configure(self, gh: GitHubSettings) -> None:
        self.pause = 60.0 / gh.search_per_minute
        self._last_search = 0.0

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
        by_name = {t.full_name.lower(): t for t in targets}
        searches = build_searches([t.full_name for t in targets], self._labels(targets))
        self.report.estimated_seconds = round(len(searches) * self.pause, 1)
        log.info(
            "crawl.rest_search",
            queries=len(searches),
            estimated_minutes=round(len(searches) * self.pause / 60, 1),
            note="no GitHub token: unauthenticated search is limited to 10 requests/min",
        )
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        failed: set[str] = set()
        queue = list(searches)
        while queue:
            query, repos = queue.pop(0)
            try:
                items, total = self._search(query)
            except GitHubError as exc:
                for repo in repos:
                    failed.add(repo.lower())
                    self._fail(by_name[repo.lower()], f"search: {exc}")
                continue
            if total > MAX_RESULTS and len(repos) > 1:
                half = len(repos) // 2
                head = query.split(" repo:", 1)[0]
                for part in (repos[:half], repos[half:]):
                    queue.insert(0, (" ".join([head, *(f"repo:{r}" for r in part)]), part))
                continue
            for item in items:
                repo = item["repository_url"].rsplit("/repos/", 1)[-1].lower()
                found[repo].append(item)
            self.progress(self.report)
        for key, target in by_name.items():
            if key not in failed:
                self._complete(target, found.get(key, []))
            self.progress(self.report)

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
            data = self.client.get(
                "/search/issues", {"q": query, "per_page": 100, "page": page}
            ).json()
            total = data.get("total_count", 0)
            items.extend(data.get("items") or [])
            if len(items) >= min(total, MAX_RESULTS) or not data.get("items"):
                break
        return items, total

    def _pace(self) -> None:
        """Keep searches at ≤ `search_per_minute`."""
        wait = self._last_search + self.pause - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_search = time.monotonic()

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
            except NotFound:
                self._fail(target, "repository not found")
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
            timeline = self.client.get(
                f"/repos/{owner_repo}/issues/{number}/timeline", {"per_page": 100}
            ).json()
            return comments, timeline
        except GitHubError as exc:
            log.warning(
                "crawl.issue_details_skipped", repo=owner_repo, issue=number, error=str(exc)
            )
            return None, None

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
