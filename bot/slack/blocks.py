"""Block Kit rendering of picks: cards with feedback buttons, fallback text, Slack's limits.

Everything that came from GitHub goes through `mrkdwn_escape`; every text is cut to Slack's
limits with an ellipsis; a message never has more than 50 blocks (100 in App Home/modals).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.core.vocabulary import BUTTON_BY_STATE, FEEDBACK_BUTTONS, PickState
from bot.slack.escape import link, mrkdwn_escape, truncate

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_CONTEXT_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_FALLBACK_TEXT = 3000
MAX_TITLE = 200

# Everything about the feedback buttons comes from `bot.core.vocabulary.FEEDBACK_BUTTONS`.
ACTION_INTERESTED = BUTTON_BY_STATE[PickState.INTERESTED].action_id
ACTION_NOT_FOR_ME = BUTTON_BY_STATE[PickState.NOT_FOR_ME].action_id
ACTION_TAKEN = BUTTON_BY_STATE[PickState.TAKEN].action_id
PICK_ACTIONS = tuple(b.action_id for b in FEEDBACK_BUTTONS)

# Pick.state after each button, and what the card says once clicked.
STATE_BY_ACTION = {b.action_id: b.state.value for b in FEEDBACK_BUTTONS}
STATE_NOTES = {b.state.value: b.note for b in FEEDBACK_BUTTONS}


@dataclass(frozen=True)
class CardNote:
    """What a pick's card says instead of its buttons after an Interested click: the hold
    ("held for you until …", with a "Not for me" button that releases it) or why there is none.
    The text is mrkdwn the caller escaped."""

    text: str
    not_for_me: bool = False


class PickLike(Protocol):
    """What a card needs from a pick (`bot.match.recommend.Recommendation` fits)."""

    issue_id: int
    repo_full_name: str
    issue_number: int
    title: str
    url: str
    labels: list[str]
    reasons: list[str]
    signals: dict[str, Any]


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, limit) or " ", "emoji": True}


def mrkdwn(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    """A mrkdwn text object cut to `limit` (the caller escapes untrusted parts)."""
    return {"type": "mrkdwn", "text": truncate(text, limit) or " "}


def section(text: str) -> dict[str, Any]:
    """A section block with mrkdwn text (≤ 3,000 chars)."""
    return {"type": "section", "text": mrkdwn(text, MAX_SECTION_TEXT)}


def context(text: str) -> dict[str, Any]:
    """A context block with one mrkdwn element."""
    return {"type": "context", "elements": [mrkdwn(text, MAX_CONTEXT_TEXT)]}


def header_block(text: str) -> dict[str, Any]:
    """A header block (plain text, ≤ 150 chars)."""
    return {"type": "header", "text": _plain(text, MAX_HEADER_TEXT)}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    """A button element."""
    element: dict[str, Any] = {
        "type": "button",
        "text": _plain(text, MAX_BUTTON_TEXT),
        "action_id": action_id,
        "value": value[:2000],
    }
    if style:
        element["style"] = style
    return element


def _age(days: Any) -> str | None:
    if not isinstance(days, int | float):
        return None
    days = int(days)
    if days <= 0:
        return "opened today"
    if days == 1:
        return "opened yesterday"
    if days < 60:
        return f"opened {days} days ago"
    return f"opened {days // 30} months ago"


def _response(hours: Any) -> str | None:
    if not isinstance(hours, int | float):
        return None
    if hours < 1:
        return "maintainers reply within the hour"
    if hours < 48:
        return f"maintainers reply in ~{round(hours)} h"
    return f"maintainers reply in ~{round(hours / 24)} days"


def signals_text(rec: PickLike) -> str:
    """One line of signals: labels, age, comments, maintainer response time (escaped)."""
    signals: Mapping[str, Any] = rec.signals or {}
    parts: list[str] = []
    labels = [label for label in (rec.labels or []) if label][:4]
    if labels:
        parts.append(" ".join(f"`{mrkdwn_escape(truncate(label, 40))}`" for label in labels))
    age = _age(signals.get("age_days"))
    response = _response(signals.get("maintainer_response_hours"))
    if any("maintainer" in (reason or "").lower() for reason in rec.reasons or []):
        response = None  # already said in "why"
    for piece in (age, response):
        if piece:
            parts.append(piece)
    comments = signals.get("comments")
    if isinstance(comments, int):
        parts.append("no comments yet" if comments == 0 else f"{comments} comments")
    return " · ".join(parts)


#: What a repository expects (`Repository.rules`, read by bot.github.repo_rules), in plain words.
EXPECTATIONS = (
    ("assign_first", True, "ask to be assigned first"),
    ("ai_policy", "restricted", "no AI-generated contributions"),
    ("ai_policy", "disclose", "say if you used AI tools"),
    ("gfi_policy", True, "good first issues are kept for newcomers"),
    ("sign_off", True, "sign off your commits (DCO)"),
    ("cla", True, "sign the CLA"),
    ("contributing", True, "read CONTRIBUTING"),
    ("code_of_conduct", True, "has a code of conduct"),
)


def expectations_text(rec: PickLike) -> str:
    """ "Before you start: ask to be assigned first · read CONTRIBUTING" (empty if unknown)."""
    rules = (rec.signals or {}).get("expects")
    if not isinstance(rules, Mapping):
        return ""
    lines = [text for key, value, text in EXPECTATIONS if rules.get(key) == value]
    return f"*Before you start:* {' · '.join(lines)}" if lines else ""


def pick_card(
    rec: PickLike,
    *,
    state: str | None = None,
    siblings: Sequence[int] = (),
    note: CardNote | None = None,
) -> list[dict[str, Any]]:
    """The blocks of one pick: title link, repo and why, signals, then buttons or the outcome.

    `siblings` are the issue ids of every pick in the same message; they ride along in the
    buttons' block_id so a click on an ephemeral message (whose blocks Slack doesn't send back)
    can re-render the whole message.
    """
    repo = mrkdwn_escape(rec.repo_full_name)
    title = link(rec.url, rec.title or f"#{rec.issue_number}", max_label=MAX_TITLE)
    why = " · ".join(mrkdwn_escape(reason) for reason in (rec.reasons or []) if reason)
    text = f"*{title}*\n{repo} #{rec.issue_number}"
    if why:
        text += f"\n_Why:_ {why}"
    blocks: list[dict[str, Any]] = [
        {**section(text), "block_id": f"pick:{rec.issue_id}"},
    ]
    signals = signals_text(rec)
    if signals:
        blocks.append({**context(signals), "block_id": f"pick:{rec.issue_id}:signals"})
    expects = expectations_text(rec)
    if expects:
        blocks.append({**context(expects), "block_id": f"pick:{rec.issue_id}:expects"})
    blocks.append(outcome_block(rec.issue_id, state, siblings, note))
    return blocks


def actions_block_id(issue_id: int, siblings: Sequence[int] = ()) -> str:
    """`pick:<id>:actions[:<id>,<id>…]` (≤ 255 chars, Slack's block_id limit)."""
    block_id = f"pick:{issue_id}:actions"
    if siblings:
        with_ids = block_id + ":" + ",".join(str(i) for i in siblings)
        if len(with_ids) <= 255:
            return with_ids
    return block_id


def sibling_ids(block_id: str) -> list[int]:
    """The issue ids carried in an actions block_id (empty when there are none)."""
    parts = block_id.split(":")
    if len(parts) < 4 or parts[0] != "pick" or parts[2] != "actions":
        return []
    return [int(x) for x in parts[3].split(",") if x.isdigit()]


def outcome_block(
    issue_id: int, state: str | None, siblings: Sequence[int] = (), note: CardNote | None = None
) -> dict[str, Any]:
    """The buttons of a pick, or (once clicked) a note saying what the member chose; `note`
    (a hold, or why there is none) replaces the Interested note."""
    block_id = actions_block_id(issue_id, siblings)
    if note is not None and state == PickState.INTERESTED.value:
        block = {**section(note.text), "block_id": block_id}
        if note.not_for_me:
            b = BUTTON_BY_STATE[PickState.NOT_FOR_ME]
            block["accessory"] = button(b.label, b.action_id, str(issue_id))
        return block
    if state in STATE_NOTES:
        return {**context(STATE_NOTES[state]), "block_id": block_id}
    value = str(issue_id)
    return {
        "type": "actions",
        "block_id": block_id,
        "elements": [button(b.label, b.action_id, value, style=b.style) for b in FEEDBACK_BUTTONS],
    }


def pick_blocks(
    recs: Sequence[PickLike],
    *,
    header: str,
    states: Mapping[int, str] | None = None,
    max_blocks: int = MAX_MESSAGE_BLOCKS,
    notes: Mapping[int, CardNote] | None = None,
) -> list[dict[str, Any]]:
    """Block Kit for a list of picks under a header, with feedback buttons, within `max_blocks`.

    Buttons carry `value=str(issue_id)` and action_ids `pick_interested`, `pick_not_for_me`,
    `pick_taken`. Picks that don't fit are dropped and counted in a final context line.
    """
    states = states or {}
    notes = notes or {}
    blocks: list[dict[str, Any]] = [header_block(header)]
    if not recs:
        blocks.append(section("No available picks right now. Try again after the next crawl."))
        return blocks
    dropped = 0
    fitting = _fitting(len(recs), max_blocks)
    siblings = [rec.issue_id for rec in recs[:fitting]]
    for index, rec in enumerate(recs):
        card = pick_card(
            rec, state=states.get(rec.issue_id), siblings=siblings, note=notes.get(rec.issue_id)
        )
        divider = [{"type": "divider"}] if index else []
        # keep room for the "n more" note
        room = max_blocks - len(blocks) - 1
        if len(divider) + len(card) > room:
            dropped = len(recs) - index
            break
        blocks.extend(divider + card)
    if dropped:
        blocks.append(context(f"…and {dropped} more that didn't fit in one message."))
    return blocks


def _fitting(count: int, max_blocks: int) -> int:
    """How many cards (≤ 3 blocks + divider) fit under a header and an overflow note."""
    return min(count, max(0, (max_blocks - 2 + 1) // 4))


def fallback_text(recs: Sequence[PickLike]) -> str:
    """Plain notification text for a picks message (escaped, ≤ 3,000 chars)."""
    if not recs:
        return "No available picks right now."
    items = [
        f"{mrkdwn_escape(truncate(r.title or '', 80))} ({mrkdwn_escape(r.repo_full_name)}"
        f"#{r.issue_number})"
        for r in recs
    ]
    noun = "pick" if len(recs) == 1 else "picks"
    return truncate(f"{len(recs)} {noun} for you: " + "; ".join(items), MAX_FALLBACK_TEXT)


def mark_pick(
    blocks: Iterable[Mapping[str, Any]], issue_id: int, state: str, note: CardNote | None = None
) -> list[dict[str, Any]]:
    """A copy of a message's blocks with one pick's buttons replaced by its outcome note."""
    out: list[dict[str, Any]] = []
    for block in blocks:
        block_id = str(block.get("block_id", ""))
        if block_id.split(":")[:3] == ["pick", str(issue_id), "actions"]:
            out.append(outcome_block(issue_id, state, sibling_ids(block_id), note))
        else:
            out.append(dict(block))
    return out


def limit_blocks(blocks: list[dict[str, Any]], max_blocks: int) -> list[dict[str, Any]]:
    """Cut a block list to `max_blocks`, the last one saying that something was left out."""
    if len(blocks) <= max_blocks:
        return blocks
    return [
        *blocks[: max_blocks - 1],
        context(f"…more left out (Slack shows at most {max_blocks} blocks here)."),
    ]
