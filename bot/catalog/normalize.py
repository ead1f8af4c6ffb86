"""Pure normalisation: link URLs -> owner/repo, language tags, section headings -> topics."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from urllib.parse import urlsplit

GITHUB_REPO = "github_repo"
GITHUB_SUBPATH = "github_subpath"
OTHER = "other"

SECTION_SEPARATOR = " › "

# First path segments of github.com that are not user or organisation names.
_GITHUB_RESERVED = frozenset(
    [
        "about",
        "account",
        "apps",
        "collections",
        "contact",
        "customer-stories",
        "enterprise",
        "events",
        "explore",
        "features",
        "issues",
        "login",
        "marketplace",
        "new",
        "notifications",
        "orgs",
        "organizations",
        "pricing",
        "pulls",
        "readme",
        "search",
        "security",
        "settings",
        "site",
        "sponsors",
        "stars",
        "team",
        "topics",
        "trending",
        "users",
    ]
)
_OWNER_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")

# Language tag variants (compared lower-case, spaces removed) -> canonical tag.
_LANGUAGES: dict[str, tuple[str, ...]] = {
    "go": ("go", "golang", "go-lang"),
    "c++": ("c++", "cpp", "cplusplus", "cxx"),
    "c": ("c", "ansic"),
    "c#": ("c#", "csharp", ".net", "dotnet"),
    "fsharp": ("f#", "fsharp"),
    "python": ("python", "py", "python3", "python2"),
    "javascript": ("javascript", "js", "node", "nodejs", "node.js", "ecmascript"),
    "typescript": ("typescript", "ts"),
    "rust": ("rust", "rs", "rustlang"),
    "java": ("java",),
    "kotlin": ("kotlin", "kt"),
    "scala": ("scala",),
    "clojure": ("clojure", "clj"),
    "erlang": ("erlang", "erl"),
    "elixir": ("elixir",),
    "haskell": ("haskell", "hs"),
    "ocaml": ("ocaml",),
    "ruby": ("ruby", "rb"),
    "php": ("php",),
    "lua": ("lua", "luajit"),
    "zig": ("zig",),
    "swift": ("swift",),
    "objective-c": ("objective-c", "objc", "obj-c", "objectivec"),
    "dart": ("dart",),
    "prolog": ("prolog",),
    "shell": ("shell", "bash", "sh", "zsh"),
    "perl": ("perl",),
    "r": ("r",),
    "julia": ("julia",),
    "nim": ("nim",),
    "crystal": ("crystal",),
    "d": ("d", "dlang"),
    "groovy": ("groovy",),
    "elm": ("elm",),
    "sql": ("sql",),
}
_LANGUAGE_ALIASES = {alias: canon for canon, aliases in _LANGUAGES.items() for alias in aliases}

# Words that say nothing about a section's subject.
_WEB_LINK = re.compile(r"^https?://[^/\s]+", re.IGNORECASE)
_SLUG_WORDS = re.compile(r"[a-z0-9+#]+")
_FILLER_WORDS = frozenset({"other", "misc", "miscellaneous", "and", "the", "more", "various"})


@lru_cache(maxsize=4096)
def classify_url(url: str) -> tuple[str, str | None]:
    """Kind of link and lower-case "owner/name" for GitHub links.

    Normalises case, `www.`, trailing `.git`, `#readme`, query strings and `/tree/<branch>`
    (a branch root is still the repository itself); deeper paths are `github_subpath`.
    Anything that is not a repository on github.com is `other` with repo None.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return OTHER, None
    host = (parts.hostname or "").lower().removeprefix("www.")
    if parts.scheme.lower() not in ("http", "https") or host != "github.com":
        return OTHER, None
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2 or segments[0].lower() in _GITHUB_RESERVED:
        return OTHER, None
    owner, name = segments[0], segments[1].removesuffix(".git")
    if not _OWNER_RE.match(owner) or not _NAME_RE.match(name) or name in (".", ".."):
        return OTHER, None
    repo = f"{owner}/{name}".lower()
    rest = segments[2:]
    if not rest or (len(rest) == 2 and rest[0] == "tree"):
        return GITHUB_REPO, repo
    return GITHUB_SUBPATH, repo


