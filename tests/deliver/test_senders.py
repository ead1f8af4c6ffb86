"""Senders and pacing: console rendering, pacing per channel and workspace, Retry-After."""

from __future__ import annotations

import io
from types import SimpleNamespace

from bot.deliver.pacing import Pacer
from bot.deliver.render import blocks_to_text
from bot.deliver.senders import ConsoleSender, SendError, retry_after_seconds
from bot.slack.blocks import pick_blocks
from tests.deliver.conftest import Rec, make_sender


def _rec(issue_id: int, title: str) -> Rec:
    return Rec(1, issue_id, "org/db", issue_id, title, f"https://github.com/org/db/issues/{issue_id}",
               ["good first issue"], 1.0, ["Python", "databases"])  # fmt: skip


def test_console_sender_prints_the_same_blocks_as_readable_text():
    out = io.StringIO()
    blocks = pick_blocks([_rec(7, "Fix <script> & docs")], header="Your picks")
    sent = ConsoleSender(out).send("U1", blocks=blocks, text="fallback", key="k")
    text = out.getvalue()
    assert "to U1" in text and "Your picks" in text
    assert "Fix <script> & docs" in text  # entities decoded for the terminal
    assert "https://github.com/org/db/issues/7" in text
    assert "[Interested]" in text or "Interested" in text
    assert sent.ts == "console-1"


def test_mrkdwn_links_become_label_and_url():
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "<https://x.y/1|*A &amp; B*>"}}
    ]
    assert blocks_to_text(blocks) == "*A & B* (https://x.y/1)"


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


def test_pacer_spaces_messages_by_workspace_rate_and_one_per_second_per_channel():
    fake = FakeClock()
    pacer = Pacer(10.0, clock=fake.clock, sleep=fake.sleep)
    for channel in ["D1", "D2", "D3", "D1"]:
        pacer.wait(channel)
    # D1, D2, D3 at 0.0, 0.1, 0.2; D1 again only one second after its first message
    assert fake.t == 1.0


def test_pacer_pause_holds_every_sender():
    fake = FakeClock()
    pacer = Pacer(100.0, clock=fake.clock, sleep=fake.sleep)
    pacer.wait("D1")
    pacer.pause(3.0)
    pacer.wait("D2")
    assert fake.t == 3.0 and pacer.pauses == 1


def test_retry_after_header_is_read_in_seconds():
    response = SimpleNamespace(headers={"Retry-After": ["7"]})
    assert retry_after_seconds(response) == 7.0  # type: ignore[arg-type]
    assert retry_after_seconds(None) == 1.0


def test_slack_errors_are_classified(slack):
    sender = make_sender(slack)
    slack.missing_users.add("UGONE")
    try:
        sender.send("UGONE", blocks=[], text="hi", key="k")
    except SendError as exc:
        assert exc.permanent and exc.reason == "user_not_found"
    slack.fail_next("chat.postMessage", "internal_error")
    try:
        sender.send("U2", blocks=[], text="hi", key="k2")
    except SendError as exc:
        assert not exc.permanent and not exc.ambiguous
    found = sender.send("U3", blocks=[], text="hi", key="k3")
    assert sender.find_sent("U3", "k3") == found
    assert sender.find_sent("U3", "other") is None


def test_pacer_slows_down_after_429s_and_recovers_after_a_quiet_run():
    """Issue 16, finding 7: the send rate adapts down after 429s instead of staying put."""
    from bot.deliver.pacing import RECOVER_AFTER

    fake = FakeClock()
    pacer = Pacer(10.0, per_channel_interval=0, clock=fake.clock, sleep=fake.sleep)
    pacer.slow_down()
    pacer.slow_down()
    assert abs(pacer.rate - 10.0 * 0.7 * 0.7) < 1e-9
    start = fake.t
    pacer.wait(None)
    pacer.wait(None)
    assert abs((fake.t - start) - 1 / (10.0 * 0.49)) < 1e-9  # slots spaced at the lower rate
    for _ in range(50):
        pacer.slow_down()
    assert pacer.rate == 1.0  # floor: a tenth of the configured rate
    for _ in range(RECOVER_AFTER * 40):
        pacer.succeeded()
    assert pacer.rate == 10.0  # never above the configured rate


def test_a_429_storm_lowers_the_senders_rate():
    from bot.fakes.slack import FakeSlack
    from tests.deliver.conftest import make_sender

    slack = FakeSlack()
    slack.start()
    try:
        sender = make_sender(slack, rate=50.0)
        slack.rate_limit_next("chat.postMessage", retry_after=0, times=3)
        sender.send("U1", blocks=[], text="hi", key="k1")
        assert sender.pacer.rate < 50.0 * 0.95 * 0.7 * 0.7
    finally:
        slack.stop()
