"""What to run next, for the empty states a new user meets first."""

from __future__ import annotations

EMPTY_CATALOG = (
    "the catalog has no repositories to crawl yet: run `matchmaker catalog sync` first "
    "(it fetches the awesome lists named in catalog.lists of config/matchmaker.toml)"
)

NOTHING_STORED = (
    "No issues stored yet: run `matchmaker catalog sync`, then `matchmaker crawl` "
    "(or try `matchmaker demo` for synthetic data)."
)
