"""Property tests: generated lists round-trip; garbage only ever raises `CatalogError`."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.catalog.errors import CatalogError
from bot.catalog.fetch import decode_list_bytes, resolve_location
from bot.catalog.normalize import SECTION_SEPARATOR
from bot.catalog.parse import parse_awesome_list

SOURCE = "list-owner/awesome-things"
LANGUAGES = {
    "Golang": "go",
    "Go": "go",
    "C++": "c++",
    "Rust": "rust",
    "Python": "python",
    "JS": "javascript",
}
RESERVED = {"topics", "sponsors", "orgs", "features", "marketplace", "settings", "users", "search"}
SKIPPED = {
    "contents",
    "contributing",
    "license",
    "toc",
    "index",
    "credits",
    "sponsors",
    "footnotes",
}

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
ALNUM = LETTERS + "0123456789"


def _token(first: str, rest: str, max_size: int) -> st.SearchStrategy[str]:
    return st.builds(str.__add__, st.sampled_from(first), st.text(alphabet=rest, max_size=max_size))


word = _token(LETTERS, ALNUM, 9).filter(lambda w: w.lower() not in {"is", "are"})
owner = _token(ALNUM.lower(), ALNUM.lower() + "-", 12).filter(lambda o: o not in RESERVED)
repo_name = _token(ALNUM, ALNUM + "_-", 15)


@dataclass(frozen=True)
class Item:
    name: str
    url: str
    repo: str | None
    language_tag: str | None
    tag_inside: bool
    description: str | None


@st.composite
def items(draw: st.DrawFn) -> Item:
    name = draw(st.lists(word, min_size=1, max_size=4).map(lambda ws: " ".join(ws)))
    if draw(st.booleans()):
        o, r = draw(owner), draw(repo_name)
        url, repo = f"https://github.com/{o}/{r}", f"{o}/{r}".lower()
    else:
        url, repo = f"https://example.org/{draw(repo_name)}", None
    tag = draw(st.none() | st.sampled_from(sorted(LANGUAGES)))
    description = draw(st.none() | st.lists(word, min_size=1, max_size=8).map(" ".join))
    return Item(name, url, repo, tag, draw(st.booleans()), description and description + ".")


heading = (
    st.lists(word, min_size=1, max_size=3).map(" ".join).filter(lambda h: h.lower() not in SKIPPED)
)
lists = st.lists(
    st.tuples(heading, st.none() | heading, st.lists(items(), min_size=1, max_size=5)),
    min_size=1,
    max_size=4,
).filter(lambda sections: SOURCE not in str(sections))


def render(sections: list[tuple[str, str | None, list[Item]]]) -> str:
    """Markdown in the common awesome style, with a TOC and a badge that must be ignored."""
    lines = [
        "# Awesome Things",
        "",
        "[![Awesome](https://awesome.re/badge.svg)](https://awesome.re)",
        "",
    ]
    lines += ["## Contents", ""] + [
        f"- [{h}](#{h.lower().replace(' ', '-')})" for h, _, _ in sections
    ]
    for h2, h3, entries in sections:
        lines += ["", f"## {h2}", ""]
        if h3:
            lines += [f"### {h3}", ""]
        for item in entries:
            tag = f"({item.language_tag}) " if item.language_tag else ""
            link = (
                f"[{tag}{item.name}]({item.url})"
                if item.tag_inside
                else f"{tag}[{item.name}]({item.url})"
            )
            lines.append(f"- {link}" + (f" - {item.description}" if item.description else ""))
    return "\n".join(lines) + "\n"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lists)
def test_generated_lists_round_trip(sections: list[tuple[str, str | None, list[Item]]]) -> None:
    parsed = parse_awesome_list(render(sections), SOURCE)
    expected = [
        (item, h2 + (SECTION_SEPARATOR + h3 if h3 else ""))
        for h2, h3, entries in sections
        for item in entries
    ]
    assert len(parsed.entries) == len(expected)
    for entry, (item, section) in zip(parsed.entries, expected, strict=True):
        assert entry.name == item.name
        assert entry.url == item.url
        assert entry.repo == item.repo
        assert entry.section == section
        assert entry.language == (LANGUAGES[item.language_tag] if item.language_tag else None)
        assert entry.description == item.description
    assert parsed.ignored_links == len(sections)  # the TOC anchors


fragments = st.sampled_from(
    [
        "- ",
        "* ",
        "1. ",
        "  ",
        "\n",
        "\n\n",
        "#",
        "## ",
        "### ",
        "[",
        "]",
        "(",
        ")",
        "](",
        "![",
        "https://github.com/",
        "http://",
        "a/b",
        "/tree/x",
        "#readme",
        "(Golang) ",
        "(C++)",
        " - ",
        "`",
        "**",
        "<html>",
        "<!DOCTYPE html>",
        "<p>",
        "\x00",
        "›",
        "\t",
        ">",
        "|",
        "---",
        "===",
        "\\",
        "&amp;",
        "\ufeff",
        "😀",
        "[x]: https://e.org",
        "\r\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.lists(fragments | st.text(max_size=5), max_size=60).map("".join)))
def test_garbage_raises_only_catalog_error(text: str) -> None:
    try:
        parsed = parse_awesome_list(text, SOURCE)
    except CatalogError as exc:
        assert str(exc)
        return
    assert parsed.entries
    for entry in parsed.entries:
        assert entry.url.startswith(("http://", "https://"))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_bytes_raise_only_catalog_error(data: bytes) -> None:
    try:
        parse_awesome_list(decode_list_bytes(data), SOURCE)
    except CatalogError as exc:
        assert str(exc)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_list_location_resolves_or_raises_catalog_error(location: str) -> None:
    try:
        target = resolve_location(location, "http://127.0.0.1:9")
    except CatalogError:
        return
    assert target.key
    assert target.kind in ("file", "github", "url")
