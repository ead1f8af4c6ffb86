"""Parse the text after `/matchmaker` into a command. Pure: no I/O, never raises.

Anything that is not a valid command becomes `Invalid` (with usage) or `Unknown` (with a
"did you mean" suggestion from difflib), so the handler can always answer with a help message.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import available_timezones

from bot.core.vocabulary import Level, parse_level, parse_weekday
from bot.slack import people_commands as pc
from bot.slack.escape import mrkdwn_escape

LEVELS: tuple[str, ...] = tuple(level.value for level in Level)
MAX_PICKS = 10
MAX_STACK_TEXT = 1000
_GITHUB_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_GITHUB_URL = re.compile(r"^(?:https?://)?(?:www\.)?github\.com/([^/\s?#]+)/?$", re.IGNORECASE)
_TIME = re.compile(r"^([01]?\d|2[0-3])(?::([0-5]\d))?\s*(am|pm)?$", re.IGNORECASE)
_OFF = {"off", "none", "stop", "disable", "no"}
_ISSUE_REF = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:github\.com/)?"
    r"([A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38})/([A-Za-z0-9._-]{1,100})"
    r"(?:#|/issues/)(\d{1,9})/?$",
    re.IGNORECASE,
)

USAGE = {
    "help": "`/matchmaker help`",
    "stack": "`/matchmaker stack python, postgres, raft` (or just `stack` to see yours)",
    "level": "`/matchmaker level first-timer|some|experienced`",
    "github": "`/matchmaker github <login>` (or `github off`)",
    "picks": "`/matchmaker picks [n]` (n from 1 to 10)",
    "digest": "`/matchmaker digest weekly mon 09:00 Europe/Berlin` or `/matchmaker digest off`",
    "status": "`/matchmaker status`",
    "forget": "`/matchmaker forget` (asks for confirmation, then deletes everything about you)",
    "release": "`/matchmaker release` (all issues held for you) or "
    "`/matchmaker release owner/repo#123`",
    **pc.USAGE,
    "celebrate": "`/matchmaker celebrate on|off` (a DM, and a channel post if set up, when your "
    "PR merges; off by default)",
    "lists": "`/matchmaker lists` (admins)",
    "crawl": "`/matchmaker crawl now` (admins)",
    "stats": "`/matchmaker stats` (admins)",
}
SUBCOMMANDS = tuple(USAGE)
ADMIN_SUBCOMMANDS = frozenset({"lists", "crawl", "stats"})


@dataclass(frozen=True)
class Help:
    """Show the help text."""


@dataclass(frozen=True)
class ShowStack:
    """Show the stored stack."""


@dataclass(frozen=True)
class SetStack:
    """Replace the stack with what the member typed (normalised by the handler)."""

    text: str


@dataclass(frozen=True)
class ShowLevel:
    """Show the stored level."""


@dataclass(frozen=True)
class SetLevel:
    """Set the experience level."""

    level: str


@dataclass(frozen=True)
class ShowGitHub:
    """Show the linked GitHub login."""


@dataclass(frozen=True)
class SetGitHub:
    """Link a GitHub login (None unlinks)."""

    login: str | None


@dataclass(frozen=True)
class Picks:
    """On-demand picks now; `n=None` means the configured default."""

    n: int | None = None


@dataclass(frozen=True)
class ShowDigest:
    """Show the digest schedule."""


@dataclass(frozen=True)
class SetDigest:
    """Turn the weekly digest on/off; None fields keep the stored value."""

    enabled: bool
    day: str | None = None
    time: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class Status:
    """Profile, next digest, last picks."""


@dataclass(frozen=True)
class Forget:
    """Ask for confirmation, then delete everything about the member."""


@dataclass(frozen=True)
class ReleaseHolds:
    """Release the member's claim holds: all of them, or the one on `repo#number`."""

    repo: str | None = None  # lower-case "owner/name"
    number: int = 0


@dataclass(frozen=True)
class ShowCelebrate:
    """Show whether merge celebrations are on."""


@dataclass(frozen=True)
class SetCelebrate:
    """Turn merge celebrations on or off (off by default)."""

    on: bool


