"""Workspaces stay apart: exact installation lookups, no team-less requests or members, tokens
encrypted at rest with rotatable keys, OAuth mode refused without a key."""

from __future__ import annotations

import time

import pytest
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import func, text
from sqlmodel import Session, select

from bot.config.settings import ConfigError, load_settings
from bot.fakes.slack import SIGNING_SECRET
from bot.fakes.slack import signing as s
from bot.slack.app import check_settings
from bot.slack.install_store import SqlInstallationStore
from bot.slack.profile import find_member, get_or_create_member, get_or_create_members
from bot.slack.token_box import TokenBox
from bot.store.models import Member

OLD = "x5mN3l0lG7m3iW0VbB9m0n4eJ8k2qXc1tV6yHk9aP2E="
NEW = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGw="


def _install(store: SqlInstallationStore, team_id: str, token: str, enterprise: str | None = None):
    store.save(
        Installation(
            app_id="A1",
            enterprise_id=enterprise,
            team_id=team_id,
            bot_token=token,
            bot_id="B1",
            bot_user_id="UB",
            bot_scopes=["commands"],
            user_id="UI",
        )
    )


def test_lookups_need_the_exact_team(engine):
    store = SqlInstallationStore(engine, TokenBox(OLD))
    _install(store, "TA", "xoxb-a-token")
    _install(store, "TB", "xoxb-b-token", enterprise="E1")
    assert store.find_bot(enterprise_id=None, team_id="TA").bot_token == "xoxb-a-token"
    for enterprise, team, org_wide in [
        (None, "", False),
        (None, None, False),
        (None, "", True),
        ("E1", "", True),
        ("E1", None, True),
        (None, "TB", False),  # right team, wrong enterprise
        ("E1", "TA", False),
        (None, "TC", False),
    ]:
        found = store.find_bot(
            enterprise_id=enterprise, team_id=team, is_enterprise_install=org_wide
        )
        assert found is None, (enterprise, team, org_wide)


def test_installations_without_a_team_are_refused(engine):
    store = SqlInstallationStore(engine, TokenBox(OLD))
    with pytest.raises(ValueError):
        _install(store, "", "xoxb-org-token", enterprise="E1")


def test_tokens_are_encrypted_at_rest_and_keys_rotate(engine):
    store = SqlInstallationStore(engine, TokenBox(OLD))
    _install(store, "TA", "xoxb-secret-a-token")
    with engine.connect() as connection:
        dump = str(connection.execute(text("SELECT * FROM slack_installation")).all())
    assert "xoxb-secret-a-token" not in dump
    assert (
        SqlInstallationStore(engine, TokenBox(NEW)).find_bot(enterprise_id=None, team_id="TA")
        is None
    )
    rotating = SqlInstallationStore(engine, TokenBox(f"{NEW},{OLD}"))
    assert rotating.rotate() == (1, 0)
    rotated = SqlInstallationStore(engine, TokenBox(NEW)).find_bot(enterprise_id=None, team_id="TA")
    assert rotated.bot_token == "xoxb-secret-a-token"


def test_oauth_mode_without_a_key_is_refused_with_the_fix():
    settings = load_settings(
        slack_mode="http",
        slack_signing_secret="s" * 32,
        slack_client_id="1.2",
        slack_client_secret="cs",
    )
    with pytest.raises(ConfigError) as error:
        check_settings(settings)
    [problem] = error.value.problems
    assert problem.startswith("MATCHMAKER_SECRET_KEY") and "Fernet.generate_key()" in problem
    with pytest.raises(ConfigError, match="not a Fernet key"):
        TokenBox("short")


def test_members_never_change_workspace(engine):
    with Session(engine) as session:
        session.add(Member(team_id="", slack_user_id="U1"))
        session.commit()
        assert find_member(session, "TA", "U1") is None
        with pytest.raises(ValueError):
            get_or_create_member(session, "", "U1")
        member = get_or_create_member(session, "TA", "U1")
        session.commit()
        assert member.team_id == "TA"
        teams = sorted(m.team_id for m in session.exec(select(Member)))
    assert teams == ["", "TA"]


def test_a_batch_of_members_is_found_or_created_per_workspace_in_order(engine):
    with Session(engine) as session:
        known = get_or_create_member(session, "TA", "U1")
        session.commit()
        users = [("TB", "U1"), ("TA", "U1"), ("TA", "U2"), ("TB", "U1")]
        members = get_or_create_members(session, users)
        session.commit()
        assert [(m.team_id, m.slack_user_id) for m in members] == users
        assert members[1].id == known.id
        assert members[0].id == members[3].id != known.id  # the same user id elsewhere
        assert session.exec(select(func.count()).select_from(Member)).one() == 3


@pytest.mark.parametrize(("team_id", "status"), [("", 400), ("T0FOREIGN", 403)])
def test_requests_with_an_empty_or_foreign_team_do_nothing(
    slack, engine, fake_slack, team_id, status
):
    form = s.slash_command_form(
        "level some", team_id=team_id, response_url=fake_slack.response_url()
    )
    body, headers = s.signed(SIGNING_SECRET, form=form)
    assert slack.post(body, headers).status_code == status
    time.sleep(0.3)
    with Session(engine) as session:
        assert session.exec(select(Member)).all() == []
    assert fake_slack.calls_for("response_url") == []


def test_rotate_key_command_reencrypts_and_names_unreadable_tokens(cli_db, monkeypatch):
    from typer.testing import CliRunner

    from bot.cli.app import app
    from bot.store.db import make_engine

    engine = make_engine(cli_db)
    _install(SqlInstallationStore(engine, TokenBox(OLD)), "TA", "xoxb-rotate-me")
    runner = CliRunner()
    monkeypatch.setenv("MATCHMAKER_SECRET_KEY", NEW)
    refused = runner.invoke(app, ["db", "rotate-key"])
    assert refused.exit_code == 1 and "1 token(s) open with none" in refused.output
    monkeypatch.setenv("MATCHMAKER_SECRET_KEY", f"{NEW},{OLD}")
    from bot.cli.context import reset_caches

    reset_caches()
    done = runner.invoke(app, ["db", "rotate-key"])
    assert done.exit_code == 0 and "Re-encrypted 1" in done.output
    found = SqlInstallationStore(engine, TokenBox(NEW)).find_bot(enterprise_id=None, team_id="TA")
    assert found.bot_token == "xoxb-rotate-me"
    engine.dispose()
