"""Parse an awesome list with markdown-it-py's token stream into `ParsedEntry` items.

An entry is a list item whose first textual link is an absolute http(s) URL. Handled forms:
`- [Name](url) - Description.`, `- (Go) [Name - description](url)`, `- [(Go) Name - d](url)`,
`- (C)[Name](url). Text after the link`, nested lists, headings right after a list item;
`- [Name](homepage) - d. [Source Code](github url)`: the GitHub source link ("Source Code",
"Source", "GitHub", "repo", …) wins over a homepage link; GFM table rows (one entry per body
row); `<a href>` links in inline HTML and in HTML blocks (`<li>`, `<tr>`, `<p>`, lines); lines
of a plain paragraph that start with a link.
Not entries: anchors and relative links (TOC, Contributing), image-only links (badges), items
under Contents / Contributing / License headings, links back to the list's own repository.
GitHub repository links that end up in no entry are reported (`ParsedList.uncounted`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from markdown_it import MarkdownIt
from markdown_it.token import Token

from bot.catalog.errors import CatalogError
from bot.catalog.html_links import html_items, inline_html_links, synthetic_tokens
from bot.catalog.normalize import (
    GITHUB_REPO,
    GITHUB_SUBPATH,
    SECTION_SEPARATOR,
    canonical_language,
    classify_url,
    is_web_link,
    name_matches_repo,
    section_topics,
    slugify,
)
from bot.catalog.types import ParsedEntry, ParsedList, UncountedLink

__all__ = ["CatalogError", "ParsedEntry", "ParsedList", "parse_awesome_list"]

_MD = MarkdownIt("commonmark").enable("table")

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
# Texts of a second link that points at the project's code when the first is its homepage.
_SOURCE_LINK_TEXT = frozenset(
    {
        "github",
        "repo",
        "repository",
        "source",
        "source code",
        "sources",
        "code",
        "src",
        "git",
        "github repo",
        "github repository",
    }
)
_EMPTY_BRACKETS = re.compile(r"[(\[]\s*[)\]]|\s*\|\s*$")
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
    """Walk the block tokens once, tracking the heading path, list items and table rows."""
    walker = _Walker(ParsedList(source=source), _own_repo(source))
    walker.run(tokens)
    return walker.finish()


class _Walker:
    """State of one walk: heading path, open list items, the current table row."""

    def __init__(self, parsed: ParsedList, own_repo: str | None) -> None:
        self.parsed = parsed
        self.own_repo = own_repo
        self.headings: list[tuple[int, str]] = []
        self.items: list[bool] = []  # per open list item: already handled its first paragraph
        self.row: list[list[Token]] | None = None  # cells of the table body row being read
        self.in_head = False
        self.seen_heading = False
        self.links: list[UncountedLink] = []  # every GitHub link seen, for `uncounted`

    def run(self, tokens: Sequence[Token]) -> None:
        for index, token in enumerate(tokens):
            kind = token.type
            if kind == "heading_open":
                self.heading(int(token.tag[1:]), _plain(tokens[index + 1].children or []))
            elif kind == "list_item_open":
                self.items.append(False)
            elif kind == "list_item_close":
                self.items.pop()
            elif kind == "thead_open":
                self.in_head = True
            elif kind == "thead_close":
                self.in_head = False
            elif kind == "tr_open" and not self.in_head:
                self.row = []
            elif kind == "tr_close" and self.row is not None:
                self.table_row(self.row, token)
                self.row = None
            elif kind == "inline":
                self.inline(tokens, index, token)
            elif kind == "html_block":
                self.html_block(token)

    def heading(self, level: int, text: str) -> None:
        text = text.strip()
        if not self.seen_heading and level == 1:
            self.parsed.title = text or None
        else:
            while self.headings and self.headings[-1][0] >= level:
                self.headings.pop()
            self.headings.append((level, text))
        self.seen_heading = True

    def path(self) -> tuple[list[str], bool]:
        path = [text for _, text in self.headings if text]
        return path, any(slugify(p) in _SKIP_SECTIONS for p in path)

    def inline(self, tokens: Sequence[Token], index: int, token: Token) -> None:
        children = inline_html_links(token.children or [])
        line = token.map[0] + 1 if token.map else None
        previous = tokens[index - 1].type if index > 0 else ""
        if self.row is not None and previous in ("td_open", "th_open"):
            self.row.append(children)
            return
        if previous != "paragraph_open":
            self.note_links(children, line)
            return
        if self.items and not self.items[-1]:
            self.items[-1] = True
            self.add(children, line)
        elif not self.items:  # a plain paragraph: each line that starts with a link
            for offset, part in enumerate(_lines(children)):
                if _starts_with_link(part):
                    self.add(part, line + offset if line else None)
                else:
                    self.note_links(part, line)
        else:
            self.note_links(children, line)

    def table_row(self, cells: list[list[Token]], token: Token) -> None:
        merged: list[Token] = []
        tags: list[str] = []
        for cell in cells:
            text = _plain(cell).strip()
            plain_cell = text and not any(c.type == "link_open" for c in cell)
            if plain_cell and canonical_language(text) is not None:
                tags.append(f"({text})")
                continue
            if merged and text:
                merged.append(synthetic_tokens([("text", " - ")])[0])
            merged.extend(cell)
        if tags:
            merged = [*synthetic_tokens([("text", " ".join(tags) + " ")]), *merged]
        line = None
        for cell in cells:
            for child in cell:
                if child.map:
                    line = child.map[0] + 1
        self.add(merged, line)

    def html_block(self, token: Token) -> None:
        base = token.map[0] + 1 if token.map else None
        for item in html_items(token.content):
            line = base + item.line if base else None
            if item.heading is not None:
                self.heading(item.heading, item.text)
            elif item.segments:
                self.add(synthetic_tokens(item.segments), line)

    def add(self, children: list[Token], line: int | None) -> None:
        path, skip = self.path()
        self.note_links(children, line)
        entry, ignored = _entry(children, line, path, skip, self.own_repo)
        self.parsed.ignored_links += ignored
        if entry is not None:
            self.parsed.entries.append(entry)

    def note_links(self, children: Sequence[Token], line: int | None) -> None:
        if self.path()[1]:
            return
        for i, child in enumerate(children):
            if child.type != "link_open":
                continue
            href = str(child.attrs.get("href") or "").strip()
            kind, repo = classify_url(href)
            text = _plain(children[i + 1 : _link_close(children, i)]).strip()
            if repo and kind in (GITHUB_REPO, GITHUB_SUBPATH) and repo != self.own_repo and text:
                self.links.append(UncountedLink(url=href, repo=repo, line=line, text=text))

    def finish(self) -> ParsedList:
        counted = {e.repo for e in self.parsed.entries if e.repo}
        seen: set[str] = set()
        for link in self.links:
            if link.repo not in counted and link.repo not in seen:
                seen.add(link.repo)
                self.parsed.uncounted.append(link)
        return self.parsed


def _lines(children: list[Token]) -> list[list[Token]]:
    """Inline children split at soft and hard line breaks."""
    lines: list[list[Token]] = [[]]
    for child in children:
        if child.type in ("softbreak", "hardbreak"):
            lines.append([])
        else:
            lines[-1].append(child)
    return [line for line in lines if line]


def _starts_with_link(children: list[Token]) -> bool:
    """True when the first thing with text is a link with text (after tags and emphasis)."""
    for i, child in enumerate(children):
        if child.type == "link_open":
            return bool(_plain(children[i + 1 : _link_close(children, i)]).strip())
        if child.type in ("text", "code_inline"):
            stripped = _LEADING_TAGS.sub("", child.content).strip(" *_-–—•:")
            if stripped:
                return False
    return False


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
    children: list[Token], line: int | None, path: list[str], skip: bool, own_repo: str | None
) -> tuple[ParsedEntry | None, int]:
    """The entry in one item's inline tokens (or None) and how many links were ignored."""
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
    rest = children[end + 1 :]
    source = _source_link(rest, own_repo) if not _is_github(url) else None
    if source is not None:
        open_at, close_at = source
        url = str(rest[open_at].attrs["href"]).strip()
        after = _plain(rest[:open_at]) + " " + _plain(rest[close_at + 1 :])
        after = _EMPTY_BRACKETS.sub("", after)
    else:
        after = _plain(rest)
    return _build(url, before, link_text, after, path, line), ignored


def _is_github(url: str) -> bool:
    return classify_url(url)[0] in (GITHUB_REPO, GITHUB_SUBPATH)


def _source_link(children: Sequence[Token], own_repo: str | None) -> tuple[int, int] | None:
    """(open, close) of a later "Source Code" / "GitHub" / "repo" link into GitHub, if any."""
    for i, child in enumerate(children):
        if child.type != "link_open":
            continue
        close = _link_close(children, i)
        href = str(child.attrs.get("href") or "").strip()
        text = re.sub(r"[\W_]+", " ", _plain(children[i + 1 : close])).strip().lower()
        kind, repo = classify_url(href)
        if kind == GITHUB_REPO and repo != own_repo and text in _SOURCE_LINK_TEXT:
            return i, close
    return None


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
        bare, name_brackets = _bracket_tags(name)
        name = bare or link_text
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
