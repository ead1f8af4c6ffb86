"""The catalog's one error type: a list that cannot be fetched or parsed."""

from __future__ import annotations


class CatalogError(Exception):
    """A list could not be fetched, decoded or parsed; the message is one human-readable line."""