def is_web_link(href: str) -> bool:
    """True for absolute http(s) links; anchors, relative paths and mailto: are not projects."""
    return bool(_WEB_LINK.match(href.strip()))


@lru_cache(maxsize=1024)
def canonical_language(tag: str) -> str | None:
    """Canonical language for a tag ("Golang", "GoLang", "Go" -> "go"; "C++", "cpp" -> "c++")."""
    key = re.sub(r"\s+", "", tag.strip().lower())
    return _LANGUAGE_ALIASES.get(key)


def slugify(text: str) -> str:
    """Lower-case words joined by dashes ("Key-Value  Databases" -> "key-value-databases")."""
    words = _SLUG_WORDS.findall(text.lower().replace("_", "-"))
    return "-".join(words)


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def heading_topics(heading: str, parents: Iterable[str] = ()) -> list[str]:
    """Topics of one heading: split on "," "/" "&" "and", drop words its parents already say.

    "Key-Value Databases" under "Databases" -> ["key-value"];
    "Relational, SQL, NewSQL Databases" -> ["relational", "sql", "newsql"].
    """
    parent_words = {_singular(w) for p in parents for w in re.findall(r"[a-z0-9]+", p.lower())}
    out: list[str] = []
    for part in re.split(r"\s*(?:,|/|&|\band\b|\|)\s*", heading.lower()):
        words = [
            w
            for w in re.findall(r"[a-z0-9+#]+(?:-[a-z0-9+#]+)*", part)
            if _singular(w) not in parent_words and w not in _FILLER_WORDS
        ]
        slug = "-".join(words)
        if slug and slug not in out:
            out.append(slug)
    return out


def section_topics(section: str | Sequence[str]) -> list[str]:
    """Topics for a section path ("Databases › Key-Value Databases" -> databases, key-value).

    Each heading contributes its own words minus the words of the headings above it; words of
    a split heading ("Relational, SQL, NewSQL Databases") become separate topics.
    """
    if isinstance(section, str):
        path = tuple(p for p in re.split(r"\s*›\s*", section) if p.strip())
    else:
        path = tuple(p for p in section if p.strip())
    return list(_path_topics(path))


@lru_cache(maxsize=1024)
def _path_topics(path: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for depth, heading in enumerate(path):
        for topic in heading_topics(heading, path[:depth]):
            if topic not in out:
                out.append(topic)
    if not out and path:
        # every word was filler or repeated: keep the last heading as it is
        slug = slugify(path[-1])
        if slug:
            out.append(slug)
    return tuple(out)


def _compact(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


_GENERIC_NAME_WORDS = frozenset(
    {"apache", "the", "project", "library", "framework", "database", "server", "client", "open"}
)


@lru_cache(maxsize=4096)
def name_matches_repo(name: str, repo: str) -> bool:
    """Whether an entry's name plausibly names the repository "owner/name" it links to.

    Case and punctuation are ignored; one shared distinctive word is enough
    ("Apache Zookeeper" ~ apache/zookeeper, "RiotSearch" ~ go-ego/riot, "ZeroMQ" ~ zeromq/libzmq).
    """
    owner, _, repo_name = repo.partition("/")
    name_c, owner_c, repo_c = _compact(name), _compact(owner), _compact(repo_name)
    if not name_c or not repo_c:
        return True
    if repo_c in name_c or name_c in repo_c or name_c == owner_c:
        return True
    name_words = [
        w
        for w in re.findall(r"[a-z0-9]+", name.lower())
        if len(w) >= 3 and w not in _GENERIC_NAME_WORDS
    ]
    repo_words = [w for w in re.findall(r"[a-z0-9]+", repo.lower()) if len(w) >= 3]
    return any(w in repo_c or w in owner_c for w in name_words) or any(
        w in name_c for w in repo_words if w not in _GENERIC_NAME_WORDS
    )


def clear_caches() -> None:
    """Forget memoised results (benchmarks use this to time cold parses)."""
    for function in (classify_url, canonical_language, _path_topics, name_matches_repo):
        function.cache_clear()
