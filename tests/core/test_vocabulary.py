"""One vocabulary: the button table drives cards and stored values; levels and weekdays parse."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.core.vocabulary import (
    FEEDBACK_BUTTONS,
    Level,
    Weekday,
    parse_level,
    parse_weekday,
)
from bot.slack.actions import FEEDBACK_KIND
from bot.slack.blocks import STATE_BY_ACTION, STATE_NOTES, mark_pick, outcome_block


def test_a_card_shows_exactly_the_buttons_of_the_table():
    block = outcome_block(7, None)
    shown = [(e["action_id"], e["text"]["text"], e["value"]) for e in block["elements"]]
    assert shown == [(b.action_id, b.label, "7") for b in FEEDBACK_BUTTONS]


def test_each_button_stores_its_kind_and_state_and_the_card_says_so():
    for b in FEEDBACK_BUTTONS:
        assert FEEDBACK_KIND[b.action_id] == b.kind.value
        assert STATE_BY_ACTION[b.action_id] == b.state.value
        card = mark_pick([outcome_block(7, None)], 7, b.state.value)
        assert b.note in str(card) and b.action_id not in str(card)
    assert set(STATE_NOTES) == {b.state.value for b in FEEDBACK_BUTTONS}


@given(st.sampled_from(list(Weekday)), st.sampled_from(["lower", "upper", "title"]))
def test_every_spelling_of_a_weekday_parses_to_it(day: Weekday, case: str) -> None:
    for spelling in day.spellings():
        assert parse_weekday(getattr(spelling, case)()) is day


@given(st.text(max_size=20))
def test_parse_level_never_raises_and_only_returns_levels(text: str) -> None:
    assert parse_level(text) in (None, *Level)


def test_level_spellings() -> None:
    assert [parse_level(t) for t in ("First timer", "some_experience", "Expert", "guru")] == [
        Level.FIRST_TIMER,
        Level.SOME,
        Level.EXPERIENCED,
        None,
    ]
