"""Claim-comment classifier: did someone say "I'm taking this issue" in a comment?

Precision first: a false "claimed" hides a good issue from one crawl, a missed claim sends a
newcomer to an issue someone else is on, but a wrong "claimed" is invisible to everybody, so the
threshold is high and questions ("is anyone working on this?"), invitations ("feel free to take
it") and withdrawals ("I'm no longer working on this") score 0. Quoted lines (`> …`) and code
blocks are ignored. Patterns cover English plus common phrasings in Spanish, Portuguese, German,
French, Russian, Chinese and Japanese.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

THRESHOLD = 0.8

_TARGET = r"(?:this|it|that|this one|the issue|this issue|this task|this ticket)"
_VERB = r"(?:work on|take|pick up|pick|grab|tackle|handle|fix|solve|do|look into|try)"

# (pattern, score): the highest matching score wins.
_CLAIMS: tuple[tuple[re.Pattern[str], float], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE | re.MULTILINE), score)
    for pattern, score in (
        # Bot commands used by many projects.
        (r"^\s*/(?:assign|take|claim)(?:\s+me)?\s*$", 1.0),
        (r"^\s*\.take\s*$", 1.0),
        (r"^\s*/assign\s+@[\w-]+\s*$", 0.95),
        # English.
        (
            rf"\b(?:i'?d|i would|i'?ll|i will|i want to|i wanna|i'?m going to|i am going to|"
            rf"let me|i'?d love to|i would love to|i can|i could)\s+(?:like to\s+|love to\s+)?"
            rf"(?:give it a (?:try|shot|go)|{_VERB}\s+{_TARGET})",
            0.9,
        ),
        (rf"\b(?:can|could|may)\s+i\s+(?:please\s+)?(?:{_VERB}|have|get)\s+{_TARGET}", 0.9),
        (r"\b(?:please\s+)?assign\s+(?:this|it|the issue)?\s*(?:to\s+)?me\b", 0.9),
        (r"\bi'?m\s+(?:currently\s+|already\s+|now\s+)?working on\s+(?:this|it|a fix|a pr)", 0.95),
        (r"\bi am\s+(?:currently\s+|already\s+|now\s+)?working on\s+(?:this|it|a fix|a pr)", 0.95),
        (r"\bi'?(?:d| would)? ?(?:like|love) to (?:contribute|work) (?:to|on) (?:this|it)", 0.9),
        (r"\bi(?:'m| am) interested in (?:working on|taking|fixing) (?:this|it)", 0.85),
        (r"\bi(?:'m| am) interested\b.*\bassign", 0.85),
        (r"\bi(?:'ll| will) (?:open|send|submit|raise) a (?:pr|pull request)\b", 0.85),
        # Spanish / Portuguese.
        (r"\bme gustar[ií]a (?:trabajar|encargarme|tomar)", 0.9),
        (r"\b(?:puedo|podr[ií]a) (?:tomar|trabajar en|encargarme)", 0.9),
        (r"\bas[ií]g?n[ae]me(?:lo)?\b", 0.9),
        (r"\bgostaria de (?:trabalhar|pegar|resolver)", 0.9),
        (r"\bposso (?:pegar|trabalhar|resolver)", 0.9),
        (r"\bme atribu", 0.85),
        # German / French.
        (r"\bich w[üu]rde (?:gerne|gern) (?:daran|an diesem|das) (?:arbeiten|[üu]bernehmen)", 0.9),
        (r"\bkann ich (?:das|dieses issue|daran) (?:[üu]bernehmen|arbeiten|machen)", 0.9),
        (r"\bich [üu]bernehme (?:das|dieses)", 0.9),
        (r"\bje (?:voudrais|veux|peux|souhaite) (?:travailler|m'en occuper|prendre)", 0.9),
        (r"\bassign(?:ez|e)[- ]moi\b", 0.9),
        # Russian / Chinese / Japanese.
        (r"(?:хочу|могу|можно я) (?:взять|заняться|поработать|сделать)", 0.9),
        (r"(?:возьму|беру) (?:это|задачу|себе)", 0.9),
        (r"我(?:想|来|可以|愿意)(?:处理|做|认领|负责|尝试|修复|解决|试试)", 0.9),
        (r"(?:分配|指派)给我", 0.9),
        (r"(?:担当します|やってみたい|私がやります|対応します)", 0.9),
    )
)

_NOT_CLAIMS = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"\b(?:is|are)\s+(?:any|some)(?:one|body)\s+(?:still\s+)?working on",
        r"\bany(?:one|body)\s+(?:can|could|may|is free to|is welcome to)\b",
        r"\bfeel free to\b",
        r"\bis (?:this|it) still (?:open|available|free|up for grabs)",
        r"\b(?:not|no longer|won'?t be|can'?t|cannot|unable to)\s+(?:be\s+)?"
        r"(?:working|work|able to work)",
        r"\bunassign(?:ing)? me\b",
        r"\bi(?:'m| am) (?:dropping|giving up|releasing|stepping back)",
        r"\bcan you (?:take|work on)\b",
        r"\bplease don'?t assign",
    )
)


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    text = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)
    text = re.sub(r"`[^`]*`", " ", text)
    lines = [line for line in text.splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(lines).replace("’", "'").strip()


def is_withdrawal(text: str) -> bool:
    """True for "I'm no longer working on this" style comments."""
    cleaned = _clean(text)
    return bool(
        re.search(
            r"\b(?:no longer|not|won'?t be|can'?t|cannot)\s+(?:be\s+)?working|"
            r"\bunassign(?:ing)? me\b|\bi(?:'m| am) (?:dropping|giving up|releasing)",
            cleaned,
            re.IGNORECASE,
        )
    )


def claim_score(text: str) -> float:
    """Probability-like score in [0, 1] that `text` claims the issue for its author."""
    cleaned = _clean(text)
    if not cleaned or any(p.search(cleaned) for p in _NOT_CLAIMS):
        return 0.0
    return max((score for pattern, score in _CLAIMS if pattern.search(cleaned)), default=0.0)


def is_claim(text: str, threshold: float = THRESHOLD) -> bool:
    """True when `text` claims the issue (score ≥ threshold)."""
    return claim_score(text) >= threshold


@dataclass(frozen=True)
class CommentView:
    """What the classifier needs of a comment."""

    author: str | None
    body: str
    created_at: datetime | None


@dataclass(frozen=True)
class Claim:
    """The latest standing claim on an issue."""

    author: str | None
    text: str
    at: datetime | None
    active: bool  # False when older than the staleness window


def find_claim(
    comments: Sequence[CommentView],
    *,
    now: datetime,
    stale_after: timedelta,
    threshold: float = THRESHOLD,
) -> Claim | None:
    """The latest claim not withdrawn later by the same author, or None."""
    claim: Claim | None = None
    for comment in sorted(comments, key=lambda c: c.created_at or now):
        if claim and comment.author == claim.author and is_withdrawal(comment.body):
            claim = None
        elif claim_score(comment.body) >= threshold:
            fresh = comment.created_at is None or now - comment.created_at <= stale_after
            claim = Claim(comment.author, comment.body.strip()[:500], comment.created_at, fresh)
    return claim
