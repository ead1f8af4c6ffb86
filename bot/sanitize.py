"""Make untrusted text (GitHub data, members' input) safe for terminals and spreadsheets."""

from __future__ import annotations

import re
from typing import Any

# ANSI/VT escape sequences (CSI, OSC such as terminal hyperlinks, other ESC forms), then any
# remaining C0 control character except tab and newline, DEL, and C1 controls (U+0080–U+009F).
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI … final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC … BEL or ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC … ST
    r"|\x1b[@-Z\\-_]?"  # two-byte ESC sequences, or a lone ESC
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|\x9d[^\x07\x9c]*[\x07\x9c]?"  # 8-bit OSC
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def strip_control(text: str) -> str:
    """`text` without escape sequences or control characters (tab and newline are kept)."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def csv_cell(value: Any) -> Any:
    """A CSV value a spreadsheet won't run: text starting with = + - @ gets a leading `'`."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
