"""Beginner-label vocabulary: which of a repository's labels mean "good for a newcomer"."""

from __future__ import annotations

import re
from collections.abc import Iterable

_SEPARATORS = re.compile(r"[\s\-_:/.]+")


def normalize_label(label: str) -> str:
    """Case-, space-, dash-, underscore-, colon-, slash- and dot-insensitive form of a label.

    `Good-First-Issue`, `good first issue` and `good:first_issue` all become `goodfirstissue`;
    `difficulty: easy` and `difficulty/easy` become `difficultyeasy`.
    """
    return _SEPARATORS.sub("", label.casefold())


class BeginnerLabels:
    """Matches labels against the configured vocabulary plus per-repository extras."""

    def __init__(
        self, vocabulary: Iterable[str], extra: dict[str, list[str]] | None = None
    ) -> None:
        self.vocabulary = {normalize_label(label) for label in vocabulary if label.strip()}
        self.extra = {
            repo.lower(): {normalize_label(label) for label in labels}
            for repo, labels in (extra or {}).items()
        }

    def matches(self, label: str, repo: str | None = None) -> bool:
        """True when `label` means "beginner" (globally or for `repo`)."""
        key = normalize_label(label)
        return key in self.vocabulary or key in self.extra.get((repo or "").lower(), set())

    def select(self, labels: Iterable[str], repo: str | None = None) -> list[str]:
        """The labels (as spelled by the repository) that mean "beginner", in input order."""
        seen: set[str] = set()
        chosen = []
        for label in labels:
            if label not in seen and self.matches(label, repo):
                seen.add(label)
                chosen.append(label)
        return chosen
