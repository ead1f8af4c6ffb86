"""`<a href>` links in awesome lists written (partly) in HTML, as markdown-it link tokens.

markdown-it-py leaves HTML as `html_inline` / `html_block` tokens. `inline_html_links` turns
`<a href="…">…</a>` inside a Markdown line into `link_open` / `link_close` tokens;
`html_items` reads an HTML block with the standard library's HTMLParser and splits it into
items (one per `<li>`, `<tr>`, `<p>`, `<div>` or line) and headings, so the Markdown entry
logic applies to both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser

from markdown_it.token import Token

Segment = tuple[str, ...]  # ("text", s) | ("link_open", href) | ("link_close",) | ("softbreak",)
_ITEM_TAGS = frozenset(
    {"li", "tr", "p", "div", "ul", "ol", "table", "thead", "tbody", "dd", "dt", "blockquote"}
)
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_CELL_TAGS = frozenset({"td", "th"})


def synthetic_tokens(segments: Sequence[Segment]) -> list[Token]:
    """Inline tokens (text, link_open/close, softbreak) for `segments`."""
    out: list[Token] = []
    for segment in segments:
        kind = segment[0]
        if kind == "text":
            out.append(Token("text", "", 0, content=segment[1]))
        elif kind == "link_open":
            out.append(Token("link_open", "a", 1, attrs={"href": segment[1]}))
        elif kind == "link_close":
            out.append(Token("link_close", "a", -1))
        else:
            out.append(Token("softbreak", "br", 0))
    return out


class _TagReader(HTMLParser):
    """One tag's name and attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: tuple[str, dict[str, str], bool] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found = (tag, {k: v or "" for k, v in attrs}, False)

    def handle_endtag(self, tag: str) -> None:
        self.found = (tag, {}, True)


def _read_tag(html: str) -> tuple[str, dict[str, str], bool] | None:
    reader = _TagReader()
    reader.feed(html)
    reader.close()
    return reader.found


def inline_html_links(children: Sequence[Token]) -> list[Token]:
    """`children` with inline `<a href>`/`</a>` as link tokens, `<br>` as a line break."""
    if not any(child.type == "html_inline" for child in children):
        return list(children)
    out: list[Token] = []
    open_links = 0
    for child in children:
        if child.type != "html_inline":
            out.append(child)
            continue
        tag = _read_tag(child.content)
        if tag is None:
            continue
        name, attrs, closing = tag
        if name == "a" and not closing and attrs.get("href"):
            out.extend(synthetic_tokens([("link_open", attrs["href"].strip())]))
            open_links += 1
        elif name == "a" and closing and open_links:
            out.extend(synthetic_tokens([("link_close",)]))
            open_links -= 1
        elif name == "br":
            out.extend(synthetic_tokens([("softbreak",)]))
    return out


@dataclass
class HtmlItem:
    """One item of an HTML block (its inline segments) or a heading (`heading` level)."""

    line: int  # 0-based line within the block
    segments: list[Segment] = field(default_factory=list)
    heading: int | None = None
    text: str = ""


class _BlockReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[HtmlItem] = []
        self.current = HtmlItem(0)
        self.containers = 0  # open <li>/<tr>: newlines inside them do not split items
        self.open_links = 0
        self.heading: int | None = None

    def flush(self) -> None:
        item = self.current
        if self.open_links:
            item.segments.append(("link_close",))
            self.open_links = 0
        text = "".join(s[1] for s in item.segments if s[0] == "text").strip()
        if item.heading is not None:
            item.text = text
            self.items.append(item)
        elif text or any(s[0] == "link_open" for s in item.segments):
            self.items.append(item)
        self.current = HtmlItem(self.getpos()[0] - 1)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag in _ITEM_TAGS or tag in _HEADINGS or tag == "br":
            self.flush()
            if tag in ("li", "tr"):
                self.containers += 1
            if tag in _HEADINGS:
                self.current.heading = _HEADINGS[tag]
        elif tag in _CELL_TAGS and self.current.segments:
            self.current.segments.append(("text", " - "))
        elif tag == "a" and values.get("href"):
            self.current.segments.append(("link_open", values["href"].strip()))
            self.open_links += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.open_links:
            self.current.segments.append(("link_close",))
            self.open_links -= 1
        elif tag in _ITEM_TAGS or tag in _HEADINGS:
            self.flush()
            if tag in ("li", "tr"):
                self.containers = max(0, self.containers - 1)

    def handle_data(self, data: str) -> None:
        if self.containers or self.current.heading is not None or "\n" not in data:
            self.current.segments.append(("text", data.replace("\n", " ")))
            return
        first, *rest = data.split("\n")
        self.current.segments.append(("text", first))
        for part in rest:
            if self.open_links:  # a link spanning lines stays one item
                self.current.segments.append(("text", " " + part))
                continue
            self.flush()
            self.current.segments.append(("text", part))


def html_items(html: str) -> list[HtmlItem]:
    """Items and headings of an HTML block, in document order."""
    reader = _BlockReader()
    reader.feed(html)
    reader.close()
    reader.flush()
    return reader.items
