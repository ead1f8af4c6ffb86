"""Fetching lists: GitHub README API, raw URLs, ETags, size limit, bad content (respx)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from bot.catalog.errors import CatalogError
from bot.catalog.fetch import ListFetcher, resolve_location
from bot.config import Settings, load_settings

API = "http://127.0.0.1:9999"
LIST = "# Awesome\n\n## Databases\n\n- [kv](https://github.com/acme/kv) - A store.\n"


@pytest.fixture
def settings() -> Settings:
    return load_settings(github_api_url=API, catalog={"max_list_bytes": 1_000_000})


@pytest.fixture
def fetcher(settings: Settings) -> Iterator[ListFetcher]:
    with ListFetcher(settings, backoff_seconds=0) as fetcher:
        yield fetcher


@pytest.mark.parametrize(
    ("location", "kind", "key", "url"),
    [
        ("Acme/Awesome-KV", "github", "acme/awesome-kv", f"{API}/repos/acme/awesome-kv/readme"),
        (
            "https://github.com/acme/awesome-kv",
            "github",
            "acme/awesome-kv",
            f"{API}/repos/acme/awesome-kv/readme",
        ),
        (
            "https://github.com/acme/lists/blob/main/docs/dbs.md",
            "github",
            "https://github.com/acme/lists/blob/main/docs/dbs.md",
            f"{API}/repos/acme/lists/contents/docs/dbs.md?ref=main",
        ),
        (
            "https://example.org/list.md",
            "url",
            "https://example.org/list.md",
            "https://example.org/list.md",
        ),
    ],
)
def test_resolve_location(location: str, kind: str, key: str, url: str) -> None:
    target = resolve_location(location, API)
    assert (target.kind, target.key, target.url) == (kind, key, url)


def test_resolve_relative_markdown_path_is_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    target = resolve_location("lists/awesome.md", API)
    assert (target.kind, target.key) == ("file", str(tmp_path / "lists" / "awesome.md"))
    with pytest.raises(CatalogError, match="unsupported URL scheme"):
        resolve_location("ftp://example.org/list.md", API)


@respx.mock
def test_owner_repo_reads_the_readme_via_the_api_with_raw_accept_and_token() -> None:
    settings = load_settings(github_api_url=API, GITHUB_TOKEN="ghp_secret_value_123")
    route = respx.get(f"{API}/repos/acme/awesome-kv/readme").mock(
        return_value=httpx.Response(200, text=LIST, headers={"ETag": 'W/"v1"'})
    )
    with ListFetcher(settings) as fetcher:
        result = fetcher.fetch("acme/awesome-kv")
    assert (result.text, result.etag, result.not_modified) == (LIST, 'W/"v1"', False)
    request = route.calls.last.request
    assert request.headers["Accept"] == "application/vnd.github.raw"
    assert request.headers["Authorization"] == "Bearer ghp_secret_value_123"


@respx.mock
def test_token_is_never_sent_to_other_hosts() -> None:
    settings = load_settings(github_api_url=API, GITHUB_TOKEN="ghp_secret_value_123")
    route = respx.get("https://example.org/list.md").mock(
        return_value=httpx.Response(200, text=LIST)
    )
    with ListFetcher(settings) as fetcher:
        fetcher.fetch("https://example.org/list.md")
    assert "Authorization" not in route.calls.last.request.headers


@respx.mock
def test_etag_unchanged_list_is_a_304(fetcher: ListFetcher) -> None:
    route = respx.get(f"{API}/repos/acme/awesome-kv/readme").mock(return_value=httpx.Response(304))
    result = fetcher.fetch("acme/awesome-kv", etag='W/"v1"')
    assert result.not_modified and result.text is None and result.etag == 'W/"v1"'
    assert route.calls.last.request.headers["If-None-Match"] == 'W/"v1"'


@respx.mock
def test_404_is_a_clear_error(fetcher: ListFetcher) -> None:
    respx.get(f"{API}/repos/acme/gone/readme").mock(return_value=httpx.Response(404))
    with pytest.raises(CatalogError, match=r"not found \(HTTP 404\)"):
        fetcher.fetch("acme/gone")


@respx.mock
def test_500_is_retried_then_a_clear_error(fetcher: ListFetcher) -> None:
    route = respx.get("https://example.org/list.md").mock(return_value=httpx.Response(500))
    with pytest.raises(CatalogError, match=r"server error \(HTTP 500\)"):
        fetcher.fetch("https://example.org/list.md")
    assert route.call_count == 3  # 1 + catalog.fetch_retries (2)


@respx.mock
def test_a_transient_500_recovers(fetcher: ListFetcher) -> None:
    respx.get("https://example.org/list.md").mock(
        side_effect=[httpx.Response(502), httpx.Response(200, text=LIST)]
    )
    assert fetcher.fetch("https://example.org/list.md").text == LIST


@respx.mock
def test_network_error_is_a_clear_error(fetcher: ListFetcher) -> None:
    respx.get("https://example.org/list.md").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(CatalogError, match=r"cannot reach example\.org"):
        fetcher.fetch("https://example.org/list.md")


@respx.mock
def test_rate_limited_403_says_so(fetcher: ListFetcher) -> None:
    respx.get(f"{API}/repos/acme/kv/readme").mock(
        return_value=httpx.Response(403, headers={"X-RateLimit-Remaining": "0"})
    )
    with pytest.raises(CatalogError, match="rate limit"):
        fetcher.fetch("acme/kv")


@respx.mock
def test_a_20_mb_body_is_refused(fetcher: ListFetcher) -> None:
    big = b"- [x](https://github.com/a/b)\n" * (20_000_000 // 30)
    respx.get("https://example.org/big.md").mock(return_value=httpx.Response(200, content=big))
    with pytest.raises(CatalogError, match=r"too large.*limit is 1\.0 MB"):
        fetcher.fetch("https://example.org/big.md")


@respx.mock
def test_a_20_mb_streamed_body_without_length_is_refused(fetcher: ListFetcher) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"x" * 1_000_000

    respx.get("https://example.org/big.md").mock(return_value=httpx.Response(200, content=chunks()))
    with pytest.raises(CatalogError, match="too large"):
        fetcher.fetch("https://example.org/big.md")


@respx.mock
def test_non_utf8_body_is_a_clear_error(fetcher: ListFetcher) -> None:
    respx.get("https://example.org/latin1.md").mock(
        return_value=httpx.Response(200, content="- [Café](https://e.org)".encode("latin-1"))
    )
    with pytest.raises(CatalogError, match=r"not UTF-8 text \(byte 0xe9 at offset 6\)"):
        fetcher.fetch("https://example.org/latin1.md")


def test_files_empty_missing_large_non_utf8(fetcher: ListFetcher, tmp_path: Path) -> None:
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    with pytest.raises(CatalogError, match="empty"):
        fetcher.fetch(str(empty))
    with pytest.raises(CatalogError, match="file not found"):
        fetcher.fetch(str(tmp_path / "missing.md"))
    with pytest.raises(CatalogError, match="directory"):
        fetcher.fetch(str(tmp_path))
    big = tmp_path / "big.md"
    with big.open("wb") as handle:
        handle.truncate(20_000_000)  # 20 MB (sparse), over the 1 MB limit
    with pytest.raises(CatalogError, match=r"too large \(20\.0 MB\)"):
        fetcher.fetch(str(big))
    latin = tmp_path / "latin.md"
    latin.write_bytes("é".encode("latin-1"))
    with pytest.raises(CatalogError, match="not UTF-8"):
        fetcher.fetch(str(latin))
    good = tmp_path / "good.md"
    good.write_bytes(b"\xef\xbb\xbf" + LIST.encode())  # a UTF-8 BOM is fine
    assert fetcher.fetch(str(good)).text == LIST
