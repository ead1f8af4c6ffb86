"""Approachability features: one code path for the bot's crawl and for RecGFI's training CSV.

Every feature is computed in two steps. First an :class:`IssueFacts` record is built, either from
our own store (:func:`facts_from_issue`, an ``Issue`` row and its ``Repository`` row) or from a
row of RecGFI's ``train_features.csv`` (:func:`facts_from_csv`). Then the feature families below
turn the facts into numbers. Both sources therefore share every transform, and an issue with the
same raw facts gets the same feature vector whichever way it came in.

Only facts the bot can read for an OPEN issue from its own crawl are computed; the shipped model
uses the subset listed in its JSON file (``docs/approachability.md`` says what was dropped and
why). Where each fact comes from:

=====================  ==========================================  ===========================
fact                   our crawl (Issue / Repository column)       RecGFI column
=====================  ==========================================  ===========================
title_words            ``Issue.title`` (GitHub ``title``)          ``LengthOfTitle``
body_words             ``Issue.body`` (GitHub ``body``)            ``LengthOfDescription``
body_urls              ``Issue.body``                              ``NumOfUrls``
body_code              ``Issue.body`` (Markdown code spans/blocks) ``NumOfCode``
labels_gfi             ``Issue.labels`` (GitHub label names)       ``lc0``
labels_bug             ``Issue.labels``                            ``lc1``
labels_docs            ``Issue.labels``                            ``lc4``
labels_total           ``Issue.labels``                            ``lc12``
comments               ``Issue.comments_count`` (``comments``)     ``commentnum``
reporter_newcomer      ``Issue.author_association``                ``rptisnew``
                       (GitHub ``authorAssociation``)
repo_stars             ``Repository.stars`` (``stargazerCount``)   ``pro_star``
repo_open_issues       ``Repository.open_issues`` (our crawl       ``openiss``
                       counts open beginner issues only; unused)
repo_newcomer_share    ``Repository.newcomer_share`` (share of     ``proissnewratio``
                       recently closed beginner issues whose
                       closing PR came from a newcomer)
=====================  ==========================================  ===========================

Unknown facts (an author association or newcomer share the crawl has not filled yet) become NaN;
the model replaces them by the training median, so a partially crawled issue still gets a score.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

NAN = float("nan")

#: GitHub ``authorAssociation`` values of an author with no commit in the repository (the same
#: meaning as RecGFI's ``rptisnew``). CONTRIBUTOR, COLLABORATOR, MEMBER and OWNER are not newcomers.
NEWCOMER_ASSOCIATIONS = frozenset({"NONE", "FIRST_TIMER", "FIRST_TIME_CONTRIBUTOR", "MANNEQUIN"})
KNOWN_ASSOCIATIONS = NEWCOMER_ASSOCIATIONS | {"CONTRIBUTOR", "COLLABORATOR", "MEMBER", "OWNER"}

#: Label categories (RecGFI's lc0, lc1, lc4): a label name matching the pattern counts in it.
#: Names are compared lower-case with "-", "_", "/", ":" and "." read as spaces.
LABEL_CATEGORIES: dict[str, re.Pattern[str]] = {
    "gfi": re.compile(
        r"\b(good ?first|first ?timers?|first time|beginners?|newcomers?|newbie|easy|starter"
        r"|low ?hanging|up ?for ?grabs|e ?mentor|mentored|easy ?fix|good ?for ?new)\b"
    ),
    "bug": re.compile(r"\b(bugs?|defects?|crash(es)?|regressions?|broken)\b"),
    "docs": re.compile(r"\b(docs?|documentation|typos?|readme)\b"),
}

_URL = re.compile(r"https?://[^\s<>()\[\]\"']+", re.IGNORECASE)
_WORD = re.compile(r"\S+")
_LABEL_SEPARATORS = re.compile(r"[-_/:.]+")
_CODE_TOKENS = frozenset({"fence", "code_block", "code_inline"})


@dataclass(frozen=True)
class IssueFacts:
    """The raw facts about one issue and its repository that the features are made from."""

    title_words: int
    body_words: int
    body_urls: int
    body_code: int
    labels_gfi: int
    labels_bug: int
    labels_docs: int
    labels_total: int
    comments: int
    reporter_newcomer: float  # 1.0 / 0.0, NaN when unknown
    repo_stars: float  # NaN when the repository row is unknown
    repo_open_issues: float  # NaN when the repository row is unknown
    repo_newcomer_share: float  # in [0, 1], NaN when unknown
    # Reporter experience on all of GitHub (NaN until the crawl has looked the author up).
    reporter_followers: float = NAN  # rptfoll
    reporter_prs: float = NAN  # rptallpr
    reporter_issues: float = NAN  # rptalliss
    reporter_commits: float = NAN  # rptallcmt
    reporter_repos: float = NAN  # rptpronum
    # Project history (NaN until a crawl has sampled it).
    repo_close_hours: float = NAN  # clsisst
    repo_contributors: float = NAN  # contributornum
    repo_closed_prs: float = NAN  # proclspr
    repo_newcomer_issues: float = NAN  # proissnewnum


# --- text statistics (from Issue.title / Issue.body) ------------------------------------------


def count_words(text: str | None) -> int:
    """Whitespace-separated words in `text` (RecGFI's LengthOfTitle / LengthOfDescription)."""
    return len(_WORD.findall(text or ""))


def count_urls(text: str | None) -> int:
    """http(s) links in `text`, bare or inside Markdown links (RecGFI's NumOfUrls)."""
    return len(_URL.findall(text or ""))


@cache
def _markdown() -> MarkdownIt:
    """The parser, imported on first use: `serve` imports this module to rank, not to parse."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


def count_code(text: str | None) -> int:
    """Code snippets in Markdown `text`: fenced/indented blocks and inline code (NumOfCode)."""
    if not text:
        return 0
    count = 0
    stack = list(_markdown().parse(text))
    while stack:
        token = stack.pop()
        if token.type in _CODE_TOKENS:
            count += 1
        if token.children:
            stack.extend(token.children)
    return count


def label_counts(labels: Iterable[str] | None) -> dict[str, int]:
    """How many of an issue's label names fall in each category, plus ``total``."""
    names = [_LABEL_SEPARATORS.sub(" ", str(name).lower()) for name in labels or ()]
    counts = {category: 0 for category in LABEL_CATEGORIES}
    for name in names:
        for category, pattern in LABEL_CATEGORIES.items():
            if pattern.search(name):
                counts[category] += 1
    counts["total"] = len(names)
    return counts


def reporter_is_newcomer(author_association: str | None) -> float:
    """1.0 when GitHub's authorAssociation says the author never committed here, NaN if unknown."""
    if not author_association:
        return NAN
    value = author_association.strip().upper()
    if value not in KNOWN_ASSOCIATIONS:
        return NAN
    return 1.0 if value in NEWCOMER_ASSOCIATIONS else 0.0


# --- the two sources ------------------------------------------------------------------------


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _share(value: Any) -> float:
    if value is None:
        return NAN
    share = float(value)
    return share if math.isfinite(share) else NAN


def _opt(obj: Any, name: str) -> float:
    """A nullable numeric column as a float, NaN when the row or the value is missing."""
    if obj is None:
        return NAN
    value = _get(obj, name)
    return NAN if value is None else float(value)


def newcomer_issues(repo: Any) -> float:
    """Estimated closed issues a newcomer resolved: sampled share x closed-issue count."""
    share, closed = _opt(repo, "newcomer_share"), _opt(repo, "closed_issues_count")
    if math.isnan(share) or math.isnan(closed):
        return NAN
    return round(share * closed)


def facts_from_issue(issue: Any, repo: Any, reporter: Any = None) -> IssueFacts:
    """Facts of an open issue from our store: an ``Issue``, its ``Repository`` and the
    ``Reporter`` row of its author (or dicts).

    `repo` / `reporter` may be None when unknown; their facts then count as zero/unknown.
    """
    title = _get(issue, "title") or ""
    body = _get(issue, "body") or ""
    labels = label_counts(_get(issue, "labels"))
    return IssueFacts(
        title_words=count_words(title),
        body_words=count_words(body),
        body_urls=count_urls(body),
        body_code=count_code(body),
        labels_gfi=labels["gfi"],
        labels_bug=labels["bug"],
        labels_docs=labels["docs"],
        labels_total=labels["total"],
        comments=int(_get(issue, "comments_count") or 0),
        reporter_newcomer=reporter_is_newcomer(_get(issue, "author_association")),
        repo_stars=NAN if repo is None else float(_get(repo, "stars") or 0),
        repo_open_issues=NAN if repo is None else float(_get(repo, "open_issues") or 0),
        repo_newcomer_share=_share(_get(repo, "newcomer_share")),
        reporter_followers=_opt(reporter, "followers"),
        reporter_prs=_opt(reporter, "pull_requests"),
        reporter_issues=_opt(reporter, "issues"),
        reporter_commits=_opt(reporter, "commits"),
        reporter_repos=_opt(reporter, "repositories"),
        repo_close_hours=_opt(repo, "close_hours_median"),
        repo_contributors=_opt(repo, "contributors_count"),
        repo_closed_prs=_opt(repo, "closed_prs_count"),
        repo_newcomer_issues=newcomer_issues(repo),
    )


#: RecGFI columns read by :func:`facts_from_csv` (the rest of the 108 columns are ignored).
CSV_COLUMNS: tuple[str, ...] = (
    "LengthOfTitle",
    "LengthOfDescription",
    "NumOfUrls",
    "NumOfCode",
    "lc0",
    "lc1",
    "lc4",
    "lc12",
    "commentnum",
    "rptisnew",
    "pro_star",
    "openiss",
    "proissnewratio",
)
#: Columns of the reporter-experience and project-history facts, read when present (an older
#: RecGFI-shaped file without them still evaluates; those facts are then unknown).
OPTIONAL_CSV_COLUMNS: dict[str, str] = {
    "reporter_followers": "rptfoll",
    "reporter_prs": "rptallpr",
    "reporter_issues": "rptalliss",
    "reporter_commits": "rptallcmt",
    "reporter_repos": "rptpronum",
    "repo_close_hours": "clsisst",
    "repo_contributors": "contributornum",
    "repo_closed_prs": "proclspr",
    "repo_newcomer_issues": "proissnewnum",
}
LABEL_COLUMN = "labels"


def _num(row: Mapping[str, Any], column: str) -> float:
    value = row[column]
    if value is None or (isinstance(value, str) and not value.strip()):
        return NAN
    return float(value)


def _int(row: Mapping[str, Any], column: str) -> int:
    value = _num(row, column)
    return 0 if math.isnan(value) else round(value)


def facts_from_csv(row: Mapping[str, Any]) -> IssueFacts:
    """Facts of one row of RecGFI's ``train_features.csv`` (a ``csv.DictReader`` row)."""
    return IssueFacts(
        title_words=_int(row, "LengthOfTitle"),
        body_words=_int(row, "LengthOfDescription"),
        body_urls=_int(row, "NumOfUrls"),
        body_code=_int(row, "NumOfCode"),
        labels_gfi=_int(row, "lc0"),
        labels_bug=_int(row, "lc1"),
        labels_docs=_int(row, "lc4"),
        labels_total=_int(row, "lc12"),
        comments=_int(row, "commentnum"),
        reporter_newcomer=_num(row, "rptisnew"),
        repo_stars=float(_int(row, "pro_star")),
        repo_open_issues=float(_int(row, "openiss")),
        repo_newcomer_share=_num(row, "proissnewratio"),
        **{
            fact: _num(row, column)
            for fact, column in OPTIONAL_CSV_COLUMNS.items()
            if column in row
        },
    )


# --- feature families -----------------------------------------------------------------------


def _log(value: float) -> float:
    if math.isnan(value):
        return NAN
    return math.log1p(max(value, 0.0))


def _sqrt_share(share: float) -> float:
    if math.isnan(share):
        return NAN
    return math.sqrt(min(max(share, 0.0), 1.0))


def text_features(facts: IssueFacts) -> dict[str, float]:
    """Size of the report: log words of title and body, links and code snippets in the body."""
    return {
        "title_words_log": _log(facts.title_words),
        "body_words_log": _log(facts.body_words),
        "body_urls": float(min(facts.body_urls, 20)),
        "body_code": float(min(facts.body_code, 20)),
    }


def label_features(facts: IssueFacts) -> dict[str, float]:
    """Label categories: beginner-like, bug, documentation, and the number of labels."""
    return {
        "label_gfi": float(facts.labels_gfi > 0),
        "label_bug": float(facts.labels_bug > 0),
        "label_docs": float(facts.labels_docs > 0),
        "labels_total": float(min(facts.labels_total, 15)),
    }


def discussion_features(facts: IssueFacts) -> dict[str, float]:
    """Discussion so far: log number of comments."""
    return {"comments_log": _log(facts.comments)}


def reporter_features(facts: IssueFacts) -> dict[str, float]:
    """The author: a newcomer to the project, and (log) experience on all of GitHub."""
    no_prs = NAN if math.isnan(facts.reporter_prs) else float(facts.reporter_prs <= 0)
    return {
        "reporter_newcomer": facts.reporter_newcomer,
        "reporter_no_prs": no_prs,
        "reporter_followers_log": _log(facts.reporter_followers),
        "reporter_prs_log": _log(facts.reporter_prs),
        "reporter_issues_log": _log(facts.reporter_issues),
        "reporter_commits_log": _log(facts.reporter_commits),
        "reporter_repos_log": _log(facts.reporter_repos),
    }


def project_features(facts: IssueFacts) -> dict[str, float]:
    """Repository: log stars, log open issues, share of past issues newcomers resolved.

    The share is square-rooted (a variance-stabilising transform for a proportion).
    """
    return {
        "repo_stars_log": _log(facts.repo_stars),
        "repo_open_issues_log": _log(facts.repo_open_issues),
        "repo_newcomer_share_sqrt": _sqrt_share(facts.repo_newcomer_share),
    }


def history_features(facts: IssueFacts) -> dict[str, float]:
    """Project history: log median close time, contributors, closed PRs, newcomer-fixed issues."""
    return {
        "repo_close_hours_log": _log(facts.repo_close_hours),
        "repo_contributors_log": _log(facts.repo_contributors),
        "repo_closed_prs_log": _log(facts.repo_closed_prs),
        "repo_newcomer_issues_log": _log(facts.repo_newcomer_issues),
    }


FAMILIES: tuple[Callable[[IssueFacts], dict[str, float]], ...] = (
    text_features,
    label_features,
    discussion_features,
    reporter_features,
    project_features,
    history_features,
)


def feature_dict(facts: IssueFacts) -> dict[str, float]:
    """All features of one issue, by name, in :data:`FEATURE_NAMES` order."""
    out: dict[str, float] = {}
    for family in FAMILIES:
        out.update(family(facts))
    return out


_EXAMPLE = IssueFacts(0, 0, 0, 0, 0, 0, 0, 0, 0, NAN, 0, 0, NAN)
#: Names of all features, in column order of :func:`feature_matrix`.
FEATURE_NAMES: tuple[str, ...] = tuple(feature_dict(_EXAMPLE))


def feature_matrix(facts: Sequence[IssueFacts]) -> np.ndarray:
    """An (n, len(FEATURE_NAMES)) float64 matrix of the features of `facts`."""
    matrix = np.empty((len(facts), len(FEATURE_NAMES)), dtype=np.float64)
    for i, item in enumerate(facts):
        matrix[i] = list(feature_dict(item).values())
    return matrix
