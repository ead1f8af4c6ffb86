"""`/matchmaker github <login>` and the profile modal infer the stack from public repos, over
real HTTP against the app, the fake Slack and the fake GitHub."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import load_settings
from bot.config.settings import Settings
from bot.fakes.github import FakeGitHub, World
from bot.fakes.github.world import DEMO_USERS
from bot.fakes.slack import FakeSlack
from bot.fakes.slack.client import SlackLike, start_app
from bot.slack.home import home_view, save_profile
from bot.store.models import Member


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    """A fake GitHub with the demo users' personal repositories (demo-alice: Go + Python)."""
    world = World()
    for login, repos in DEMO_USERS.items():
        for name, language, size in repos:
            world.add_repo(f"{login}/{name}", language=language, languages={language: size})
    world.add_repo("demo-erin/raft-lab", languages={"Rust": 5_000}, topics=["raft"])
    with FakeGitHub(world) as fake:
        yield fake


@pytest.fixture
def gh_settings(http_settings: Settings, github: FakeGitHub) -> Settings:
    return http_settings.model_copy(update={"github_api_url": github.base_url})


@pytest.fixture
def app(gh_settings: Settings, engine: Engine, fake_slack: FakeSlack) -> Iterator[SlackLike]:
    server, client = start_app(gh_settings, engine, fake_slack)
    yield client
    client.close()
    server.stop()


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    """The pool the Slack app would run a modal's GitHub inference on."""
    executor = ThreadPoolExecutor(max_workers=2)
    yield executor
    executor.shutdown(wait=True)


def stored(engine: Engine, user_id: str = "U0001") -> Member | None:
    with Session(engine) as session:
        return session.exec(select(Member).where(Member.slack_user_id == user_id)).first()


def test_linking_infers_the_stack_and_status_shows_it(app, engine, github):
    reply = app.reply("github https://github.com/Demo-Alice")
    assert reply["text"] == (
        "Linked demo-alice. Inferred from 2 public repos: Go, Python (your typed stack still wins)."
    )
    assert github.stats.requests > 0  # really asked GitHub
    member = stored(engine)
    assert member.github_login == "demo-alice"  # GitHub's spelling
    assert member.inferred["languages"] == {"go": 1.0, "python": 0.625}

    app.reply("stack python, raft")
    status = str(app.reply("status")["blocks"])
    assert "Python, Raft; from your GitHub: Go (inferred from 2 public repos)" in status
    assert "demo-alice" in status
    assert "from your GitHub: Go" in app.reply("stack")["text"]
    assert "Inferred from 2 public repos: Go, Python" in app.reply("github")["text"]


def test_topics_are_inferred_too(app, engine):
    reply = app.reply("github demo-erin")
    assert "Inferred from 1 public repo: Rust, Raft" in reply["text"]


def test_unknown_login_says_so_and_changes_nothing(app, engine, github):
    app.reply("github demo-bob")
    before = stored(engine)
    reply = app.reply("github no-such-person")
    assert (
        reply["text"] == "GitHub has no user no-such-person. Check the spelling. Nothing changed."
    )
    after = stored(engine)
    assert after.github_login == "demo-bob"
    assert after.inferred == before.inferred
    assert "Rust" in app.reply("github")["text"]


def test_unknown_login_creates_no_member(app, engine):
    assert "GitHub has no user" in app.reply("github nobody-at-all")["text"]
    assert stored(engine) is None


@pytest.mark.parametrize("path", ["", "/languages"])  # first request / half-way through
def test_github_down_gives_one_line_and_keeps_the_profile(app, engine, github, path):
    app.reply("github demo-bob")
    before = stored(engine)
    github.faults.add("500", times=5, path=path)
    reply = app.reply("github demo-alice")
    assert reply["text"] == (
        "GitHub answered 500 when I read demo-alice's repos. Try again later. Nothing changed."
    )
    assert "\n" not in reply["text"] and "Traceback" not in str(reply)
    after = stored(engine)
    assert (after.github_login, after.inferred) == ("demo-bob", before.inferred)
    github.faults.clear()
    assert "Linked demo-alice" in app.reply("github demo-alice")["text"]


