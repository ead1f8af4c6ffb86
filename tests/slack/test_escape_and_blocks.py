"""mrkdwn escaping, pick cards and Slack's limits, without a server."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.slack.blocks import (
    MAX_MESSAGE_BLOCKS,
    MAX_SECTION_TEXT,
    fallback_text,
    limit_blocks,
    mark_pick,
    pick_blocks,
    sibling_ids,
)
from bot.slack.escape import link, mrkdwn_escape, safe_url, truncate

HOSTILE = [
    "<!channel> please look",
    "ping <@U024BE7LH> and <!here>",
    "<http://evil.example|github.com/acme/db>",
    "AT&T <script>",
    "<!subteam^S123|@admins>",
]


@dataclass
class Rec:
    issue_id: int = 1
    repo_full_name: str = "acme/raftdb"
    issue_number: int = 7
    title: str = "Fix the thing"
    url: str = "https://github.com/acme/raftdb/issues/7"
    labels: list[str] = field(default_factory=lambda: ["good first issue"])
    reasons: list[str] = field(default_factory=lambda: ["Python", "Raft"])
    signals: dict[str, Any] = field(
        default_factory=lambda: {"age_days": 3, "comments": 0, "maintainer_response_hours": 20}
    )


def _all_text(blocks) -> str:
    return str(blocks)


@given(st.text())
def test_escaped_text_has_no_control_brackets_and_round_trips(text):
    escaped = mrkdwn_escape(text)
    assert "<" not in escaped and ">" not in escaped
    assert html.unescape(escaped) == text or "&" in text  # html.unescape also decodes &#…;
    assert escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == text


@given(st.text(), st.integers(min_value=1, max_value=50))
def test_truncate_respects_the_limit_and_marks_cuts(text, limit):
    cut = truncate(mrkdwn_escape(text), limit)
    assert len(cut) <= limit
    if len(mrkdwn_escape(text)) > limit:
        assert cut.endswith("…")
        assert not cut[:-1].endswith(("&", "&a", "&am", "&l", "&g", "&lt", "&gt", "&amp"[:3]))


def test_hostile_titles_never_ping_or_disguise_links():
    recs = [Rec(issue_id=i, title=t, repo_full_name="<!everyone>/x") for i, t in enumerate(HOSTILE)]
    text = _all_text(pick_blocks(recs, header="Picks")) + fallback_text(recs)
    for bad in (
        "<!channel>",
        "<!here>",
        "<@U024BE7LH>",
        "<http://evil",
        "<!subteam",
        "<!everyone>",
    ):
        assert bad not in text
    assert "&lt;!channel&gt;" in text
    # the only links are the real issue URLs
    assert "<https://github.com/acme/raftdb/issues/7|" in text


def test_unsafe_urls_are_not_linked():
    assert safe_url("javascript:alert(1)") is None
    assert link("javascript:alert(1)", "x") == "x"
    assert safe_url("https://github.com/a/b/issues/1?x=1&y=<2>|z") == (
        "https://github.com/a/b/issues/1?x=1&amp;y=%3C2%3E%7Cz"
    )


def test_card_has_title_link_why_signals_and_three_buttons():
    blocks = pick_blocks([Rec()], header="Your picks")
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Your picks", "emoji": True},
    }
    section = blocks[1]["text"]["text"]
    assert "<https://github.com/acme/raftdb/issues/7|Fix the thing>" in section
    assert "Python · Raft" in section
    signals = blocks[2]["elements"][0]["text"]
    assert "`good first issue`" in signals and "opened 3 days ago" in signals
    assert "no comments yet" in signals and "~20 h" in signals
    buttons = blocks[3]["elements"]
    assert [b["action_id"] for b in buttons] == ["pick_interested", "pick_not_for_me", "pick_taken"]
    assert {b["value"] for b in buttons} == {"1"}


def test_many_picks_stay_within_50_blocks_with_a_note():
    recs = [Rec(issue_id=i) for i in range(30)]
    blocks = pick_blocks(recs, header="Lots")
    assert len(blocks) <= MAX_MESSAGE_BLOCKS
    assert "more that didn't fit" in str(blocks[-1])


def test_huge_title_is_cut_with_an_ellipsis():
    blocks = pick_blocks([Rec(title="&" * 10_000, reasons=["x" * 5_000])], header="h" * 500)
    assert len(blocks[0]["text"]["text"]) <= 150
    section = blocks[1]["text"]["text"]
    assert len(section) <= MAX_SECTION_TEXT and section.endswith("…")
    assert len(fallback_text([Rec(title="t" * 10_000)] * 10)) <= 3000


def test_no_picks_still_has_text():
    assert pick_blocks([], header="Picks")[1]["type"] == "section"
    assert fallback_text([]) == "No available picks right now."


def test_mark_pick_replaces_only_that_cards_buttons():
    blocks = pick_blocks([Rec(issue_id=1), Rec(issue_id=2)], header="h")
    marked = mark_pick(blocks, 2, "taken")
    assert str(marked).count("pick_interested") == 1
    assert "already taken" in str(marked)
    actions_id = next(b["block_id"] for b in marked if b.get("block_id", "").startswith("pick:1:a"))
    assert sibling_ids(actions_id) == [1, 2]


def test_limit_blocks():
    blocks = [{"type": "divider"}] * 120
    limited = limit_blocks(blocks, 100)
    assert len(limited) == 100 and limited[-1]["type"] == "context"


def test_card_says_what_the_repository_expects_before_you_start() -> None:
    from bot.slack.blocks import pick_card

    rules = {
        "contributing": True,
        "code_of_conduct": False,
        "assign_first": True,
        "ai_policy": "restricted",
        "gfi_policy": False,
        "sign_off": True,
        "cla": False,
    }
    blocks = pick_card(Rec(signals={"expects": rules}))
    (expects,) = [b for b in blocks if b.get("block_id", "").endswith(":expects")]
    text = expects["elements"][0]["text"]
    assert text == (
        "*Before you start:* ask to be assigned first · no AI-generated contributions · "
        "sign off your commits (DCO) · read CONTRIBUTING"
    )
    nothing = {key: False for key in rules} | {"ai_policy": None}
    for signals in ({}, {"expects": nothing}):
        assert not any(
            b.get("block_id", "").endswith(":expects") for b in pick_card(Rec(signals=signals))
        )
