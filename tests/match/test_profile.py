"""Member profiles: typed stack, and a stack inferred from public GitHub repos (fake GitHub)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session

from bot.config import Settings, load_settings
from bot.fakes.github import FakeGitHub, World
from bot.match.profile import (
    infer_from_github,
    profile_from_member,
    profile_from_text,
    refresh_inference,
)
from bot.match.taxonomy import get_taxonomy
from bot.store.models import Member
from tests.match.conftest import NOW


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    world = World()
    world.add_repo(
        "ada/kv", languages={"Go": 90_000, "Shell": 2_000}, topics=["raft", "key-value-store"]
    )
    world.add_repo("ada/scripts", languages={"Python": 30_000, "Makefile": 100}, topics=["cli"])
    world.add_repo("ada/tiny", languages={"Rust": 1_000})  # 0.8 % of her bytes: ignored
    world.add_repo("ada/linux", fork=True, languages={"C": 10_000_000}, topics=["kernel"])
    with FakeGitHub(world) as fake:
        yield fake


@pytest.fixture
def gh_settings(github: FakeGitHub) -> Settings:
    return load_settings(github_api_url=github.base_url)


def test_inference_weights_languages_by_bytes_of_own_non_fork_repos(
    gh_settings: Settings,
) -> None:
    inferred = infer_from_github("ada", gh_settings, now=NOW)
    assert inferred["languages"] == {"go": 1.0, "python": pytest.approx(0.333, abs=0.001)}
    assert set(inferred["topics"]) == {"raft", "key-value"}  # not the fork's "kernel"
    assert inferred["explanation"] == "inferred from 3 public repos"
    assert inferred["repos"] == 3
    assert inferred["login"] == "ada"


def test_inference_is_cached_on_the_member_and_reused(
    session: Session, github: FakeGitHub, gh_settings: Settings
) -> None:
    member = Member(slack_user_id="U1", stack_text="python", github_login="ada")
    session.add(member)
    session.flush()
    refresh_inference(session, member, gh_settings, now=NOW)
    session.commit()
    spent = github.stats.requests
    assert spent > 0
    session.refresh(member)
    assert member.inferred is not None
    assert member.inferred["explanation"] == "inferred from 3 public repos"
    refresh_inference(session, member, gh_settings, now=NOW + timedelta(days=1))
    assert github.stats.requests == spent  # fresh cache: no request
    refresh_inference(session, member, gh_settings, now=NOW + timedelta(days=30))
    assert github.stats.requests > spent  # stale: read again


def test_inferred_terms_never_override_the_typed_stack(gh_settings: Settings) -> None:
    member = Member(slack_user_id="U1", stack_text="python, postgres", github_login="ada")
    member.inferred = infer_from_github("ada", gh_settings, now=NOW)
    profile = profile_from_member(member)
    langs, topics = profile.weights(get_taxonomy())
    assert langs["python"] == 1.0  # typed, although GitHub says a third
    assert 0 < langs["go"] <= 0.5  # inferred: added at most at half weight
    assert topics["postgresql"] == 1.0
    assert profile.is_inferred("go") and not profile.is_inferred("python")


def test_an_unknown_login_keeps_the_old_cache_and_says_why(
    session: Session, gh_settings: Settings
) -> None:
    member = Member(slack_user_id="U1", github_login="nobody-here")
    member.inferred = {"login": "nobody-here", "languages": {"go": 1.0}, "inferred_at": "x"}
    session.add(member)
    refresh_inference(session, member, gh_settings, now=NOW)
    assert member.inferred["languages"] == {"go": 1.0}
    assert "GitHub answered 404" in member.inferred["error"]


def test_a_removed_login_drops_the_inference(session: Session, gh_settings: Settings) -> None:
    member = Member(slack_user_id="U1", inferred={"languages": {"go": 1.0}})
    session.add(member)
    assert refresh_inference(session, member, gh_settings, now=NOW) is None
    assert member.inferred is None


def test_profiles_from_stored_weights_or_typed_text() -> None:
    stored = Member(slack_user_id="U1", languages={"golang": 1.0}, topics={"k8s": 0.5})
    profile = profile_from_member(stored)
    assert profile.languages == {"go": 1.0}
    assert profile.topics == {"kubernetes": 0.5}
    typed = profile_from_text("rust, raft", "experienced")
    assert (typed.languages, typed.topics, typed.level) == (
        {"rust": 1.0},
        {"raft": 1.0},
        "experienced",
    )


def test_stale_inferences_are_refreshed_in_bulk(
    session: Session, github: FakeGitHub, gh_settings: Settings
) -> None:
    from bot.match.profile import refresh_stale_inferences

    ada = Member(slack_user_id="U1", github_login="ada")
    nobody = Member(slack_user_id="U2")
    session.add_all([ada, nobody])
    session.flush()
    assert refresh_stale_inferences(session, gh_settings, now=NOW) == 1
    assert ada.inferred is not None and nobody.inferred is None
    assert refresh_stale_inferences(session, gh_settings, now=NOW) == 0
