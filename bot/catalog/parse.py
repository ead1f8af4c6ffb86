"""Parse an awesome list with markdown-it-py's token stream into `ParsedEntry` items.

An entry is a list item whose first textual link is an absolute http(s) URL. Handled forms:
`- [Name](url) - Description.`, `- (Go) [Name - description](url)`, `- [(Go) Name - d](url)`,
`- (C)[Name](url). Text after the link`, nested lists, headings right after a list item.
Not entries: anchors and relative links (TOC, Contributing), image-only links (badges), items
under Contents / Contributing / License headings, links back to the list's own repository.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from markdown_it import MarkdownIt
from markdown_it.token import Token

from bot.catalog.errors import CatalogError
from bot.catalog.normalize import (
    GITHUB_REPO,
    SECTION_SEPARATOR,
    canonical_language,
    classify_url,
    is_web_link,
    name_matches_repo,
    section_topics,
    slugify,
)
from bot.catalog.types import ParsedEntry, ParsedList

__all__ = ["CatalogError", "ParsedEntry", "ParsedList", "parse_awesome_list"]

_MD = MarkdownIt("commonmark")

_SKIP_SECTIONS = frozenset(
    [
        "contents",
        "table-of-contents",
        "toc",
        "index",
        "contributing",
        "contribute",
        "how-to-contribute",
        "contributors",
        "contribution-guidelines",
        "license",
        "licence",
        "footnotes",
        "credits",
        "acknowledgements",
        "acknowledgments",
        "sponsors",
        "backers",
        "code-of-conduct",
    ]
)
_STATUS_TAGS = frozenset(
    [
        "archived",
        "deprecated",
        "unmaintained",
        "abandoned",
        "wip",
        "beta",
        "alpha",
        "experimental",
        "inactive",
    ]
)
_LEADING_TAGS = re.compile(r"^\s*((?:\([^()\[\]]{1,40}\)\s*)+)")
_ONE_TAG = re.compile(r"\(([^()]*)\)")
_TRAILING_BRACKETS = re.compile(r"\s*\[([^\[\]]{1,60})\]\s*$")
_DASH_SEPARATOR = re.compile(r"\s+[-–—]{1,2}\s+")
_COLON_SEPARATOR = re.compile(r":\s+")
_IS_SEPARATOR = re.compile(r"\s+(?:is|are)\s+(?=(?:an?|the)\s)", re.IGNORECASE)
_LEADING_PUNCT = re.compile(r"^[\s.,;:–—-]+")
_TRAILING_PUNCT = re.compile(r"[\s:–—-]+$")
_TAG_PARTS = re.compile(r"\s*[/,|]\s*")
_BRACKET_PARTS = re.compile(r"\s*[+,/&]\s*")
_GENERIC_LINK_TEXT = frozenset(
    {"github", "repo", "repository", "source", "source code", "code", "link", "website", "homepage"}
)
_TRAILING_TAG = re.compile(r"\s*\(([^()]{1,20})\)[.!]?\s*$")
_HTML_DOCUMENT = re.compile(
    r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!doctype\s+html|<html[\s>]|<head[\s>])", re.I
)
_MAX_NAME_WORDS = 5


def parse_awesome_list(markdown: str, source: str) -> ParsedList:
    """Parse Markdown text of an awesome list; raises `CatalogError` when it is not one.

    `source` names the list (URL, "owner/repo" or path): links back to it are not entries.
    Errors: empty text, an HTML page, a binary file, or no linked list items at all.
    """
    if not isinstance(markdown, str):
        raise CatalogError("the list is not text")
    if not markdown.strip():
        raise CatalogError("the list is empty")
    if "\x00" in markdown:
        raise CatalogError("the list contains NUL bytes: a binary file, not Markdown")
    if _HTML_DOCUMENT.match(markdown[:2000]):
        raise CatalogError(
            "this is an HTML page, not Markdown (use the raw file URL or owner/repo)"
        )
    try:
        tokens = _MD.parse(markdown)
    except RecursionError:
        raise CatalogError("the Markdown is nested too deeply to parse") from None
    parsed = _walk(tokens, source)
    if not parsed.entries:
        raise CatalogError(
            "no list items with links found: is this an awesome list "
            "(`- [Name](https://…) - Description.`)?"
        )
    return _flag_wrong_links(parsed)


def _walk(tokens: Sequence[Token], source: str) -> ParsedList:
    """Walk the block tokens once, tracking the heading path and list items."""
    parsed = ParsedList(source=source)
    own_repo = _own_repo(source)
    headings: list[tuple[int, str]] = []
    items: list[bool] = []  # per open list item: already handled its first paragraph
    seen_heading = False
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            level = int(token.tag[1:])
            text = _plain(tokens[index + 1].children or []).strip()
            if not seen_heading and level == 1:
                parsed.title = text or None
            else:
                while headings and headings[-1][0] >= level:
                    headings.pop()
                headings.append((level, text))
            seen_heading = True
        elif token.type == "list_item_open":
            items.append(False)
        elif token.type == "list_item_close":
            items.pop()
        elif (
            token.type == "inline"
            and items
            and not items[-1]
            and index > 0
            and tokens[index - 1].type == "paragraph_open"
        ):
            items[-1] = True
            path = [text for _, text in headings if text]
            skip = any(slugify(p) in _SKIP_SECTIONS for p in path)
            entry, ignored = _entry(token, path, skip, own_repo)
            parsed.ignored_links += ignored
            if entry is not None:
                parsed.entries.append(entry)
    return parsed


def _own_repo(source: str) -> str | None:
    """The list's own repository when `source` is "owner/repo" or a github.com URL."""
    if re.fullmatch(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+", source.strip()):
        return source.strip().lower()
    return classify_url(source)[1]


def _plain(children: Sequence[Token]) -> str:
    """Text of inline tokens; images (badges, logos) contribute nothing."""
    out: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append(" ")
    return "".join(out)


def _entry(
    inline: Token, path: list[str], skip: bool, own_repo: str | None
) -> tuple[ParsedEntry | None, int]:
    """The entry in one list item's first paragraph (or None) and how many links were ignored."""
    children = inline.children or []
    ignored = 0
    start = end = -1
    i = 0
    while i < len(children):
        if children[i].type != "link_open":
            i += 1
            continue
        close = _link_close(children, i)
        href = str(children[i].attrs.get("href") or "")
        text = _plain(children[i + 1 : close]).strip()
        if not text:  # a badge or logo: an image-only link
            ignored += 1
            i = close + 1
            continue
        if skip or not is_web_link(href) or (own_repo and classify_url(href)[1] == own_repo):
            return None, ignored + 1
        start, end = i, close
        break
    if start < 0:
        return None, ignored
    url = str(children[start].attrs["href"]).strip()
    before = _plain(children[:start])
    link_text = _plain(children[start + 1 : end])
    after = _plain(children[end + 1 :])
    line = inline.map[0] + 1 if inline.map else None
    return _build(url, before, link_text, after, path, line), ignored


def _link_close(children: Sequence[Token], start: int) -> int:
    depth = 0
    for j in range(start, len(children)):
        if children[j].type == "link_open":
            depth += 1
        elif children[j].type == "link_close":
            depth -= 1
            if depth == 0:
                return j
    return len(children)


def _take_tags(text: str) -> tuple[list[str], str]:
    """Leading "(Golang)", "(C/C++)(Book)" groups -> raw tags, and the text after them."""
    match = _LEADING_TAGS.match(text)
    if not match:
        return [], text
    tags = [t.strip() for t in _ONE_TAG.findall(match.group(1))]
    return [t for t in tags if t], text[match.end() :]


def _classify_tags(raw: list[str]) -> tuple[list[str], list[str]]:
    """Split raw tags into canonical languages and other tag slugs ("C/C++" -> c, c++)."""
    languages: list[str] = []
    others: list[str] = []
    for tag in raw:
        for part in _TAG_PARTS.split(tag):
            if not part:
                continue
            language = canonical_language(part)
            if language is not None:
                if language not in languages:
                    languages.append(language)
            elif (slug := slugify(part)) and slug not in others:
                others.append(slug)
    return languages, others


def _split_name(text: str, *, loose: bool) -> tuple[str, str | None]:
    """Name and inline description of a link text ("Jocko - a Kafka…" -> "Jocko", "a Kafka…").

    " - " always separates; ": " and " is a…" only when `loose` (no description after the link).
    """
    patterns = (_DASH_SEPARATOR, _COLON_SEPARATOR, _IS_SEPARATOR) if loose else (_DASH_SEPARATOR,)
    for pattern in patterns:
        match = pattern.search(text)
        if match and match.start() > 0:
            name = text[: match.start()].strip()
            if pattern is _DASH_SEPARATOR or len(name.split()) <= _MAX_NAME_WORDS:
                return name, text[match.end() :].strip() or None
    return text.strip(), None


def _bracket_tags(description: str | None) -> tuple[str | None, list[str]]:
    """Trailing "[Raft + gRPC]" / "[Archived]" groups -> (description without them, tags)."""
    if not description:
        return description, []
    found: list[str] = []
    while match := _TRAILING_BRACKETS.search(description):
        parts = [p.strip() for p in _BRACKET_PARTS.split(match.group(1))]
        found = [p for p in parts if p] + found
        description = description[: match.start()]
    return description.strip() or None, found


def _join_description(inner: str | None, after: str) -> str | None:
    after = _LEADING_PUNCT.sub("", after).strip()
    if inner and after:
        glue = " " if inner[-1] in ".!?" else ". "
        return inner + glue + after
    return inner or after or None


def _build(
    url: str, before: str, link_text: str, after: str, path: list[str], line: int | None
) -> ParsedEntry:
    raw_tags, before = _take_tags(before)
    lead = _TRAILING_PUNCT.sub("", " ".join(before.split()))
    if lead and link_text.strip().lower() in _GENERIC_LINK_TEXT:
        link_text = lead  # "- **Name** - description [GitHub](url)": the name comes first
    inner_tags, link_text = _take_tags(link_text)
    after_tags, after = _take_tags(after)
    languages, others = _classify_tags(raw_tags + inner_tags + after_tags)
    link_text = " ".join(link_text.split())
    name, inner = _split_name(link_text, loose=not _LEADING_PUNCT.sub("", after).strip())
    inner, brackets = _bracket_tags(inner)
    if not inner:  # "[Name [Raft]](url)": tags at the end of the name itself
        name, name_brackets = _bracket_tags(name)
        name = name or link_text
        brackets = name_brackets + brackets
    description = _join_description(inner, " ".join(after.split()))
    if description and (match := _TRAILING_TAG.search(description)):
        trailing = canonical_language(match.group(1))
        if trailing is not None:  # "… for small clusters. (Go)" / "… service (C++)."
            description = description[: match.start()].strip() or None
            if trailing not in languages:
                languages.append(trailing)
    topics = section_topics(path)
    for tag in brackets:
        slug = slugify(tag)
        target = others if slug in _STATUS_TAGS else topics
        if slug and slug not in target:
            target.append(slug)
    kind, repo = classify_url(url)
    warning = None
    if kind == GITHUB_REPO and repo is not None and not name_matches_repo(name, repo):
        warning = f"the name {name!r} does not match the linked repository {repo}"
    return ParsedEntry(
        name=name,
        url=url,
        link_kind=kind,
        repo=repo,
        section=SECTION_SEPARATOR.join(path),
        language=languages[0] if languages else None,
        topics=tuple(topics),
        description=description,
        tags=tuple(languages[1:] + others),
        line=line,
        warning=warning,
    )


def _flag_wrong_links(parsed: ParsedList) -> ParsedList:
    """Mark mismatched entries whose repository another, matching entry already names."""
    named = {e.repo for e in parsed.entries if e.repo is not None and e.warning is None}
    for i, entry in enumerate(parsed.entries):
        if entry.warning and entry.repo in named:
            parsed.entries[i] = _replace_wrong(entry)
    return parsed


def _replace_wrong(entry: ParsedEntry) -> ParsedEntry:
    return replace(
        entry,
        wrong_link=True,
        warning=(
            f"probably the wrong link: {entry.name!r} links to {entry.repo}, "
            "which another entry of this list names"
        ),
    )
