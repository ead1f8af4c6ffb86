"""The catalog's one error type: a list that cannot be fetched or parsed."""

from __future__ import annotations

from bot.errors import InputError


class CatalogError(InputError):
    """A list could not be fetched, decoded or parsed; the message is one human-readable line."""
