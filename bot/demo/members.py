"""Sample members of the demo community (synthetic, like the demo world)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SampleMember:
    """A demo member: a fake Slack id, a name, what they typed as their stack, a level."""

    slack_user_id: str
    name: str
    stack: str
    level: str


SAMPLE_MEMBERS: tuple[SampleMember, ...] = (
    SampleMember("UDEMO0001", "Ada (demo)", "python, postgres", "first-timer"),
    SampleMember("UDEMO0002", "Grace (demo)", "go, raft", "some"),
    SampleMember("UDEMO0003", "Linus (demo)", "rust, storage engines", "experienced"),
    SampleMember("UDEMO0004", "Barbara (demo)", "java, kafka, streaming", "some"),
)
