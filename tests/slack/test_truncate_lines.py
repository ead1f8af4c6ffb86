"""`truncate_lines`: mrkdwn cut at whole lines, never inside a `<url|title>` link or `code`."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.slack.escape import ELLIPSIS, link, mrkdwn_escape, truncate, truncate_lines

LINK = re.compile(r"<https?://[^<>|]+\|[^<>]*>")


def balanced(text: str) -> bool:
    """Every `<` closed by a `>` (a whole link) and an even number of backticks."""
    return text.count("<") == text.count(">") == len(LINK.findall(text)) and (
        text.count("`") % 2 == 0
    )


title = st.text(st.characters(blacklist_characters="`"), min_size=1, max_size=300)
line = st.builds(
    lambda t, n, label: (
        f"• {link(f'https://github.com/a/b/issues/{n}', t)} `{mrkdwn_escape(label)}`"
    ),
    title,
    st.integers(1, 99999),
    st.text(alphabet="abc -", min_size=1, max_size=20),
)


@given(st.lists(line, min_size=1, max_size=40), st.integers(20, 3000))
def test_cuts_keep_links_and_code_spans_whole(lines: list[str], limit: int) -> None:
    text = "\n".join(lines)
    cut = truncate_lines(text, limit)
    assert len(cut) <= limit
    assert balanced(cut)
    if cut != text:
        assert cut.endswith(ELLIPSIS)
        kept = cut.removesuffix(ELLIPSIS).rstrip("\n")
        assert not kept or text.startswith(kept)  # a prefix of whole lines (or a cut first one)


def test_real_length_titles_at_3000_chars_are_never_split() -> None:
    lines = [
        f"• {link(f'https://github.com/org/repo/issues/{n}', 'Support ' + 'x' * 150)} "
        f"`good first issue`"
        for n in range(40)
    ]
    text = "\n".join(lines)
    old = truncate(text, 3000)
    assert not balanced(old)  # the plain cut splits a link or a code span
    new = truncate_lines(text, 3000)
    assert balanced(new) and len(new) <= 3000 and new.endswith("\n" + ELLIPSIS)


def test_a_single_overlong_line_is_cut_before_the_link() -> None:
    text = "x" * 50 + " <https://example.org/a|a title that is long> `code`"
    cut = truncate_lines(text, 70)
    assert cut == "x" * 50 + ELLIPSIS and balanced(cut)
