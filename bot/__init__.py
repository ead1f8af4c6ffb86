"""Matchmaker: match community members with available good first issues."""

__version__ = "0.1.0"
