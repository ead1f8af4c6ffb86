"""Regenerate migration 0001 from the models (allowed only until the first release is tagged).

Usage: uv run python scripts/regen_initial_migration.py
"""

from __future__ import annotations

import re
import tempfile

from bot.store import migrate
from bot.store.db import make_engine

VERSIONS = migrate.MIGRATIONS_DIR / "versions"


def main() -> None:
    """Delete 0001, autogenerate it again on an empty SQLite database, pin its id to 0001."""
    for old in VERSIONS.glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/gen.db")
        migrate.autogenerate(engine, "initial schema")
        engine.dispose()
    (generated,) = [p for p in VERSIONS.glob("*_initial_schema.py") if not p.name.startswith("0")]
    text = generated.read_text()
    old_id = re.search(r"^revision: str = '([0-9a-f]+)'", text, re.M).group(1)  # type: ignore[union-attr]
    text = text.replace(old_id, "0001")
    target = VERSIONS / "0001_initial_schema.py"
    target.write_text(text)
    generated.unlink()
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
