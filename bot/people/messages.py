"""Block Kit of every people message: offers, group intros, follow-ups, notices, #intros posts.

Everything a member or GitHub wrote goes through `mrkdwn_escape`; mentions are built only from
Slack user ids; texts are cut to Slack's limits by the block helpers.
"""

from __future__ import annotations

import re
from typing import Any

from bot.core.vocabulary import (
    ANSWER_BUTTONS,
    INVITE_NO,
    INVITE_YES,
    OFFER_NO,
    OFFER_YES,
    POST_NO,
    POST_YES,
    IntroAnswer,
    IntroKind,
    PeopleButton,
)
from bot.slack.blocks import button, context, section
from bot.slack.escape import link, mrkdwn_escape, truncate
from bot.store.models import Issue, Member, Repository

Message = tuple[str, list[dict[str, Any]]]  # (fallback text, blocks)
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
MAX_TERMS = 6


def mention(user_id: str) -> str:
    """`<@U123>` for a real Slack user id, the escaped text otherwise."""
    return f"<@{user_id}>" if _USER_ID.match(user_id) else mrkdwn_escape(user_id)


def _label(term: str) -> str:
    from bot.match.taxonomy import get_taxonomy  # the taxonomy the member's stack was parsed with

    return get_taxonomy().label(term)


def _and(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def languages_of(member: Member) -> list[str]:
    """The member's typed languages as display names (at most a few)."""
    return [_label(t) for t in list(member.languages or {})[:MAX_TERMS]]


def topics_of(member: Member) -> list[str]:
    """The member's typed topics as display names (at most a few)."""
    return [_label(t) for t in list(member.topics or {})[:MAX_TERMS]]


def about(member: Member) -> str:
    """What the member said about themselves: `<@U1> (first-timer): Python, Raft` (escaped)."""
    terms = languages_of(member) + topics_of(member)
    stack = mrkdwn_escape(", ".join(terms)) if terms else "no stack set yet"
    return f"{mention(member.slack_user_id)} ({mrkdwn_escape(member.level)}): {stack}"


def _actions(block_id: str, value: str, *buttons: PeopleButton) -> dict[str, Any]:
    return {
        "type": "actions",
        "block_id": block_id[:255],
        "elements": [button(b.label, b.action_id, value, style=b.style) for b in buttons],
    }


def _repo_link(repo: Repository) -> str:
    return link(f"https://github.com/{repo.full_name}", repo.full_name, max_label=100)


def _issue_line(issue: Issue) -> str:
    return link(issue.url, f"#{issue.number} {issue.title}", max_label=150)


def mentor_offer(
    intro_id: int, mentor: Member, merged: int, repo: Repository, issue: Issue | None
) -> Message:
    """ "Want an intro to @mentor, who has merged N PRs in this repository?" (Yes / No thanks)."""
    who = mention(mentor.slack_user_id)
    if merged > 0:
        plural = "PR" if merged == 1 else "PRs"
        credit = f"who has merged {merged} {plural} in {_repo_link(repo)}"
    else:
        credit = f"who mentors newcomers in {_repo_link(repo)}"
    text = f"Want an intro to {who}, {credit}?"
    blocks = [section(text)]
    if issue is not None:
        blocks.append(context(f"About {_issue_line(issue)}"))
    blocks.append(_actions(f"people_offer:{intro_id}", str(intro_id), OFFER_YES, OFFER_NO))
    fallback = f"Want an intro to a mentor in {repo.full_name}?"
    return truncate(fallback, 300), blocks


def group_intro(
    kind: IntroKind,
    first: Member,
    second: Member,
    repo: Repository | None,
    issue: Issue | None,
    topic: str | None,
) -> Message:
    """The group DM's first message: who, why, what each said about themselves, a question."""
    where = _repo_link(repo) if repo else mrkdwn_escape(_label(topic or "the same topics"))
    if kind is IntroKind.MENTOR:
        lines = [
            f":wave: {mention(first.slack_user_id)}, meet {mention(second.slack_user_id)}, "
            f"who mentors newcomers in {where}.",
        ]
        if issue is not None:
            lines.append(f"*The issue:* {_issue_line(issue)}")
        question = (
            "What would you read first to understand the code this issue touches, "
            "and who reviews changes there?"
        )
    else:
        lines = [
            f":wave: {mention(first.slack_user_id)} and {mention(second.slack_user_id)}: "
            f"you both looked at {where} this week, so I thought you should meet."
        ]
        question = "What drew you to this project, and which issue are you looking at?"
    lines += [
        f"*About you:*\n• {about(first)}\n• {about(second)}",
        f"*A first question to break the ice:* {question}",
    ]
    blocks = [section("\n".join(lines)), context("Not a good fit? No problem: just let it be.")]
    return "Matchmaker introduction", blocks


def followup(side_id: int, other: Member, repo: Repository | None) -> Message:
    """ "Did you meet?" asked privately a week after an intro (Yes / Not yet / Didn't work out)."""
    where = f" about {_repo_link(repo)}" if repo else ""
    text = f"A week ago I introduced you to {mention(other.slack_user_id)}{where}. Did you meet?"
    buttons = [ANSWER_BUTTONS[a] for a in IntroAnswer]
    blocks = [section(text), _actions(f"people_followup:{side_id}", str(side_id), *buttons)]
    return "Did you meet?", blocks


def paused_notice(ignored: int) -> Message:
    """Why the member gets no more intros, and how to resume."""
    text = (
        f"You didn't answer my last {ignored} intros, so I've paused them: no new buddies or "
        "mentees for now. Say `/matchmaker buddies on` (or `/matchmaker mentor on`) "
        "whenever you want them back."
    )
    return "Intros paused", [section(text)]


def mentor_invite(repo: Repository, merged: int) -> Message:
    """The one invitation to mentor newcomers in a repository the member has merged PRs in."""
    plural = "PR" if merged == 1 else "PRs"
    text = (
        f"You've merged {merged} {plural} in {_repo_link(repo)}. Would you mentor newcomers "
        "there? At most a few at a time; pause any time with `/matchmaker mentor pause`."
    )
    assert repo.id is not None
    blocks = [
        section(text),
        _actions(f"people_invite:{repo.id}", str(repo.id), INVITE_YES, INVITE_NO),
    ]
    return truncate(f"Would you mentor newcomers in {repo.full_name}?", 300), blocks


def intro_post(member: Member) -> Message:
    """The #intros post: "Ada works with Python and PostgreSQL and is looking at …; say hi"."""
    who = mention(member.slack_user_id)
    languages, topics = languages_of(member), topics_of(member)
    parts = []
    if languages:
        parts.append(f"works with {mrkdwn_escape(_and(languages))}")
    if topics:
        parts.append(f"is looking at {mrkdwn_escape(_and(topics))}")
    text = f"{who} {' and '.join(parts) or 'just joined'}; say hi :wave:"
    return truncate("A new member: say hi", 300), [section(text)]


def intro_post_offer(member: Member) -> list[dict[str, Any]]:
    """The offer shown after a new member sets their stack, with a preview of the post."""
    _, preview = intro_post(member)
    preview_text = preview[0]["text"]["text"]
    assert member.id is not None
    return [
        section("Want me to post a short intro in the intros channel?\n> " + preview_text),
        _actions("people_post", str(member.id), POST_YES, POST_NO),
    ]
