"""Parse the people sub-commands: `mentor`, `buddies`, `intros`, `nopair`. Pure, never raises
anything but `BadInput` (turned into an `Invalid` reply by `bot.slack.commands`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.slack.escape import mrkdwn_escape

USAGE = {
    "mentor": "`/matchmaker mentor on [owner/repo, topic …]`, `mentor pause` or `mentor off`",
    "buddies": "`/matchmaker buddies on|off` (intros to members looking at the same projects)",
    "intros": "`/matchmaker intros on|off` (a short intro post in the intros channel)",
    "nopair": "`/matchmaker nopair @member` / `nopair remove @member` (private; never paired)",
}
MAX_SCOPE = 20
_REPO = re.compile(r"^(?:https?://)?(?:www\.)?(?:github\.com/)?([\w.-]+/[\w.-]+?)(?:\.git)?/?$")
_TOPIC = re.compile(r"^[a-z0-9][a-z0-9+#.-]{0,49}$")
_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")


class BadInput(ValueError):
    """The arguments of a people sub-command are wrong; the message says why."""


@dataclass(frozen=True)
class ShowPeople:
    """Show the member's people settings (roles, buddies, intros, do-not-pair list)."""


@dataclass(frozen=True)
class SetMentor:
    """`mentor on [scope]` / `mentor off`."""

    on: bool
    scope: tuple[str, ...] = ()


@dataclass(frozen=True)
class PauseMentor:
    """`mentor pause`: no new mentees until `mentor on`."""


@dataclass(frozen=True)
class SetBuddies:
    """`buddies on|off`."""

    on: bool


@dataclass(frozen=True)
class SetIntros:
    """`intros on|off`: post (once) or never offer the intros-channel post."""

    on: bool


@dataclass(frozen=True)
class NoPairCommand:
    """`nopair @member` (add) or `nopair remove @member`."""

    user_id: str
    remove: bool = False


PeopleCommand = ShowPeople | SetMentor | PauseMentor | SetBuddies | SetIntros | NoPairCommand
READ_ONLY = (ShowPeople,)


def _on_off(rest: str, name: str) -> bool | None:
    word = rest.lower()
    if word in ("on", "yes"):
        return True
    if word in ("off", "no", "stop"):
        return False
    if not word:
        return None
    raise BadInput(f"Say `{name} on` or `{name} off`.")


def scope_term(word: str) -> str:
    """A scope word as stored: `owner/name` (lower-case) or a topic; `BadInput` otherwise."""
    low = word.strip().lower()
    if "/" in low:
        match = _REPO.match(low.strip("<>").split("|")[0])
        if not match:
            raise BadInput(f"`{mrkdwn_escape(word[:40])}` isn't a repository (owner/name).")
        return match.group(1)
    if not _TOPIC.match(low):
        raise BadInput("Topics are single words like `raft` or `key-value`.")
    return low


def _mentor(rest: str) -> PeopleCommand:
    words = [w for w in re.split(r"[,\s]+", rest) if w]
    if not words:
        return ShowPeople()
    head = words[0].lower()
    if head == "pause" and len(words) == 1:
        return PauseMentor()
    if head in ("off", "stop") and len(words) == 1:
        return SetMentor(on=False)
    if head != "on":
        raise BadInput("Say `mentor on`, `mentor on owner/repo`, `mentor pause` or `mentor off`.")
    if len(words) - 1 > MAX_SCOPE:
        raise BadInput(f"At most {MAX_SCOPE} repositories or topics.")
    return SetMentor(on=True, scope=tuple(dict.fromkeys(scope_term(w) for w in words[1:])))


def _buddies(rest: str) -> PeopleCommand:
    on = _on_off(rest, "buddies")
    return ShowPeople() if on is None else SetBuddies(on)


def _intros(rest: str) -> PeopleCommand:
    on = _on_off(rest, "intros")
    return ShowPeople() if on is None else SetIntros(on)


def parse_user(word: str) -> str:
    """The Slack user id of `<@U123|name>` or `U123`; `BadInput` for anything else."""
    match = _MENTION.match(word)
    if match:
        return match.group(1)
    if _USER_ID.match(word):
        return word
    raise BadInput("Mention the member with @ and pick them from Slack's list.")


def _nopair(rest: str) -> PeopleCommand:
    words = rest.split()
    if not words:
        return ShowPeople()
    remove = words[0].lower() in ("remove", "rm", "delete")
    if remove:
        words = words[1:]
    if len(words) != 1:
        raise BadInput("Name one member: `nopair @member` or `nopair remove @member`.")
    return NoPairCommand(user_id=parse_user(words[0]), remove=remove)


PARSERS: dict[str, Callable[[str], PeopleCommand]] = {
    "mentor": _mentor,
    "buddies": _buddies,
    "intros": _intros,
    "nopair": _nopair,
}
