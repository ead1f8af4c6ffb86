"""What a repository expects of a first contribution, read from its CONTRIBUTING guide and README.

A newcomer's first pull request is often closed for process reasons rather than for its code: the
project wanted the issue assigned first, does not accept AI-generated changes, or needs a DCO
sign-off or a signed CLA. :func:`read_rules` finds those expectations in the text of the files the
crawl fetched (cached by their git blob id, so a file is read again only when it changes).

The reading is deliberately conservative: a rule counts only when a sentence states it (a
keyword and a verb of requirement in the same sentence), and a sentence that says the opposite
("we don't assign issues") turns the rule off. The result is a small JSON-serialisable dict:

=====================  ========================================================================
key                    meaning
=====================  ========================================================================
``contributing``       the repository has a CONTRIBUTING guide (any of the usual three paths)
``code_of_conduct``    it has a code of conduct (GitHub's ``codeOfConduct`` or the guide links one)
``assign_first``       contributors should get the issue assigned before they start
``ai_policy``          ``"restricted"`` (AI-generated contributions refused), ``"disclose"``
                       (allowed when declared) or None
``gfi_policy``         the guide says who good first issues are for (e.g. first-timers only)
``sign_off``           commits need a DCO ``Signed-off-by`` line
``cla``                a Contributor License Agreement must be signed
``source``             the files the rules were read from
=====================  ========================================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: Files the crawl asks for, in order of preference (GitHub shows the first one it finds).
CONTRIBUTING_PATHS = ("CONTRIBUTING.md", ".github/CONTRIBUTING.md", "docs/CONTRIBUTING.md")
README_PATH = "README.md"
#: Only this much of each file is read (guides put process rules near the top; READMEs are long).
MAX_CHARS = 60_000

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n\s*[-*+]\s+|\n#+\s+")
_FLAGS = re.IGNORECASE


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, _FLAGS)


_ASSIGN = _rx(
    r"\b(get|be|being|getting|wait\w*\s+(?:until|to\s+be|for)\b.{0,40}?)\s*assign(ed)?\b"
    r"|\bassign(s|ed)?\s+(it\s+|the\s+issue\s+|an\s+issue\s+)?to\s+(you|yourself)\b"
    r"|\bask\s+(a\s+maintainer\s+)?(to\s+be\s+assigned|for\s+(an?\s+)?assignment|to\s+assign)"
    r"|\bcomment\s+`?/assign`?"
)
_ASSIGN_BEFORE = _rx(r"\b(before|first|prior|until|otherwise|unassigned|wait|ask|comment)\b")
_NO_ASSIGN = _rx(
    r"\b(we\s+)?(do\s+not|don'?t|never|no\s+need\s+to)\s+(assign|need\s+to\s+be\s+assigned)"
    r"|\bno\s+need\s+to\s+(ask|get)\s+(to\s+be\s+)?assigned"
)
_AI = _rx(
    r"\b(ai[- ]generated|ai[- ]assisted|generative\s+ai|artificial\s+intelligence|llms?\b"
    r"|large\s+language\s+models?|chatgpt|copilot|ai\s+(tools?|assistants?|models?))"
)
_AI_REFUSE = _rx(
    r"\b(not\s+accept\w*|won'?t\s+accept|don'?t\s+accept|do\s+not\s+allow|not\s+allowed"
    r"|prohibit\w*|forbid\w*|ban(ned)?|reject\w*|will\s+be\s+closed|closed\s+without"
    r"|must\s+not|may\s+not|no\s+ai)\b"
)
_AI_DISCLOSE = _rx(r"\b(disclos\w*|declare\w*|mention\w*|state\s+(that|it)|label\s+it|say\s+so)\b")
_GFI = _rx(r"good[- ]first[- ]issues?|first[- ]timers?[- ]only|beginner[- ]friendly")
_GFI_POLICY = _rx(
    r"\b(reserved|only\s+for|meant\s+for|intended\s+for|for\s+(new(comers)?|first[- ]time)"
    r"|one\s+at\s+a\s+time|at\s+most|pick\s+another|newcomers?|first[- ]time\s+contributors?)\b"
)
_SIGN_OFF = _rx(
    r"\bdeveloper\s+certificate\s+of\s+origin\b|\bDCO\b|\bsigned-off-by\b|\bsign[- ]off\b"
    r"|git\s+commit\s+(-\w*s\b|--signoff)"
)
_CLA = _rx(r"\bcontributor\s+licen[cs]e\s+agreement\b|\bCLA\b")
_CONDUCT = _rx(r"\bcode\s+of\s+conduct\b|CODE_OF_CONDUCT")


def sentences(text: str) -> list[str]:
    """The text split into sentences, list items and paragraphs (Markdown-aware enough)."""
    return [part.strip() for part in _SENTENCE.split(text[:MAX_CHARS]) if part and part.strip()]


def _assign_first(parts: list[str]) -> bool:
    if any(_NO_ASSIGN.search(part) for part in parts):
        return False
    return any(_ASSIGN.search(part) and _ASSIGN_BEFORE.search(part) for part in parts)


def _ai_policy(parts: list[str]) -> str | None:
    about_ai = [part for part in parts if _AI.search(part)]
    if any(_AI_REFUSE.search(part) for part in about_ai):
        return "restricted"
    if any(_AI_DISCLOSE.search(part) for part in about_ai):
        return "disclose"
    return None


def read_rules(files: Mapping[str, str | None], *, code_of_conduct: bool = False) -> dict[str, Any]:
    """The expectations stated in `files` (path -> text; None for a file that is absent).

    `code_of_conduct` is GitHub's own detection (the repository's ``codeOfConduct`` field).
    """
    texts = {path: text for path, text in files.items() if text}
    parts = [part for text in texts.values() for part in sentences(text)]
    return {
        "contributing": any(path in texts for path in CONTRIBUTING_PATHS),
        "code_of_conduct": code_of_conduct or any(_CONDUCT.search(part) for part in parts),
        "assign_first": _assign_first(parts),
        "ai_policy": _ai_policy(parts),
        "gfi_policy": any(_GFI.search(part) and _GFI_POLICY.search(part) for part in parts),
        "sign_off": any(_SIGN_OFF.search(part) for part in parts),
        "cla": any(_CLA.search(part) for part in parts),
        "source": sorted(texts),
    }
