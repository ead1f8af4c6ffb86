"""The `/matchmaker` text parser: every sub-command, bad input, typos; never raises."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack import commands as c


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", c.Help()),
        ("  HELP ", c.Help()),
        ("stack", c.ShowStack()),
        ("stack python,  postgres, raft", c.SetStack("python, postgres, raft")),
        ("level", c.ShowLevel()),
        ("level First Timer", c.SetLevel("first-timer")),
        ("level experienced", c.SetLevel("experienced")),
        ("github", c.ShowGitHub()),
        ("github @octo-cat", c.SetGitHub("octo-cat")),
        ("github https://github.com/Octo", c.SetGitHub("Octo")),
        ("github off", c.SetGitHub(None)),
        ("picks", c.Picks()),
        ("picks 10", c.Picks(10)),
        ("digest", c.ShowDigest()),
        ("digest off", c.SetDigest(enabled=False)),
        ("digest on", c.SetDigest(enabled=True)),
        (
            "digest weekly mon 09:00 Europe/Berlin",
            c.SetDigest(enabled=True, day="mon", time="09:00", timezone="Europe/Berlin"),
        ),
        (
            "digest weekly Friday 5:30pm america/new_york",
            c.SetDigest(enabled=True, day="fri", time="17:30", timezone="America/New_York"),
        ),
        ("digest weekly", c.SetDigest(enabled=True)),
        ("status", c.Status()),
        ("forget", c.Forget()),
        ("release", c.ReleaseHolds()),
        ("release etcd-io/etcd#123", c.ReleaseHolds("etcd-io/etcd", 123)),
        ("Release Etcd-IO/etcd.io#7", c.ReleaseHolds("etcd-io/etcd.io", 7)),
        ("release https://github.com/tikv/tikv/issues/42", c.ReleaseHolds("tikv/tikv", 42)),
        (
            "release <https://github.com/tikv/tikv/issues/42|tikv#42>",
            c.ReleaseHolds("tikv/tikv", 42),
        ),
        ("lists", c.AdminLists()),
        ("crawl now", c.AdminCrawl()),
        ("stats", c.AdminStats()),
    ],
)
def test_valid_commands(text, expected):
    assert c.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "subcommand"),
    [
        ("stack !!!", "stack"),
        ("stack " + "x" * 1001, "stack"),
        ("level guru", "level"),
        ("github a--b", "github"),
        ("github " + "a" * 40, "github"),
        ("picks 0", "picks"),
        ("picks 11", "picks"),
        ("picks -1", "picks"),
        ("picks three", "picks"),
        ("digest daily", "digest"),
        ("digest weekly mon mon", "digest"),
        ("digest weekly 25:00", "digest"),
        ("digest weekly 9", "digest"),
        ("digest weekly Mars/Olympus", "digest"),
        ("status now", "status"),
        ("forget me", "forget"),
        ("release all of them", "release"),
        ("release etcd#12", "release"),
        ("release etcd-io/etcd#0", "release"),
        ("release etcd-io/etcd#abc", "release"),
        ("release etcd-io/etcd", "release"),
        ("release -bad/repo#1", "release"),
        ("release a/..#1", "release"),
        ("release https://gitlab.com/a/b/issues/1", "release"),
        ("crawl later", "crawl"),
        ("help me", "help"),
    ],
)
def test_bad_arguments_are_invalid_with_usage(text, subcommand):
    parsed = c.parse(text)
    assert isinstance(parsed, c.Invalid)
    assert parsed.subcommand == subcommand
    assert parsed.usage.startswith("`/matchmaker")


@pytest.mark.parametrize(
    ("word", "suggestion"),
    [("pick", "picks"), ("stak", "stack"), ("levle", "level"), ("satus", "status"), ("zzz", None)],
)
def test_typos_get_a_suggestion(word, suggestion):
    assert c.parse(f"{word} 3") == c.Unknown(word, suggestion)


@given(st.text(max_size=200))
def test_parse_never_raises_and_returns_a_command(text):
    parsed = c.parse(text)
    assert isinstance(parsed, c.Command)  # type: ignore[arg-type]


@given(st.integers(min_value=1, max_value=10))
def test_picks_accepts_1_to_10(n):
    assert c.parse(f"picks {n}") == c.Picks(n)


@given(st.integers(min_value=0, max_value=23), st.integers(min_value=0, max_value=59))
def test_digest_times_round_trip(hour, minute):
    parsed = c.parse(f"digest weekly tue {hour}:{minute:02d}")
    assert parsed == c.SetDigest(enabled=True, day="tue", time=f"{hour:02d}:{minute:02d}")


_owner = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9]|-[A-Za-z0-9]){0,9}", fullmatch=True)
_repo = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,19}", fullmatch=True)


@given(_owner, _repo, st.integers(min_value=1, max_value=999_999_999), st.booleans())
def test_release_names_any_issue_by_reference_or_link(owner, repo, number, as_link):
    text = (
        f"https://github.com/{owner}/{repo}/issues/{number}"
        if as_link
        else (f"{owner}/{repo}#{number}")
    )
    assert c.parse(f"release {text}") == c.ReleaseHolds(f"{owner}/{repo}".lower(), number)


@given(st.text(max_size=80))
def test_release_with_anything_else_is_release_or_usage(rest):
    parsed = c.parse(f"release {rest}")
    assert isinstance(parsed, c.ReleaseHolds | c.Invalid)
    if isinstance(parsed, c.Invalid):
        assert parsed.subcommand == "release" and "owner/repo#123" in parsed.usage
    elif parsed.repo is not None:
        assert parsed.number >= 1 and parsed.repo == parsed.repo.lower()


def test_celebrate_on_off_and_show():
    assert c.parse("celebrate") == c.ShowCelebrate()
    assert c.parse("celebrate on") == c.SetCelebrate(on=True)
    assert c.parse("Celebrate OFF") == c.SetCelebrate(on=False)
    assert c.parse("celebrate stop") == c.SetCelebrate(on=False)
    bad = c.parse("celebrate <!channel>")
    assert isinstance(bad, c.Invalid) and bad.subcommand == "celebrate"
    assert "<!channel>" not in bad.message and "celebrate on|off" in bad.usage
    assert c.parse("celebrat on") == c.Unknown("celebrat", "celebrate")


@given(st.text(max_size=200))
def test_celebrate_never_raises_and_only_on_off_change_it(rest):
    parsed = c.parse(f"celebrate {rest}")
    assert isinstance(parsed, c.ShowCelebrate | c.SetCelebrate | c.Invalid)
    if isinstance(parsed, c.SetCelebrate):
        assert " ".join(rest.split()).lower() in {
            "on",
            "yes",
            "off",
            "none",
            "stop",
            "disable",
            "no",
        }
