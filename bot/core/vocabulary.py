"""The project's one vocabulary: feedback kinds, pick states, levels, weekdays, feedback buttons.

Stored values are the enum values (unchanged strings in the database). Adding a feedback button
is one `FeedbackButton` row in `FEEDBACK_BUTTONS` plus whatever its click should do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class FeedbackKind(StrEnum):
    """`Feedback.kind`: what a member said about a pick."""

    INTERESTED = "interested"
    NOT_FOR_ME = "not_for_me"
    ALREADY_TAKEN = "already_taken"


class PickState(StrEnum):
    """`Pick.state`."""

    SHOWN = "shown"
    INTERESTED = "interested"
    NOT_FOR_ME = "not_for_me"
    TAKEN = "taken"
    WITHDRAWN = "withdrawn"  # replaced before sending (the issue became unavailable)


PICK_STATE_LABELS: dict[PickState, str] = {
    PickState.SHOWN: "shown",
    PickState.INTERESTED: "interested",
    PickState.NOT_FOR_ME: "not for me",
    PickState.TAKEN: "already taken",
    PickState.WITHDRAWN: "withdrawn",
}


@dataclass(frozen=True)
class FeedbackButton:
    """One button on a pick card: its Slack action id, what it stores and what users read."""

    action_id: str
    kind: FeedbackKind  # stored in Feedback.kind
    state: PickState  # Pick.state after the click
    label: str  # the button's text on cards and App Home
    note: str  # what the card says once clicked
    style: str | None = None  # Slack button style


FEEDBACK_BUTTONS: tuple[FeedbackButton, ...] = (
    FeedbackButton(
        "pick_interested",
        FeedbackKind.INTERESTED,
        PickState.INTERESTED,
        "Interested",
        ":raised_hands: You're interested. Say hi on the issue before you start!",
        "primary",
    ),
    FeedbackButton(
        "pick_not_for_me",
        FeedbackKind.NOT_FOR_ME,
        PickState.NOT_FOR_ME,
        "Not for me",
        ":wave: Not for you. Fewer picks like this one from now on.",
    ),
    FeedbackButton(
        "pick_taken",
        FeedbackKind.ALREADY_TAKEN,
        PickState.TAKEN,
        "Already taken",
        ":no_entry: Marked as already taken: you won't get it again. "
        "I'm checking GitHub; others stop getting it once GitHub or your colleagues confirm.",
        "danger",
    ),
)
BUTTON_BY_ACTION: dict[str, FeedbackButton] = {b.action_id: b for b in FEEDBACK_BUTTONS}
BUTTON_BY_STATE: dict[PickState, FeedbackButton] = {b.state: b for b in FEEDBACK_BUTTONS}


class Level(StrEnum):
    """How much open-source experience a member has (`Member.level`)."""

    FIRST_TIMER = "first-timer"
    SOME = "some"
    EXPERIENCED = "experienced"

    @property
    def code(self) -> int:
        """0, 1, 2: the row of the level in the matcher's arrays."""
        return list(Level).index(self)


LEVEL_ALIASES: dict[str, Level] = {
    "first-timer": Level.FIRST_TIMER,
    "first timer": Level.FIRST_TIMER,
    "firsttimer": Level.FIRST_TIMER,
    "first-time": Level.FIRST_TIMER,
    "beginner": Level.FIRST_TIMER,
    "new": Level.FIRST_TIMER,
    "newcomer": Level.FIRST_TIMER,
    "some": Level.SOME,
    "intermediate": Level.SOME,
    "some experience": Level.SOME,
    "experienced": Level.EXPERIENCED,
    "expert": Level.EXPERIENCED,
    "senior": Level.EXPERIENCED,
    "advanced": Level.EXPERIENCED,
}


def _level_key(text: str) -> str:
    return re.sub(r"[\s_-]+", "", text.strip().lower())


_LEVEL_KEYS = {_level_key(alias): level for alias, level in LEVEL_ALIASES.items()}


def parse_level(text: str | None) -> Level | None:
    """The level a member typed ("beginner", "First timer", "some_experience"), else None."""
    return _LEVEL_KEYS.get(_level_key(text or ""))


