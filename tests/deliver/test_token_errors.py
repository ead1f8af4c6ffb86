"""Issue 16, finding 1: a token Slack refuses stops the run without burning the week."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from bot.deliver.senders import TOKEN_ERRORS, SendError, TokenError
from bot.fakes.slack import BOT_TOKEN
from bot.store.models import Delivery, DigestRun
from bot.web import metrics
from tests.deliver.conftest import (
    MONDAY_9_UTC,
    ledger_counts,
    members_at,
    seed_issues,
    seed_members,
)
from tests.deliver.test_digest import run


def _posts_ok(slack) -> int:
    return len(slack.calls_for("chat.postMessage", ok_only=True))


def test_revoked_token_stops_at_once_and_everything_goes_out_once_restored(
    engine, settings, slack, sender
):
    seed_issues(engine)
    seed_members(engine, members_at(12))
    team = slack.tokens.pop(BOT_TOKEN)  # revoked: Slack answers invalid_auth from now on
    for tick in range(4):  # four ticks while the token is bad
        report = run(engine, settings, sender, now=MONDAY_9_UTC + timedelta(minutes=5 * tick))
        assert report.token_error == "invalid_auth"
        assert report.sent == 0 and report.failed == 0 and report.skipped == 0
        assert report.pending == 12
    # at most one refused call per sending thread and run, not one per member
    assert len(slack.calls_for("conversations.open")) <= 4 * settings.digest.send_concurrency
    assert ledger_counts(engine) == {"pending": 12}
    with Session(engine) as session:
        assert all(d.attempts == 0 for d in session.scalars(select(Delivery)))
        runs = session.scalars(select(DigestRun).order_by(DigestRun.id)).all()
        assert [r.status for r in runs] == ["token_error"] * 4
        assert runs[-1].error == "slack token: invalid_auth"
    slack.tokens[BOT_TOKEN] = team  # the operator fixed the token
    report = run(engine, settings, sender, now=MONDAY_9_UTC + timedelta(minutes=30))
    assert report.token_error is None and report.sent == 12
    assert ledger_counts(engine) == {"sent": 12}
    assert _posts_ok(slack) == 12


def test_token_revoked_mid_run_keeps_the_rest_pending(engine, settings, slack, sender):
    settings.digest.send_concurrency = 1
    seed_issues(engine)
    seed_members(engine, members_at(6))
    slack.fail_next("chat.postMessage", "token_revoked", times=1)  # then the token works again
    first = run(engine, settings, sender)
    assert first.token_error == "token_revoked" and first.sent == 0 and first.pending == 6
    assert len(slack.calls_for("chat.postMessage")) == 1
    second = run(engine, settings, sender, now=MONDAY_9_UTC + timedelta(minutes=5))
    assert second.sent == 6 and ledger_counts(engine) == {"sent": 6}


def test_account_inactive_is_the_token_not_the_member(engine, settings, slack, sender):
    """Slack: account_inactive = "Authentication token is for a deleted user or workspace"."""
    seed_issues(engine)
    seed_members(engine, members_at(5))
    slack.fail_next("conversations.open", "account_inactive", times=1)
    first = run(engine, settings, sender)
    assert first.token_error == "account_inactive" and first.skipped == 0
    assert "skipped" not in ledger_counts(engine) and first.pending == 5 - first.sent
    second = run(engine, settings, sender, now=MONDAY_9_UTC + timedelta(minutes=5))
    assert first.sent + second.sent == 5 and ledger_counts(engine) == {"sent": 5}


def test_a_row_left_sending_by_a_crash_is_still_looked_up_after_a_token_error(
    engine, settings, slack, sender
):
    seed_issues(engine)
    seed_members(engine, members_at(1))
    run(engine, settings, sender)  # sent
    with Session(engine) as session:
        row = session.scalars(select(Delivery)).one()
        row.state, row.claimed_at, row.slack_ts = "sending", MONDAY_9_UTC, None
        session.add(row)
        session.commit()
    team = slack.tokens.pop(BOT_TOKEN)
    later = MONDAY_9_UTC + timedelta(hours=1)
    assert run(engine, settings, sender, now=later).token_error == "invalid_auth"
    with Session(engine) as session:
        assert session.scalars(select(Delivery.state)).one() == "sending"
    slack.tokens[BOT_TOKEN] = team
    report = run(engine, settings, sender, now=later + timedelta(minutes=5))
    assert report.recovered == 1 and report.sent == 0
    assert _posts_ok(slack) == 1  # found on Slack, not posted twice


@pytest.mark.parametrize("code", sorted(TOKEN_ERRORS))
def test_every_token_error_raises_token_error_and_is_counted(slack, sender, code):
    before = metrics.SLACK_TOKEN_ERRORS.labels(error=code)._value.get()
    slack.fail_next("conversations.open", code)
    with pytest.raises(TokenError) as caught:
        sender.send("U1", blocks=[], text="hi", key="k")
    assert caught.value.reason == code and not caught.value.permanent
    assert metrics.SLACK_TOKEN_ERRORS.labels(error=code)._value.get() == before + 1
    assert metrics.SLACK_TOKEN_OK._value.get() == 0
    sender.send("U1", blocks=[], text="hi", key="k")
    assert metrics.SLACK_TOKEN_OK._value.get() == 1


def test_member_level_errors_are_not_token_errors(slack, sender):
    slack.missing_users.add("UGONE")
    with pytest.raises(SendError) as caught:
        sender.send("UGONE", blocks=[], text="hi", key="k")
    assert not isinstance(caught.value, TokenError) and caught.value.permanent
