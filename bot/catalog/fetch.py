"""Read a list: a local file, a raw URL, or a GitHub repository's README via the GitHub API.

"owner/repo" and https://github.com/owner/repo become `GET {github_api_url}/repos/{o}/{r}/readme`
with `Accept: application/vnd.github.raw`; a github.com `/blob/<ref>/<path>` URL becomes the
contents API for that file. ETag / If-None-Match makes an unchanged list cost a 304. Bodies larger
than `catalog.max_list_bytes` are refused while streaming; bytes must decode as UTF-8.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import quote, urlsplit

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from bot import __version__
from bot.catalog.errors import CatalogError
from bot.config import Settings

RAW_MEDIA_TYPE = "application/vnd.github.raw"
_REPO_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")
_RESERVED_OWNERS = frozenset({"orgs", "topics", "sponsors", "marketplace", "features", "settings"})


@dataclass(frozen=True, slots=True)
class Target:
    """Where a list location points: its stable key and how to read it."""

    kind: Literal["file", "github", "url"]
    key: str  # normalised location: absolute path, lower-case "owner/repo", or the URL
    url: str | None = None  # request URL (GitHub API or raw URL); None for files
    path: Path | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A fetched list: its text, or `not_modified` when the server answered 304."""

    location: str
    text: str | None
    etag: str | None = None
    not_modified: bool = False


class Fetcher(Protocol):
    """Anything that reads a list location (tests pass fakes to `sync_lists`)."""

    def fetch(self, location: str, etag: str | None = None) -> FetchResult:
        """Read `location`; send `etag` as If-None-Match; raise `CatalogError` on failure."""
        ...


class _Transient(CatalogError):
    """A failure worth retrying: 5xx, 429 or a network error."""


def resolve_location(location: str, api_url: str = "https://api.github.com") -> Target:
    """Classify a list location: "owner/repo", a github.com URL, another URL, or a file path."""
    raw = location.strip()
    if not raw:
        raise CatalogError("empty list location")
    try:
        return _resolve(raw, api_url)
    except (ValueError, RuntimeError, OSError) as exc:
        raise CatalogError(f"not a valid URL, owner/repo or path: {raw!r} ({exc})") from None


def _resolve(raw: str, api_url: str) -> Target:
    api = api_url.rstrip("/")
    if re.match(r"^https?://", raw, re.IGNORECASE):
        return _resolve_url(raw, api)
    if raw.lower().startswith("file://"):
        return _file_target(Path(urlsplit(raw).path))
    path = Path(raw).expanduser()
    if _REPO_RE.match(raw) and not path.exists() and not raw.lower().endswith((".md", ".markdown")):
        owner, name = raw.lower().split("/")
        return Target("github", f"{owner}/{name}", f"{api}/repos/{owner}/{name}/readme")
    if re.match(r"^[a-z][a-z0-9+.-]*://", raw, re.IGNORECASE):
        raise CatalogError(
            f"unsupported URL scheme in {raw!r} (use http(s)://, owner/repo or a path)"
        )
    return _file_target(path)


def normalize_location(location: str) -> str:
    """The key a list is stored under (`ListSource.url`)."""
    return resolve_location(location).key


def _file_target(path: Path) -> Target:
    resolved = path.expanduser().resolve()
    return Target("file", str(resolved), path=resolved)


def _resolve_url(url: str, api: str) -> Target:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    segments = [s for s in parts.path.split("/") if s]
    if host == "github.com" and len(segments) >= 2 and segments[0].lower() not in _RESERVED_OWNERS:
        owner, name = segments[0].lower(), segments[1].removesuffix(".git").lower()
        rest = segments[2:]
        if not rest or (rest[0] == "tree" and len(rest) == 2):
            return Target("github", f"{owner}/{name}", f"{api}/repos/{owner}/{name}/readme")
        if rest[0] == "blob" and len(rest) >= 3:
            file_path = quote("/".join(rest[2:]))
            api_url = f"{api}/repos/{owner}/{name}/contents/{file_path}?ref={quote(rest[1])}"
            return Target("github", url, api_url)
    if not host:
        raise CatalogError(f"not a valid URL: {url!r}")
    return Target("url", url, url)


