"""Canonical stack terms: what members type, GitHub topics and catalog sections -> one vocabulary.

The table is `bot/match/taxonomy.toml`, packaged with the code; an operator who edits a copy
points the `taxonomy_file` setting (`$MATCHMAKER_TAXONOMY`) at it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from bot.config.settings import load_settings
from bot.errors import SetupError

PACKAGED_FILE = "taxonomy.toml"
_SEPARATORS = re.compile(r"[\s_\-]+")
_CHUNK_SPLIT = re.compile(r"[,;|/\n\t()\[\]{}›>]+|\band\b|\s&\s", re.IGNORECASE)
_STOPWORDS = frozenset(
    {"", "a", "an", "the", "i", "im", "i'm", "in", "of", "with", "like", "love", "some", "bit",
     "and", "or", "my", "me", "stuff", "things", "etc", "also", "plus", "mostly", "mainly", "for"}
)  # fmt: skip
_MAX_NGRAM = 4


class TaxonomyError(SetupError, ValueError):
    """The taxonomy file is malformed (unknown parent, alias used twice, bad table)."""


def term_key(text: str) -> str:
    """Lookup key: lower case, spaces/dashes/underscores collapsed to one dash, trimmed."""
    return _SEPARATORS.sub("-", text.strip().lower()).strip("-.")


@dataclass(frozen=True)
class Stack:
    """Canonical languages and topics with weights in (0, 1], plus words no term matched."""

    languages: dict[str, float] = field(default_factory=dict)
    topics: dict[str, float] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when neither a language nor a topic was recognised."""
        return not self.languages and not self.topics


@dataclass(frozen=True)
class Taxonomy:
    """The loaded table: alias -> canonical term, kinds, display names, parents."""

    aliases: Mapping[str, str]  # key -> canonical
    kinds: Mapping[str, str]  # canonical -> "language" | "topic"
    display: Mapping[str, str]
    parents: Mapping[str, tuple[str, ...]]
    sections: Mapping[str, tuple[str, ...]]
    repo_topics: Mapping[str, tuple[str, ...]]
    parent_weight: float = 0.5
    source: str = ""

    # -- lookups --------------------------------------------------------------------------------
    def lookup(self, text: str) -> str | None:
        """The canonical term for one phrase (alias, canonical or plural of either), else None."""
        key = term_key(text)
        if not key:
            return None
        for candidate in (
            key,
            key[:-1] if key.endswith("s") else "",
            key[:-2] if key.endswith("es") else "",
        ):
            if candidate and candidate in self.aliases:
                return self.aliases[candidate]
        return None

    def is_language(self, term: str) -> bool:
        """True when `term` is a canonical language."""
        return self.kinds.get(term) == "language"

    def label(self, term: str) -> str:
        """Display name of a canonical term."""
        return self.display.get(term, term)

    def ancestors(self, term: str) -> list[str]:
        """All broader terms of `term`, nearest first, without duplicates."""
        seen: list[str] = []
        frontier = list(self.parents.get(term, ()))
        while frontier:
            parent = frontier.pop(0)
            if parent not in seen and parent != term:
                seen.append(parent)
                frontier.extend(self.parents.get(parent, ()))
        return seen

    def expand(self, weights: Mapping[str, float]) -> dict[str, float]:
        """Add the ancestors of each term with weight × parent_weight per level (max wins)."""
        out = dict(weights)
        for term, weight in weights.items():
            factor = weight
            for parent in self._ancestor_levels(term):
                level, name = parent
                value = factor * self.parent_weight**level
                if value > out.get(name, 0.0):
                    out[name] = value
        return out

    def _ancestor_levels(self, term: str) -> list[tuple[int, str]]:
        levels: list[tuple[int, str]] = []
        seen = {term}
        frontier = [(1, p) for p in self.parents.get(term, ())]
        while frontier:
            level, name = frontier.pop(0)
            if name in seen:
                continue
            seen.add(name)
            levels.append((level, name))
            frontier.extend((level + 1, p) for p in self.parents.get(name, ()))
        return levels

    # -- parsing ---------------------------------------------------------------------------------
    def parse(self, text: str) -> Stack:
        """Free text ("Python, pg and k8s") -> canonical terms (weight 1.0) and unknown words."""
        languages: dict[str, float] = {}
        topics: dict[str, float] = {}
        unknown: list[str] = []
        for chunk in _CHUNK_SPLIT.split(text or ""):
            for term, leftover in self._match_chunk(chunk):
                if term is None:
                    if leftover.lower() not in _STOPWORDS and leftover not in unknown:
                        unknown.append(leftover)
                elif self.is_language(term):
                    languages[term] = 1.0
                else:
                    topics[term] = 1.0
        return Stack(languages=languages, topics=topics, unknown=unknown)

    def _match_chunk(self, chunk: str) -> Iterable[tuple[str | None, str]]:
        """Greedy longest match of word n-grams; yields (term, "") or (None, unknown word)."""
        chunk = chunk.strip()
        if not chunk:
            return
        whole = self.lookup(chunk)
        if whole is not None:
            yield whole, ""
            return
        words = [w.strip(".:!?\"'`*") for w in chunk.split()]
        words = [w for w in words if w]
        i = 0
        while i < len(words):
            for size in range(min(_MAX_NGRAM, len(words) - i), 0, -1):
                term = self.lookup(" ".join(words[i : i + size]))
                if term is not None:
                    yield term, ""
                    i += size
                    break
            else:
                yield None, words[i]
                i += 1

    def terms(self, values: Iterable[str]) -> list[str]:
        """Canonical terms for a list of phrases (unknown ones dropped, order kept, unique)."""
        out: list[str] = []
        for value in values:
            stack = self.parse(value)
            for term in [*stack.languages, *stack.topics]:
                if term not in out:
                    out.append(term)
        return out

    def section_terms(self, section: str) -> list[str]:
        """Terms for a catalog section path such as "Databases › Key-Value Databases"."""
        out: list[str] = []
        for part in re.split(r"\s*[›>]\s*", section or ""):
            key = term_key(part)
            if not key:
                continue
            found = self.sections.get(key)
            if found is None:
                term = self.lookup(part)
                found = (term,) if term else tuple(self.terms([part]))
            for term in found:
                if term not in out:
                    out.append(term)
        return out

    def repo_topic_terms(self, topics: Iterable[str]) -> list[str]:
        """Terms for GitHub repository topics (mapped table first, then aliases)."""
        out: list[str] = []
        for topic in topics or ():
            key = term_key(topic)
            mapped = self.repo_topics.get(key)
            if mapped is None:
                term = self.lookup(topic)
                mapped = (term,) if term else ()
            for term in mapped:
                if term not in out:
                    out.append(term)
        return out

    def language(self, name: str | None) -> str | None:
        """Canonical language for a GitHub/linguist or catalog language name ("Golang" -> go)."""
        if not name:
            return None
        term = self.lookup(name)
        return term if term is not None and self.is_language(term) else None