@dataclass(frozen=True)
class AdminLists:
    """Admin: the crawled lists."""


@dataclass(frozen=True)
class AdminCrawl:
    """Admin: crawl now."""


@dataclass(frozen=True)
class AdminStats:
    """Admin: usage statistics."""


@dataclass(frozen=True)
class Invalid:
    """A known sub-command with bad arguments."""

    subcommand: str
    message: str

    @property
    def usage(self) -> str:
        """How to use the sub-command."""
        return USAGE.get(self.subcommand, USAGE["help"])


@dataclass(frozen=True)
class Unknown:
    """Not a sub-command; `suggestion` is the closest one, if any."""

    word: str
    suggestion: str | None


Command = (
    Help
    | ShowStack
    | SetStack
    | ShowLevel
    | SetLevel
    | ShowGitHub
    | SetGitHub
    | Picks
    | ShowDigest
    | SetDigest
    | Status
    | Forget
    | ReleaseHolds
    | ShowCelebrate
    | SetCelebrate
    | AdminLists
    | AdminCrawl
    | AdminStats
    | pc.PeopleCommand
    | Invalid
    | Unknown
)

# Commands that only read or only answer; everything else writes to the database.
READ_ONLY = (
    Help,
    ShowStack,
    ShowLevel,
    ShowGitHub,
    ShowDigest,
    Status,
    ShowCelebrate,
    *pc.READ_ONLY,
    Invalid,
    Unknown,
)
# Commands that change the profile shown in the App Home.
PROFILE_CHANGES = (SetStack, SetLevel, SetGitHub, SetDigest, SetCelebrate)


def suggest(word: str) -> str | None:
    """The sub-command closest to a mistyped `word`, if one is close enough."""
    matches = difflib.get_close_matches(word.lower(), SUBCOMMANDS, n=1, cutoff=0.6)
    return matches[0] if matches else None


def parse(text: str | None) -> Command:
    """Parse the text after `/matchmaker` (never raises)."""
    cleaned = " ".join((text or "").replace("\u00a0", " ").split())
    if not cleaned:
        return Help()
    head, _, rest = cleaned.partition(" ")
    word = head.lower()
    parser = _PARSERS.get(word)
    if parser is None:
        return Unknown(word=head[:50], suggestion=suggest(word))
    return parser(rest.strip())


def _no_args(command: Command, name: str) -> Callable[[str], Command]:
    def parse_it(rest: str) -> Command:
        if rest:
            return Invalid(name, f"`{name}` takes no arguments.")
        return command

    return parse_it


def _stack(rest: str) -> Command:
    if not rest:
        return ShowStack()
    if len(rest) > MAX_STACK_TEXT:
        return Invalid("stack", f"That's too long: at most {MAX_STACK_TEXT} characters.")
    if not any(ch.isalnum() for ch in rest):
        return Invalid("stack", "List languages or topics, separated by commas.")
    return SetStack(rest)


def normalize_level(text: str) -> str | None:
    """`first timer`, `First-Timer`, `beginner` … -> a canonical level, else None."""
    level = parse_level(text)
    return level.value if level else None


def _level(rest: str) -> Command:
    if not rest:
        return ShowLevel()
    level = normalize_level(rest)
    if level is None:
        return Invalid("level", "The level must be one of: first-timer, some, experienced.")
    return SetLevel(level)


def parse_github_login(text: str) -> str | None:
    """A GitHub login from `login`, `@login` or `https://github.com/login`, else None."""
    candidate = text.strip()
    if candidate.startswith("<") and candidate.endswith(">"):  # Slack's escaped link form
        candidate = candidate[1:-1].split("|", 1)[0]
    url = _GITHUB_URL.match(candidate)
    if url:
        candidate = url.group(1)
    candidate = candidate.removeprefix("@")
    return candidate if _GITHUB_LOGIN.match(candidate) else None


def _github(rest: str) -> Command:
    if not rest:
        return ShowGitHub()
    if rest.lower() in _OFF:
        return SetGitHub(None)
    login = parse_github_login(rest)
    if login is None:
        return Invalid("github", "That isn't a GitHub login (letters, digits and single dashes).")
    return SetGitHub(login)