def decode_list_bytes(data: bytes) -> str:
    """Decode a list's bytes: UTF-8 (BOM allowed) or BOM-marked UTF-16; else `CatalogError`."""
    if not data.strip():
        raise CatalogError(f"the list is empty ({len(data)} bytes)")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise CatalogError("the list has a UTF-16 byte order mark but is not UTF-16") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogError(
            f"the list is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _too_large(limit: int, size: int | None = None) -> CatalogError:
    seen = f" ({_megabytes(size)})" if size else ""
    return CatalogError(
        f"the list is too large{seen}: the limit is {_megabytes(limit)} (catalog.max_list_bytes)"
    )


class ListFetcher:
    """Fetches lists over HTTP (httpx) or from disk, honouring ETags and the size limit."""

    def __init__(
        self,
        settings: Settings,
        *,
        client: httpx.Client | None = None,
        backoff_seconds: float = 0.5,
    ) -> None:
        self.api_url = settings.github_api_url.rstrip("/")
        self.max_bytes = settings.catalog.max_list_bytes
        self.retries = settings.catalog.fetch_retries
        self.backoff_seconds = backoff_seconds
        self._token = settings.github_token
        self._own_client = client is None
        self._client = client or httpx.Client(
            timeout=settings.catalog.fetch_timeout_seconds,
            follow_redirects=True,
            headers={"User-Agent": f"matchmaker-bot/{__version__}"},
        )

    def __enter__(self) -> ListFetcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client if this fetcher created it."""
        if self._own_client:
            self._client.close()

    def fetch(self, location: str, etag: str | None = None) -> FetchResult:
        """Read one list; raise `CatalogError` with a one-line reason on any failure."""
        target = resolve_location(location, self.api_url)
        if target.kind == "file":
            assert target.path is not None
            return FetchResult(target.key, decode_list_bytes(self._read_file(target.path)))
        assert target.url is not None
        retrying = Retrying(
            stop=stop_after_attempt(self.retries + 1),
            wait=wait_exponential(multiplier=self.backoff_seconds, max=10),
            retry=retry_if_exception_type(_Transient),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                return self._get(target, etag)
        raise AssertionError("unreachable")  # pragma: no cover

    def _read_file(self, path: Path) -> bytes:
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                raise _too_large(self.max_bytes, size)
            return path.read_bytes()
        except FileNotFoundError:
            raise CatalogError(f"file not found: {path}") from None
        except IsADirectoryError:
            raise CatalogError(f"is a directory, not a Markdown file: {path}") from None
        except OSError as exc:
            raise CatalogError(f"cannot read {path}: {exc.strerror or exc}") from None

    def _headers(self, target: Target, etag: str | None) -> dict[str, str]:
        headers: dict[str, str] = {}
        assert target.url is not None
        if target.url.startswith(self.api_url + "/"):
            headers["Accept"] = RAW_MEDIA_TYPE
            headers["X-GitHub-Api-Version"] = "2022-11-28"
            if self._token is not None:
                headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        if etag:
            headers["If-None-Match"] = etag
        return headers

    def _get(self, target: Target, etag: str | None) -> FetchResult:
        url = target.url or ""
        try:
            with self._client.stream("GET", url, headers=self._headers(target, etag)) as response:
                if response.status_code == 304:
                    return FetchResult(target.key, None, etag, not_modified=True)
                _check_status(response, url, is_api=url.startswith(self.api_url + "/"))
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise _too_large(self.max_bytes, int(declared))
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise _too_large(self.max_bytes)
                text = decode_list_bytes(bytes(body))
                return FetchResult(target.key, text, response.headers.get("ETag"))
        except httpx.TimeoutException:
            raise _Transient(f"timed out fetching {url}") from None
        except httpx.TransportError as exc:
            reason = str(exc).strip() or type(exc).__name__
            raise _Transient(f"cannot reach {urlsplit(url).netloc}: {reason}") from None
        except httpx.HTTPError as exc:
            raise CatalogError(f"HTTP error fetching {url}: {exc}") from None


def _check_status(response: httpx.Response, url: str, *, is_api: bool) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    if status == 404:
        raise CatalogError(f"not found (HTTP 404): {url}")
    if status in (401, 403):
        hint = ""
        if response.headers.get("X-RateLimit-Remaining") == "0":
            hint = " (GitHub rate limit exhausted; set GITHUB_TOKEN or wait)"
        elif status == 401 and is_api:
            hint = " (check GITHUB_TOKEN)"
        raise CatalogError(f"access denied (HTTP {status}){hint}: {url}")
    if status == 429 or status >= 500:
        raise _Transient(f"server error (HTTP {status}): {url}")
    raise CatalogError(f"unexpected HTTP {status}: {url}")