def _tuple(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TaxonomyError(f"{where}: expected a list of strings")
    return tuple(value)


def build_taxonomy(data: Mapping[str, Any], source: str = "") -> Taxonomy:
    """Validate a parsed taxonomy table and index it; raises `TaxonomyError` naming the entry."""
    aliases: dict[str, str] = {}
    kinds: dict[str, str] = {}
    display: dict[str, str] = {}
    parents: dict[str, tuple[str, ...]] = {}

    def claim(key: str, term: str, where: str) -> None:
        if not key:
            return
        owner = aliases.get(key)
        if owner is not None and owner != term:
            raise TaxonomyError(f"{where}: {key!r} already means {owner!r}")
        aliases[key] = term

    for table, kind in (("languages", "language"), ("topics", "topic")):
        entries = data.get(table, {})
        if not isinstance(entries, dict):
            raise TaxonomyError(f"{source}: [{table}] must be a table")
        for name, entry in entries.items():
            where = f"{source}: [{table}.{name}]"
            if not isinstance(entry, dict):
                raise TaxonomyError(f"{where}: must be a table")
            term = term_key(name)
            if term in kinds:
                raise TaxonomyError(f"{where}: defined twice")
            kinds[term] = kind
            display[term] = str(entry.get("display", name))
            parents[term] = tuple(term_key(p) for p in _tuple(entry.get("parents", []), where))
            claim(term, term, where)
            claim(term_key(display[term]), term, where)
            for alias in _tuple(entry.get("aliases", []), where):
                claim(term_key(alias), term, where)
    for term, ups in parents.items():
        for parent in ups:
            if parent not in kinds:
                raise TaxonomyError(f"{source}: {term!r} has unknown parent {parent!r}")

    def mapping(table: str) -> dict[str, tuple[str, ...]]:
        raw = data.get(table, {})
        if not isinstance(raw, dict):
            raise TaxonomyError(f"{source}: [{table}] must be a table")
        out: dict[str, tuple[str, ...]] = {}
        for key, value in raw.items():
            terms = tuple(term_key(v) for v in _tuple(value, f"{source}: [{table}] {key!r}"))
            for term in terms:
                if term not in kinds:
                    raise TaxonomyError(f"{source}: [{table}] {key!r} -> unknown term {term!r}")
            out[term_key(key)] = terms
        return out

    weight = data.get("parent_weight", 0.5)
    if not isinstance(weight, int | float) or not 0 < weight <= 1:
        raise TaxonomyError(f"{source}: parent_weight must be in (0, 1]")
    return Taxonomy(
        aliases=aliases,
        kinds=kinds,
        display=display,
        parents=parents,
        sections=mapping("sections"),
        repo_topics=mapping("repo_topics"),
        parent_weight=float(weight),
        source=source,
    )


def default_taxonomy_text() -> str:
    """The packaged table."""
    return resources.files("bot.match").joinpath(PACKAGED_FILE).read_text("utf-8")


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Load and validate a taxonomy file (default: the packaged table)."""
    if path is None:
        text, source = default_taxonomy_text(), f"bot/match/{PACKAGED_FILE}"
    else:
        try:
            text, source = path.read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            raise TaxonomyError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TaxonomyError(f"{source}: invalid TOML: {exc}") from None
    return build_taxonomy(data, source)


@cache
def get_taxonomy() -> Taxonomy:
    """The process-wide taxonomy (loaded once): `taxonomy_file` of the settings
    (`$MATCHMAKER_TAXONOMY`), else the packaged table."""
    return load_taxonomy(load_settings().taxonomy_file)


def normalize_stack(text: str) -> Stack:
    """What a member typed -> canonical languages and topics (weight 1.0) and unknown words."""
    return get_taxonomy().parse(text)
