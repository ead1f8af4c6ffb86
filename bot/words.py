"""Counted nouns for messages people read: "1 comment", "2 comments"."""

from __future__ import annotations

__all__ = ["plural"]


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`count` and the noun in the right number, e.g. plural(1, "entry", "entries")."""
    noun = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count} {noun}"
