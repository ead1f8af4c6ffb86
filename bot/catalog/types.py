"""What a parsed list is made of: entries (one project link each) and per-list counts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bot.catalog.normalize import GITHUB_REPO, GITHUB_SUBPATH


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    """One list item that links to a project (or, for non-GitHub hosts, to anything)."""

    name: str
    url: str
    link_kind: str  # github_repo | github_subpath | other
    repo: str | None  # lower-case "owner/name" for GitHub links
    section: str  # "Databases › Key-Value Databases" ("" before the first section)
    language: str | None  # canonical language tag ("go", "cpp", ...)
    topics: tuple[str, ...]  # section topics + bracketed technology tags ("raft", "grpc")
    description: str | None
    tags: tuple[str, ...] = ()  # other tags: further languages, "book", "archived", ...
    line: int | None = None  # 1-based line in the Markdown source
    warning: str | None = None  # e.g. the name does not match the linked repository
    wrong_link: bool = False  # name mismatch AND another entry with a matching name has the repo

    @property
    def is_github(self) -> bool:
        """True when the link points into a GitHub repository (crawlable)."""
        return self.link_kind in (GITHUB_REPO, GITHUB_SUBPATH)

    def to_json(self) -> dict[str, Any]:
        """The entry as the JSON object `matchmaker catalog show --json` prints."""
        return {
            "name": self.name,
            "url": self.url,
            "repo": self.repo,
            "link_kind": self.link_kind,
            "section": self.section,
            "language": self.language,
            "topics": list(self.topics),
            "tags": list(self.tags),
            "description": self.description,
            "warning": self.warning,
        }


@dataclass(frozen=True, slots=True)
class UncountedLink:
    """A GitHub repository link that is in no entry (a shape the parser does not read)."""

    url: str
    repo: str
    line: int | None
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "repo": self.repo, "line": self.line, "text": self.text}


@dataclass(slots=True)
class ParsedList:
    """A parsed awesome list: its entries in document order and what was left out."""

    source: str
    title: str | None = None
    entries: list[ParsedEntry] = field(default_factory=list)
    ignored_links: int = 0  # anchors, relative links, badges, TOC/Contributing/License sections
    uncounted: list[UncountedLink] = field(default_factory=list)  # GitHub links in no entry

    @property
    def repositories(self) -> dict[str, list[ParsedEntry]]:
        """Distinct repositories ("owner/name") -> the entries that link to them."""
        out: dict[str, list[ParsedEntry]] = {}
        for entry in self.entries:
            if entry.repo is not None:
                out.setdefault(entry.repo, []).append(entry)
        return out

    @property
    def not_crawlable(self) -> list[ParsedEntry]:
        """Entries linking outside GitHub: kept and reported, never crawled."""
        return [e for e in self.entries if not e.is_github]

    @property
    def counts(self) -> dict[str, int]:
        """Entries, GitHub links, distinct repositories, duplicates, skipped and suspect links."""
        github = [e for e in self.entries if e.is_github]
        repos = Counter(e.repo for e in github)
        return {
            "entries": len(self.entries),
            "github_links": len(github),
            "repositories": len(repos),
            "duplicates": len(github) - len(repos),
            "subpaths": sum(1 for e in github if e.link_kind == GITHUB_SUBPATH),
            "not_crawlable": len(self.entries) - len(github),
            "suspect_links": sum(1 for e in self.entries if e.warning),
            "wrong_links": sum(1 for e in self.entries if e.wrong_link),
            "ignored_links": self.ignored_links,
            "uncounted_links": len(self.uncounted),
        }
