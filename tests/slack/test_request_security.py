"""Requests not signed by Slack are refused with 401 and change nothing; fuzzed command text
always gets an ephemeral reply and writes nothing when it is invalid."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import Session, select

from bot.fakes.slack import SIGNING_SECRET
from bot.fakes.slack import signing as s
from bot.slack import commands as c
from bot.store.models import Member


def _members(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Member)).one()


def _forged_requests():
    form = s.slash_command_form("level some")
    body, good = s.signed(SIGNING_SECRET, form=form)
    _, wrong_secret = s.signed("not-the-secret", form=form)
    _, old = s.signed(SIGNING_SECRET, form=form, timestamp=int(time.time()) - 6 * 60)
    tampered_body = body.replace("level+some", "level+experienced")
    missing_sig = {k: v for k, v in good.items() if k != "X-Slack-Signature"}
    missing_ts = {k: v for k, v in good.items() if k != "X-Slack-Request-Timestamp"}
    return {
        "wrong secret": (body, wrong_secret),
        "timestamp older than 5 minutes": (body, old),
        "body changed after signing": (tampered_body, good),
        "no signature header": (body, missing_sig),
        "no timestamp header": (body, missing_ts),
        "no headers at all": (body, {"Content-Type": "application/x-www-form-urlencoded"}),
    }


def test_unsigned_or_stale_requests_get_401_and_no_side_effect(slack, engine, fake_slack):
    for case, (body, headers) in _forged_requests().items():
        response = slack.post(body, headers)
        assert response.status_code == 401, case
    time.sleep(0.3)  # a lazy listener would have run by now
    assert _members(engine) == 0
    assert [call.method for call in fake_slack.calls if call.method != "auth.test"] == []


def test_a_correctly_signed_request_is_accepted(slack, engine):
    body, headers = s.signed(SIGNING_SECRET, form=s.slash_command_form("level some"))
    assert slack.post(body, headers).status_code == 200


COMMAND_TEXT = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda word, rest: f"{word} {rest}",
        st.sampled_from([*c.SUBCOMMANDS, "pick", "stak", "digest weekly", "level"]),
        st.text(max_size=40),
    ),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=COMMAND_TEXT)
def test_fuzzed_command_text_always_gets_an_ephemeral_reply(slack, engine, fake_slack, text):
    parsed = c.parse(text)
    writes = not isinstance(parsed, c.READ_ONLY)
    if isinstance(parsed, c.SetStack):
        from bot.match.taxonomy import normalize_stack

        writes = not normalize_stack(parsed.text).empty
    before = _members(engine)
    if isinstance(parsed, c.Picks | c.AdminCrawl):
        return  # covered elsewhere; slow paths
    reply = slack.reply(text, user_id="UFUZZ")
    assert reply.get("response_type") == "ephemeral"
    assert reply.get("text")
    assert "went wrong" not in reply["text"]
    if not writes:
        assert _members(engine) == before
