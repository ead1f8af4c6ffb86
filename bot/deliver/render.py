"""Block Kit as readable terminal text (for the console sender and `digest --dry-run`)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

from bot.sanitize import strip_control

_LINK = re.compile(r"<([^|<>]+)\|([^<>]*)>")
_BARE_LINK = re.compile(r"<(https?://[^|<>]+)>")


def mrkdwn_to_text(text: str) -> str:
    """Slack mrkdwn as plain text: `<url|label>` -> `label (url)`, entities decoded."""
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = _BARE_LINK.sub(lambda m: m.group(1), text)
    return html.unescape(text)


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict):
        value = obj.get("text", "")
        if isinstance(value, dict):
            return _text_of(value)
        return mrkdwn_to_text(str(value)) if obj.get("type") == "mrkdwn" else str(value)
    return ""


def blocks_to_text(blocks: Iterable[dict[str, Any]]) -> str:
    """Render Block Kit blocks as lines of text: headers, sections, context, buttons.

    Control characters and terminal escape sequences (e.g. from GitHub titles) are removed.
    """
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = _text_of(block.get("text"))
            lines += [title, "=" * min(len(title), 72)]
        elif kind == "section":
            if block.get("text"):
                lines.append(_text_of(block["text"]))
            lines += [_text_of(field) for field in block.get("fields", [])]
        elif kind == "context":
            lines += ["  " + _text_of(element) for element in block.get("elements", [])]
        elif kind == "actions":
            buttons = [
                f"[{_text_of(e.get('text'))}]"
                for e in block.get("elements", [])
                if e.get("type") == "button"
            ]
            if buttons:
                lines.append("  " + " ".join(buttons))
        elif kind == "divider":
            lines.append("-" * 40)
    return strip_control("\n".join(lines))