def _picks(rest: str) -> Command:
    if not rest:
        return Picks()
    if not re.fullmatch(r"\d{1,3}", rest):
        return Invalid("picks", "Give the number of picks as a number from 1 to 10.")
    n = int(rest)
    if not 1 <= n <= MAX_PICKS:
        return Invalid("picks", f"You can ask for 1 to {MAX_PICKS} picks at a time.")
    return Picks(n)


def parse_time(text: str) -> str | None:
    """`9`, `9:30`, `09:00`, `9am`, `5:30pm` -> "HH:MM" (24 h), else None."""
    match = _TIME.match(text.strip())
    if not match:
        return None
    hour, minute, ampm = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
    elif match.group(2) is None:
        return None  # a bare number is ambiguous
    return f"{hour:02d}:{minute:02d}"


@functools.cache
def _zones_by_key() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_timezone(text: str) -> str | None:
    """An IANA timezone name (`Europe/Berlin`, `utc`), case-insensitively, else None."""
    if len(text) > 64:
        return None
    return _zones_by_key().get(text.lower())


def _digest(rest: str) -> Command:
    if not rest:
        return ShowDigest()
    words = rest.split()
    first = words[0].lower()
    if first in _OFF and len(words) == 1:
        return SetDigest(enabled=False)
    if first == "on" and len(words) == 1:
        return SetDigest(enabled=True)
    if first != "weekly":
        return Invalid("digest", "Say `digest weekly …` or `digest off`.")
    day = time = tz = None
    for word in words[1:]:
        low = word.lower()
        weekday = parse_weekday(low)
        if weekday is not None and day is None:
            day = weekday.value
        elif parse_time(word) and time is None:
            time = parse_time(word)
        elif parse_timezone(word) and tz is None:
            tz = parse_timezone(word)
        else:
            return Invalid("digest", f"I don't understand `{mrkdwn_escape(word[:40])}` here.")
    return SetDigest(enabled=True, day=day, time=time, timezone=tz)


def parse_issue_ref(text: str) -> tuple[str, int] | None:
    """`owner/repo#12` or a GitHub issue URL -> ("owner/repo" lower-cased, 12), else None."""
    candidate = text.strip()
    if candidate.startswith("<") and candidate.endswith(">"):  # Slack's escaped link form
        candidate = candidate[1:-1].split("|", 1)[0]
    match = _ISSUE_REF.match(candidate)
    if not match or match.group(2) in (".", ".."):
        return None
    number = int(match.group(3))
    if number < 1:
        return None
    return f"{match.group(1)}/{match.group(2)}".lower(), number


def _release(rest: str) -> Command:
    if not rest:
        return ReleaseHolds()
    ref = parse_issue_ref(rest)
    if ref is None:
        return Invalid("release", "Name the issue as `owner/repo#123` (or its GitHub link).")
    return ReleaseHolds(*ref)


def _celebrate(rest: str) -> Command:
    word = rest.lower()
    if not word:
        return ShowCelebrate()
    if word in ("on", "yes"):
        return SetCelebrate(on=True)
    if word in _OFF:
        return SetCelebrate(on=False)
    return Invalid("celebrate", "Say `celebrate on` or `celebrate off`.")


def _crawl(rest: str) -> Command:
    if rest.lower() not in ("", "now"):
        return Invalid("crawl", "Say `crawl now`.")
    return AdminCrawl()


_PARSERS = {
    "help": _no_args(Help(), "help"),
    "stack": _stack,
    "level": _level,
    "github": _github,
    "picks": _picks,
    "digest": _digest,
    "status": _no_args(Status(), "status"),
    "forget": _no_args(Forget(), "forget"),
    "release": _release,
    "celebrate": _celebrate,
    "lists": _no_args(AdminLists(), "lists"),
    "crawl": _crawl,
    "stats": _no_args(AdminStats(), "stats"),
}


def _people(name: str) -> Callable[[str], Command]:
    def parse_it(rest: str) -> Command:
        try:
            return pc.PARSERS[name](rest)
        except pc.BadInput as exc:
            return Invalid(name, str(exc))

    return parse_it


_PARSERS.update({name: _people(name) for name in pc.PARSERS})
