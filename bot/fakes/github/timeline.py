"""Scripted GitHub timelines: what members and others do to issues over the days of a test.

A `Timeline` holds dated events (a comment, a pull request opened, merged or closed, an issue
assigned or closed by someone else) and `advance(now)` applies, in date order, those due by the
`now` passed in, so a test or benchmark moves the world forward with its own clock:

    timeline = Timeline(world)
    pr = timeline.open_pr(day(3), "acme/db", 12, "ada")   # "Fixes #12"
    timeline.merge(day(9), "acme/db", pr)                  # closes #12
    timeline.advance(day(5))                               # the PR is open, not merged yet
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.fakes.github.model import Comment, Issue, LinkedPR, Repo, World

FIRST_PR_NUMBER = 5000


@dataclass(order=True)
class Event:
    """One dated change to the world."""

    at: datetime
    seq: int
    label: str = field(compare=False)
    apply: Callable[[], None] = field(compare=False, repr=False)


class Timeline:
    """Dated events on a world, applied by `advance(now)`."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.pending: list[Event] = []
        self.applied: list[Event] = []
        self._numbers: dict[str, int] = {}

    def _add(self, at: datetime, label: str, apply: Callable[[], None]) -> None:
        self.pending.append(Event(at, len(self.pending) + len(self.applied), label, apply))

    def _repo(self, full_name: str) -> Repo:
        repo = self.world.repo(full_name)
        if repo is None:
            raise KeyError(f"no repository {full_name} in the fake world")
        return repo

    def _issue(self, full_name: str, number: int) -> Issue:
        return self._repo(full_name).issues[number]

    def next_pr_number(self, full_name: str) -> int:
        """A pull request number no issue or PR of the repository uses yet."""
        repo = self._repo(full_name)
        used = max([FIRST_PR_NUMBER, *repo.issues, *(p.number for p in repo.all_prs())])
        number = max(self._numbers.get(full_name.lower(), 0), used) + 1
        self._numbers[full_name.lower()] = number
        return number

    # Events ------------------------------------------------------------------------------------

    def comment(self, at: datetime, full_name: str, number: int, author: str, body: str) -> None:
        """`author` comments on issue `number`."""

        def apply() -> None:
            issue = self._issue(full_name, number)
            issue.comments.append(Comment(author=author, body=body, created_at=at))
            issue.touch(at)

        self._add(at, f"{author} comments on {full_name}#{number}", apply)

    def open_pr(
        self,
        at: datetime,
        full_name: str,
        number: int | None,
        author: str,
        *,
        closes: bool = True,
        title: str = "",
    ) -> LinkedPR:
        """`author` opens a PR that closes (`closes`) or only mentions issue `number` (None: no
        issue). Returns the PR to pass to `merge` / `close`; it exists on GitHub from `at`."""
        pr = LinkedPR(
            number=self.next_pr_number(full_name),
            state="OPEN",
            closes=closes,
            author=author,
            created_at=at,
            title=title or (f"Fix #{number}" if number and closes else "Small improvement"),
        )

        def apply() -> None:
            if number is None:
                self._repo(full_name).pull_requests.append(pr)
                return
            issue = self._issue(full_name, number)
            issue.linked_prs.append(pr)
            issue.touch(at)

        self._add(at, f"{author} opens PR #{pr.number} on {full_name}", apply)
        return pr

    def merge(self, at: datetime, full_name: str, pr: LinkedPR) -> None:
        """Merge `pr`; the issues it closes are closed as completed."""

        def apply() -> None:
            pr.state, pr.merged_at, pr.closed_at = "MERGED", at, at
            for issue in self._repo(full_name).issues.values():
                if pr in issue.linked_prs:
                    issue.touch(at)
                    if pr.closes and issue.state == "open":
                        issue.state, issue.state_reason, issue.closed_at = "closed", "completed", at

        self._add(at, f"PR #{pr.number} on {full_name} merges", apply)

    def close_pr(self, at: datetime, full_name: str, pr: LinkedPR) -> None:
        """Close `pr` without merging."""

        def apply() -> None:
            pr.state, pr.closed_at = "CLOSED", at
            for issue in self._repo(full_name).issues.values():
                if pr in issue.linked_prs:
                    issue.touch(at)

        self._add(at, f"PR #{pr.number} on {full_name} closes unmerged", apply)

    def assign(self, at: datetime, full_name: str, number: int, login: str) -> None:
        """A maintainer assigns issue `number` to `login`."""

        def apply() -> None:
            issue = self._issue(full_name, number)
            issue.assignees = [login]
            issue.assigned_at = at
            issue.touch(at)

        self._add(at, f"{full_name}#{number} assigned to {login}", apply)

    def taken_by_other(
        self, at: datetime, merged_at: datetime, full_name: str, number: int, login: str
    ) -> LinkedPR:
        """Someone else is assigned the issue, opens a closing PR at `at`, merged at `merged_at`."""
        self.assign(at, full_name, number, login)
        pr = self.open_pr(at, full_name, number, login)
        self.merge(merged_at, full_name, pr)
        return pr

    # Clock -------------------------------------------------------------------------------------

    def advance(self, now: datetime) -> list[str]:
        """Apply every event due by `now` (in date order); returns their labels."""
        due = sorted(e for e in self.pending if e.at <= now)
        self.pending = [e for e in self.pending if e.at > now]
        for event in due:
            event.apply()
            self.applied.append(event)
        self.world.now = max(self.world.now, now)
        return [event.label for event in due]
