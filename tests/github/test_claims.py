"""The claim-comment classifier: precision first, multilingual, quoted text ignored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.github.claims import CommentView, claim_score, find_claim, is_claim

CLAIMS = [
    "I'd like to work on this!",
    "I would like to work on this issue, could you assign it to me?",
    "Can I take this?",
    "can i work on this one",
    "May I pick this up?",
    "/assign",
    "/assign me",
    ".take",
    "/claim",
    "assign me please",
    "Please assign this to me",
    "I'm working on this, PR soon",
    "I am currently working on a fix",
    "Hi, I'm interested in working on this",
    "I'll give it a try",
    "Let me take this",
    "Hola, me gustaría trabajar en este issue",
    "¿Puedo tomar este issue?",
    "Gostaria de trabalhar nessa issue",
    "Posso pegar essa?",
    "Ich würde gerne daran arbeiten",
    "Kann ich das übernehmen?",
    "Je voudrais travailler sur ce ticket",
    "Хочу взять эту задачу",
    "我想处理这个问题",
    "请分配给我",
    "この issue 担当します",
]

NOT_CLAIMS = [
    "",
    "Is anyone working on this?",
    "Is this still available?",
    "Feel free to take it!",
    "Anyone can pick this up, it is a good first issue.",
    "I'm no longer working on this, sorry.",
    "Please unassign me",
    "+1, I hit this too",
    "Thanks for the report!",
    "Can you take a look at the logs?",
    "The assign command is broken on Windows.",
    "> Can I take this?\n\nThe person above never opened a PR.",
    "```\n/assign\n```",
    "This would take a while to fix.",
    "I can reproduce this on 1.2.3",
]


@pytest.mark.parametrize("text", CLAIMS)
def test_claims_are_recognised(text: str) -> None:
    assert is_claim(text), (text, claim_score(text))


@pytest.mark.parametrize("text", NOT_CLAIMS)
def test_questions_invitations_and_chatter_are_not_claims(text: str) -> None:
    assert not is_claim(text), (text, claim_score(text))


@given(st.sampled_from(CLAIMS), st.text(max_size=40))
def test_a_quoted_claim_never_counts(claim: str, reply: str) -> None:
    quoted = "\n".join(f"> {line}" for line in claim.splitlines())
    assert claim_score(f"{quoted}\n\n{reply}") <= claim_score(reply)


@given(st.text(max_size=200))
def test_score_is_a_probability(text: str) -> None:
    assert 0.0 <= claim_score(text) <= 1.0


NOW = datetime(2026, 11, 24, tzinfo=UTC)


def view(author: str, body: str, days_ago: float) -> CommentView:
    return CommentView(author, body, NOW - timedelta(days=days_ago))


def test_find_claim_keeps_the_latest_and_its_text() -> None:
    comments = [view("ann", "Can I take this?", 10), view("bob", "/assign", 2)]
    claim = find_claim(comments, now=NOW, stale_after=timedelta(days=30))
    assert claim is not None and claim.author == "bob" and claim.text == "/assign"
    assert claim.active


def test_withdrawn_claim_is_dropped_and_old_claims_go_stale() -> None:
    withdrawn = [
        view("ann", "I'd like to work on this", 5),
        view("ann", "I'm not working on this anymore", 1),
    ]
    assert find_claim(withdrawn, now=NOW, stale_after=timedelta(days=30)) is None
    old = find_claim([view("ann", ".take", 90)], now=NOW, stale_after=timedelta(days=30))
    assert old is not None and not old.active
