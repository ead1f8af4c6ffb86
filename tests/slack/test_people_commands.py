"""Parsing the people sub-commands: concrete cases, and never a traceback on any input."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.slack import commands as c
from bot.slack import people_commands as pc


def test_people_commands_parse():
    assert c.parse("mentor on etcd-io/etcd, Raft https://github.com/tikv/tikv.git") == (
        pc.SetMentor(on=True, scope=("etcd-io/etcd", "raft", "tikv/tikv"))
    )
    assert c.parse("mentor") == pc.ShowPeople()
    assert c.parse("mentor pause") == pc.PauseMentor()
    assert c.parse("Mentor OFF") == pc.SetMentor(on=False)
    assert c.parse("buddies on") == pc.SetBuddies(True)
    assert c.parse("buddies off") == pc.SetBuddies(False)
    assert c.parse("intros on") == pc.SetIntros(True)
    assert c.parse("nopair <@U0ADA|ada>") == pc.NoPairCommand("U0ADA")
    assert c.parse("nopair remove <@W0BOB>") == pc.NoPairCommand("W0BOB", remove=True)


def test_bad_people_input_gets_a_usage_message():
    for text, word in [
        ("mentor maybe", "mentor"),
        ("mentor on a/b/c", "mentor"),
        ("mentor on " + " ".join(f"t{n}" for n in range(21)), "mentor"),
        ("buddies sometimes", "buddies"),
        ("nopair @ada", "nopair"),
        ("nopair <@U1> <@U2>", "nopair"),
        ("mentor on <!channel>", "mentor"),
    ]:
        parsed = c.parse(text)
        assert isinstance(parsed, c.Invalid) and parsed.subcommand == word, text
        assert "<!channel>" not in parsed.message
        assert c.USAGE[word] in parsed.usage


def test_a_mistyped_people_command_is_suggested():
    assert c.parse("buddy on") == c.Unknown("buddy", "buddies")


@given(
    st.sampled_from(["mentor", "buddies", "intros", "nopair"]),
    st.text(max_size=300),
)
def test_people_parsers_never_raise(word, rest):
    parsed = c.parse(f"{word} {rest}")
    assert isinstance(parsed, (*pc.PeopleCommand.__args__, c.Invalid))


def test_escaped_links_from_slack_still_parse_as_github_logins():
    # should_escape: true (for @mentions) makes Slack wrap typed links in <…>
    assert c.parse("github <https://github.com/ada-l|github.com/ada-l>") == c.SetGitHub("ada-l")
    assert c.parse("github <https://github.com/ada-l>") == c.SetGitHub("ada-l")