class Weekday(StrEnum):
    """A digest weekday as stored (`Member.digest_day`, `digest.day`)."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def number(self) -> int:
        """0 for Monday … 6 for Sunday (`date.weekday()`)."""
        return list(Weekday).index(self)

    @property
    def full_name(self) -> str:
        """ "Monday" … "Sunday"."""
        return _FULL_NAMES[self]

    def spellings(self) -> set[str]:
        """What a member may type for this day: mon, monday, mondays, tues, thurs."""
        full = self.full_name.lower()
        extra = {Weekday.TUE: "tues", Weekday.THU: "thurs"}.get(self, self.value)
        return {self.value, full, full + "s", extra}


_FULL_NAMES = {
    Weekday.MON: "Monday",
    Weekday.TUE: "Tuesday",
    Weekday.WED: "Wednesday",
    Weekday.THU: "Thursday",
    Weekday.FRI: "Friday",
    Weekday.SAT: "Saturday",
    Weekday.SUN: "Sunday",
}
WEEKDAYS: tuple[str, ...] = tuple(day.value for day in Weekday)
WEEKDAY_NAMES: dict[str, str] = {day.value: day.full_name for day in Weekday}


def parse_weekday(word: str) -> Weekday | None:
    """The weekday a member typed ("Mon", "tuesdays", …), None when it is not one."""
    low = word.strip().lower()
    day = Weekday._value2member_map_.get(low[:3])
    return day if isinstance(day, Weekday) and low in day.spellings() else None


# -- people (mentors, buddies, intros): the buttons of their messages ------------------------


class IntroKind(StrEnum):
    """`Intro.kind`."""

    MENTOR = "mentor"
    BUDDY = "buddy"


class IntroState(StrEnum):
    """`Intro.state`."""

    OFFERED = "offered"  # a mentor intro offered to the mentee, not answered yet
    DECLINED = "declined"  # the mentee said "No thanks" (or the offer lapsed)
    ACCEPTED = "accepted"  # the group DM is queued
    OPEN = "open"  # the group DM was posted
    CLOSED = "closed"  # someone said it didn't work out


class IntroAnswer(StrEnum):
    """`IntroSide.answer`: the reply to "did you meet?"."""

    MET = "met"
    NOT_YET = "not_yet"
    DIDNT_WORK = "didnt_work"


@dataclass(frozen=True)
class PeopleButton:
    """A button of a people message: its Slack action id, label, what the message says after."""

    action_id: str
    label: str
    note: str
    style: str | None = None


OFFER_YES = PeopleButton(
    "people_offer_yes", "Yes, introduce us", ":handshake: Done: I opened a group DM.", "primary"
)
OFFER_NO = PeopleButton("people_offer_no", "No thanks", "OK, no intro.")
INVITE_YES = PeopleButton(
    "people_invite_yes", "Yes, I'll mentor", ":star2: Thanks! You're a mentor now.", "primary"
)
INVITE_NO = PeopleButton("people_invite_no", "No thanks", "OK, I won't ask again.")
POST_YES = PeopleButton("people_post_yes", "Post my intro", ":wave: Posted.", "primary")
POST_NO = PeopleButton("people_post_no", "No thanks", "OK, nothing posted.")
ANSWER_BUTTONS: dict[IntroAnswer, PeopleButton] = {
    IntroAnswer.MET: PeopleButton(
        "people_met", "Yes", ":tada: Great, thanks for telling me!", "primary"
    ),
    IntroAnswer.NOT_YET: PeopleButton(
        "people_not_yet", "Not yet", "OK. There's no rush; the group DM stays open."
    ),
    IntroAnswer.DIDNT_WORK: PeopleButton(
        "people_didnt_work", "Didn't work out", "Thanks for telling me. I've closed this intro."
    ),
}
ANSWER_BY_ACTION: dict[str, IntroAnswer] = {b.action_id: a for a, b in ANSWER_BUTTONS.items()}
PEOPLE_BUTTONS: tuple[PeopleButton, ...] = (
    OFFER_YES,
    OFFER_NO,
    INVITE_YES,
    INVITE_NO,
    POST_YES,
    POST_NO,
    *ANSWER_BUTTONS.values(),
)


# -- claim holds: the buttons of the halfway "still on it?" DM ---------------------------------

HOLD_KEEP = PeopleButton(
    "hold_keep", "Keep it", ":muscle: Kept: it stays yours until {until}.", "primary"
)
HOLD_RELEASE = PeopleButton(
    "hold_release", "Release it", ":unlock: Released: others in the community can get it now."
)
HOLD_BUTTONS: tuple[PeopleButton, ...] = (HOLD_KEEP, HOLD_RELEASE)


class PickOutcomeState(StrEnum):
    """`PickOutcome.state`: what became of a pick on GitHub (issue 19)."""

    NONE = "none"  # nothing seen yet
    COMMENTED = "commented"  # the member commented on the issue after the pick
    PR_OPENED = "pr_opened"  # the member opened a PR that closes or mentions it
    MERGED = "merged"  # the member's closing PR merged
    CLOSED_BY_OTHER = "closed_by_other"  # closed without the member's merged PR