def test_rate_limit_and_unreachable_github_are_explained(http_settings, engine, fake_slack, github):
    github.faults.add("403_rate_limit", times=5)
    server, client = start_app(
        http_settings.model_copy(update={"github_api_url": github.base_url}), engine, fake_slack
    )
    try:
        text = client.reply("github demo-alice")["text"]
        assert text.startswith("GitHub's rate limit for me is used up until ")
        assert text.endswith("Nothing changed.")
    finally:
        client.close()
        server.stop()
    github.stop()  # nothing listens on that port any more
    server, client = start_app(
        http_settings.model_copy(update={"github_api_url": github.base_url}), engine, fake_slack
    )
    try:
        text = client.reply("github demo-alice")["text"]
        assert text.startswith("I couldn't reach GitHub to read demo-alice's repos")
    finally:
        client.close()
        server.stop()
    assert stored(engine) is None


def test_unlinking_drops_the_inferred_stack(app, engine):
    app.reply("github demo-alice")
    assert app.reply("github off")["text"] == "Unlinked your GitHub login."
    member = stored(engine)
    assert (member.github_login, member.inferred) == (None, None)
    assert "not set" in app.reply("stack")["text"]


def modal_values(stack: str, github: str = "") -> dict:
    return {
        "stack": {"value": {"type": "plain_text_input", "value": stack}},
        "level": {"value": {"type": "static_select", "selected_option": {"value": "some"}}},
        "github": {"value": {"type": "plain_text_input", "value": github}},
        "digest_day": {"value": {"type": "static_select", "selected_option": {"value": "tue"}}},
        "digest_time": {"value": {"type": "timepicker", "selected_time": "18:30"}},
        "timezone": {"value": {"type": "plain_text_input", "value": "UTC"}},
    }


def test_profile_modal_infers_in_the_background_and_home_shows_it(
    gh_settings, engine, github, pool
):
    done = threading.Event()
    errors = save_profile(
        engine,
        "T0001",
        "U0001",
        modal_values("python", github="demo-carol"),
        now=datetime.now(UTC),
        settings=gh_settings,
        executor=pool,
        on_inferred=done.set,
    )
    assert errors == {}
    assert done.wait(10)
    assert stored(engine).inferred["languages"] == {"python": 1.0, "scala": 0.125}
    home = str(
        home_view(engine, load_settings(), "T0001", "U0001", now=datetime.now(UTC))["blocks"]
    )
    assert "Python; from your GitHub: Scala (inferred from 2 public repos)" in home
    spent = github.stats.requests
    again = modal_values("python, go", github="demo-carol")
    assert (
        save_profile(
            engine,
            "T0001",
            "U0001",
            again,
            now=datetime.now(UTC),
            settings=gh_settings,
            executor=pool,
        )
        == {}
    )
    assert github.stats.requests == spent  # same login, fresh inference: GitHub not asked
    assert stored(engine).inferred["languages"] == {"python": 1.0, "scala": 0.125}


def test_profile_modal_with_an_unknown_login_shows_the_problem_on_home(gh_settings, engine, pool):
    done = threading.Event()
    values = modal_values("go", github="no-such-person")
    assert (
        save_profile(
            engine,
            "T0001",
            "U0001",
            values,
            now=datetime.now(UTC),
            settings=gh_settings,
            executor=pool,
            on_inferred=done.set,
        )
        == {}
    )
    assert done.wait(10)
    member = stored(engine)
    assert member.languages == {"go": 1.0}  # the rest of the modal is saved
    home = str(
        home_view(engine, load_settings(), "T0001", "U0001", now=datetime.now(UTC))["blocks"]
    )
    assert (
        "no-such-person (last GitHub check failed: GitHub has no user no-such-person. "
        "Check the spelling)" in home
    )


def test_command_and_modal_store_a_typed_stack_the_same_way(app, engine):
    app.reply("stack Python, pg, k8s, frobnicate")
    by_command = stored(engine)
    save_profile(
        engine, "T0001", "U0002", modal_values("Python, pg, k8s, frobnicate"), now=datetime.now(UTC)
    )
    by_modal = stored(engine, "U0002")
    assert (by_modal.stack_text, by_modal.languages, by_modal.topics) == (
        by_command.stack_text,
        by_command.languages,
        by_command.topics,
    )
    assert by_modal.topics == {"postgresql": 1.0, "kubernetes": 1.0}


def _home(engine: Engine) -> object:
    """The Home tab's blocks for the test member, now."""
    return home_view(engine, load_settings(), "T0001", "U0001", now=datetime.now(UTC))["blocks"]
