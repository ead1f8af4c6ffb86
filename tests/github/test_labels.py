"""Beginner-label vocabulary matching."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.github.labels import BeginnerLabels, normalize_label

VOCABULARY = ["good first issue", "E-easy", "difficulty/easy", "help wanted"]


def test_spellings_of_the_same_label_match() -> None:
    labels = BeginnerLabels(VOCABULARY)
    for spelling in (
        "good first issue",
        "Good-First-Issue",
        "good_first_issue",
        "GOOD FIRST ISSUE",
        "e-easy",
        "E easy",
        "difficulty: easy",
        "Difficulty/Easy",
    ):
        assert labels.matches(spelling), spelling
    for other in ("bug", "good first issues please", "easy-ish", "first issue"):
        assert not labels.matches(other), other


def test_per_repo_extra_labels_apply_only_to_that_repo() -> None:
    labels = BeginnerLabels(VOCABULARY, {"Tikv/TiKV": ["kind/good-first-issue"]})
    assert labels.matches("Kind: Good First Issue", "tikv/tikv")
    assert not labels.matches("kind/good-first-issue", "other/repo")


def test_select_keeps_the_repository_spelling_and_order() -> None:
    labels = BeginnerLabels(VOCABULARY)
    chosen = labels.select(["bug", "Good First Issue", "E-easy", "Good First Issue"])
    assert chosen == ["Good First Issue", "E-easy"]


separators = st.sampled_from([" ", "-", "_", ":", "/", ": ", " - ", "."])


@given(
    words=st.lists(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8),
        min_size=1,
        max_size=4,
    ),
    seps=st.lists(separators, min_size=4, max_size=4),
    upper=st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_normalization_ignores_case_and_separators(
    words: list[str], seps: list[str], upper: list[bool]
) -> None:
    plain = " ".join(words)
    styled = "".join(
        (w.upper() if upper[i] else w) + (seps[i] if i < len(words) - 1 else "")
        for i, w in enumerate(words)
    )
    assert normalize_label(styled) == normalize_label(plain)
    assert BeginnerLabels([plain]).matches(styled)
