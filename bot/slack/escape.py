"""Make untrusted text (issue titles, repo names, anything from GitHub) safe for Slack mrkdwn.

Slack only parses control sequences wrapped in `<` `>` (mentions, `<!channel>`, links), so
escaping `&`, `<` and `>` as HTML entities is enough to show such text literally: it can never
ping anyone or disguise a link.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

ELLIPSIS = "…"
_ENTITY_TAIL = re.compile(r"&[a-z]{0,3}$")
_SAFE_URL_CHARS = "/:?=&%#@+,;~!$*'()[]-._"


def mrkdwn_escape(text: str | None) -> str:
    """Escape `&`, `<` and `>` so Slack shows `text` literally (no mentions, no links)."""
    if not text:
        return ""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, ending with an ellipsis when it was cut.

    Never leaves half an HTML entity (`&am…`) behind, so escaped text stays valid.
    """
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    head = text[: limit - len(ELLIPSIS)]
    head = _ENTITY_TAIL.sub("", head)
    return head + ELLIPSIS


def truncate_lines(text: str, limit: int, *, more: str = ELLIPSIS) -> str:
    """Cut mrkdwn `text` to at most `limit` characters at line ends, then a `more` line.

    Whole lines are kept, so a `<url|label>` link or a `code` span is never cut in half. A
    first line longer than `limit` on its own is cut before any link or code span it would
    split.
    """
    if len(text) <= limit:
        return text
    budget = limit - len(more) - 1  # room for "\n…"
    kept: list[str] = []
    used = 0
    lines = _logical_lines(text)
    for line in lines:
        cost = len(line) + (1 if kept else 0)
        if used + cost > budget:
            break
        kept.append(line)
        used += cost
    if not kept:
        return _cut_line(lines[0], limit - len(more)) + more
    return "\n".join(kept) + "\n" + more


def _logical_lines(text: str) -> list[str]:
    """`text` split at newlines that are outside any `<…>` link and any `code` span."""
    lines: list[str] = []
    start = 0
    in_link = in_code = False
    for index, char in enumerate(text):
        if char == "`" and not in_link:
            in_code = not in_code
        elif char == "<" and not in_code:
            in_link = True
        elif char == ">" and in_link:
            in_link = False
        elif char == "\n" and not in_link and not in_code:
            lines.append(text[start:index])
            start = index + 1
    lines.append(text[start:])
    return lines


def _cut_line(line: str, limit: int) -> str:
    """`line[:limit]` moved back so it ends outside any `<…>` and any `code` span."""
    head = _ENTITY_TAIL.sub("", line[: max(0, limit)])
    while True:
        opened = head.rfind("<")
        if opened > head.rfind(">"):
            head = head[:opened]
            continue
        if head.count("`") % 2:
            head = head[: head.rfind("`")]
            continue
        return head.rstrip()


GITHUB_HOST = "github.com"


def safe_url(url: str | None) -> str | None:
    """A `https://github.com/…` URL safe to put inside `<url|label>`, or None for any other.

    Only GitHub's own pages are linked (every link we post is an issue or a repository): no other
    host, no `user@`, no port. Characters that would end or break the link (`|`, `<`, `>`,
    spaces, quotes) are percent-encoded and `&` becomes `&amp;`, as Slack expects inside mrkdwn.
    """
    if not url:
        return None
    raw = url.strip()
    try:
        parts = urlsplit(raw)
    except ValueError:
        return None
    if parts.scheme != "https" or parts.netloc.lower() != GITHUB_HOST:
        return None
    return quote(raw, safe=_SAFE_URL_CHARS).replace("&", "&amp;")


def link(url: str | None, label: str, *, max_label: int = 200) -> str:
    """A mrkdwn link `<url|label>` with the label escaped; just the label if the URL is unsafe."""
    text = mrkdwn_escape(truncate(label, max_label))
    target = safe_url(url)
    if target is None:
        return text
    return f"<{target}|{text}>"
