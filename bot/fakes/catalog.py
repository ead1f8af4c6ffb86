"""Seed the catalog tables directly, as the catalog stage would (tests and benchmarks)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.engine import Engine

from bot.store.db import session_scope
from bot.store.models import ListEntry, ListSource, Repository


def add_to_catalog(
    engine: Engine, full_names: Iterable[str], *, list_url: str = "https://example.invalid/list.md"
) -> None:
    """One list holding an active entry (and a lower-case Repository row) per "owner/name"."""
    with session_scope(engine) as session:
        source = ListSource(url=list_url)
        session.add(source)
        session.flush()
        for full_name in full_names:
            repo = Repository(full_name=full_name.lower())
            session.add(repo)
            session.flush()
            session.add(
                ListEntry(
                    list_id=source.id,  # type: ignore[arg-type]
                    repository_id=repo.id,
                    name=full_name,
                    url=f"https://github.com/{full_name}",
                    link_kind="github_repo",
                )
            )
