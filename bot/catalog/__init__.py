"""Catalog stage: fetch curated "awesome" lists, parse them into entries, store them.

`parse.parse_awesome_list` turns Markdown into entries; `fetch.ListFetcher` reads a list from a
URL, a GitHub repository's README or a local file; `sync.sync_lists` stores every configured list.
"""

from bot.catalog.errors import CatalogError

__all__ = ["CatalogError"]
