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


def safe_url(url: str | None) -> str | None:
    """An http(s) URL safe to put inside `<url|label>`, or None when it isn't one.

    Characters that would end or break the link (`|`, `<`, `>`, spaces, quotes) are
    percent-encoded and `&` becomes `&amp;`, as Slack expects inside mrkdwn.
    """
    if not url:
        return None
    raw = url.strip()
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return quote(raw, safe=_SAFE_URL_CHARS).replace("&", "&amp;")


def link(url: str | None, label: str, *, max_label: int = 200) -> str:
    """A mrkdwn link `<url|label>` with the label escaped; just the label if the URL is unsafe."""
    text = mrkdwn_escape(truncate(label, max_label))
    target = safe_url(url)
    if target is None:
        return text
    return f"<{target}|{text}>"
