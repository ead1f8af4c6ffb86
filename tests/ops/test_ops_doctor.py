"""`matchmaker doctor` against the fake GitHub and Slack servers (and respx for scope headers)."""

from __future__ import annotations

import httpx
import pytest
import respx
from opshelp import GITHUB_TOKEN, SLACK_APP_TOKEN, SLACK_BOT_TOKEN, assert_no_secret, free_port
from typer.testing import CliRunner

from bot.cli.app import app

runner = CliRunner()


def doctor() -> tuple[int, str]:
    result = runner.invoke(app, ["doctor"])
    assert "Traceback" not in result.output
    assert_no_secret(result.output)
    return result.exit_code, result.output


def line(output: str, name: str) -> str:
    """The checklist line of check `name` plus its fix line, if any."""
    lines = output.splitlines()
    for index, text in enumerate(lines):
        if text[3:].startswith(name):
            following = lines[index + 1] if index + 1 < len(lines) else ""
            return text + ("\n" + following if following.strip().startswith("fix:") else "")
    raise AssertionError(f"no line for {name!r} in:\n{output}")


@pytest.fixture
def configured(
    monkeypatch: pytest.MonkeyPatch, cli_db: str, fake_github: str, fake_slack: object
) -> object:
    """Everything configured and pointing at the fakes, on a migrated database."""
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("SLACK_BOT_TOKEN", SLACK_BOT_TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", SLACK_APP_TOKEN)
    monkeypatch.setenv("MATCHMAKER_GITHUB_API_URL", fake_github)
    monkeypatch.setenv("MATCHMAKER_SLACK_API_URL", fake_slack.base_url)  # type: ignore[attr-defined]
    return fake_slack


def test_everything_healthy_passes_with_a_checkmark_per_check(configured: object) -> None:
    code, output = doctor()
    assert code == 0, output
    for name in ("config", "database", "migrations", "github token", "github budget"):
        assert "✓" in line(output, name)
    assert "✓" in line(output, "slack bot token") and "workspace" in line(output, "slack bot")
    assert "✓" in line(output, "slack socket mode")
    assert "graphql: 5000/5000 left" in line(output, "github budget")
    assert "All checks passed" in output
    called = {call.method for call in configured.calls}  # type: ignore[attr-defined]
    assert {"auth.test", "apps.connections.open"} <= called


def test_rejected_github_token_fails_with_a_fix(
    configured: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_WRONGwrongWRONGwrong0123456789")
    code, output = doctor()
    assert code == 1
    assert "✗" in line(output, "github token") and "401" in line(output, "github token")
    assert "fix: create a new token" in line(output, "github token")
    assert "WRONGwrong" not in output


def test_invalid_slack_token_fails_with_a_fix(configured: object) -> None:
    configured.fail_next("auth.test", "invalid_auth")  # type: ignore[attr-defined]
    code, output = doctor()
    assert code == 1
    assert "invalid_auth" in line(output, "slack bot token")
    assert "fix: the token is wrong or revoked" in line(output, "slack bot token")


def test_socket_mode_without_app_token_fails(
    configured: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_APP_TOKEN")
    code, output = doctor()
    assert code == 1
    assert "SLACK_APP_TOKEN not set" in line(output, "slack socket mode")
    assert "connections:write" in line(output, "slack socket mode")


def test_wrong_app_token_fails_socket_mode(
    configured: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A0-999-someotherFAKEvalue")
    code, output = doctor()
    assert code == 1
    assert "invalid_auth" in line(output, "slack socket mode")
    assert "someother" not in output


def test_nothing_configured_passes_with_skips_but_reports_missing_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with respx.mock(base_url="https://api.github.com") as mock:
        mock.get("/rate_limit").respond(
            200, json={"resources": {"search": {"limit": 10, "remaining": 10, "reset": 0}}}
        )
        code, output = doctor()
    assert code == 0, output
    assert "does not exist yet" in line(output, "database")
    assert "matchmaker db upgrade" in line(output, "database")
    assert "unauthenticated REST search" in line(output, "github token")
    assert "–" in line(output, "slack bot token")


def test_unreachable_database_fails_with_a_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "DATABASE_URL",
        f"postgresql://mm:FAKEdbPASSWORD@127.0.0.1:{free_port()}/mm?connect_timeout=2",
    )
    with respx.mock(base_url="https://api.github.com") as mock:
        mock.get("/rate_limit").respond(200, json={"resources": {}})
        code, output = doctor()
    assert code == 1
    assert "unreachable" in line(output, "database") and "fix: start the database" in output
    assert "FAKEdbPASSWORD" not in output


def test_unmigrated_database_is_a_warning_pointing_at_db_upgrade(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    from bot.store.db import make_engine

    path = tmp_path / "empty.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect():
        pass  # creates the file, no tables
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    with respx.mock(base_url="https://api.github.com") as mock:
        mock.get("/rate_limit").respond(200, json={"resources": {}})
        _, output = doctor()
    assert "!" in line(output, "migrations") and "matchmaker db upgrade" in output


def test_exhausted_github_budget_fails(monkeypatch: pytest.MonkeyPatch, cli_db: str) -> None:
    from bot.fakes.github.server import FakeGitHub
    from bot.fakes.github.world import demo_world

    fake = FakeGitHub(
        demo_world(), token=GITHUB_TOKEN, limits={"core": 5000, "search": 30, "graphql": 0}
    )
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("MATCHMAKER_GITHUB_API_URL", fake.start())
    try:
        code, output = doctor()
    finally:
        fake.stop()
    assert code == 1
    assert "graphql: 0/0 left" in line(output, "github budget")
    assert "fix: wait until" in line(output, "github budget")


@pytest.mark.parametrize(
    ("scopes", "mark", "text"),
    [
        ("", "✓", "scopes: none"),
        ("read:user", "✓", "scopes: read:user"),
        ("repo, admin:org", "!", "broader than needed: repo, admin:org"),
        (None, "✓", "fine-grained or app token"),
    ],
)
def test_github_token_scopes_are_reported(
    monkeypatch: pytest.MonkeyPatch, scopes: str | None, mark: str, text: str
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    headers = {} if scopes is None else {"X-OAuth-Scopes": scopes}
    budget = {"graphql": {"limit": 5000, "remaining": 4000, "reset": 0}}
    with respx.mock(base_url="https://api.github.com") as mock:
        route = mock.get("/rate_limit").respond(200, headers=headers, json={"resources": budget})
        _, output = doctor()
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {GITHUB_TOKEN}"
    assert mark in line(output, "github token") and text in line(output, "github token")


def test_unreachable_github_fails_with_a_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    with respx.mock(base_url="https://api.github.com") as mock:
        mock.get("/rate_limit").mock(side_effect=httpx.ConnectError("connection refused"))
        code, output = doctor()
    assert code == 1
    assert "unreachable" in line(output, "github api") and "fix: check network" in output


def test_invalid_config_fails_first_and_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATCHMAKER_TIMEZONE", "Mars/Olympus")
    code, output = doctor()
    assert code == 1
    assert "unknown timezone" in line(output, "config")
    assert "database" not in output


def test_a_token_set_to_an_empty_string_counts_as_not_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "")  # an uncommented `GITHUB_TOKEN=` line in .env
    monkeypatch.setenv("SLACK_BOT_TOKEN", " ")
    monkeypatch.setenv("MATCHMAKER_GITHUB_API_URL", "http://127.0.0.1:9")  # never the real API
    _code, output = doctor()
    assert "✓ config" in output
    assert "console delivery" in line(output, "config")
    assert "SLACK_BOT_TOKEN" in line(output, "slack")


def test_doctor_checks_the_bot_can_post_in_the_community_channel(
    monkeypatch: pytest.MonkeyPatch, configured: object
) -> None:
    configured.joined_channels = {"CJOINED"}  # type: ignore[attr-defined]
    monkeypatch.setenv("MATCHMAKER_DIGEST__CHANNEL", "CCOMMUNITY")
    code, output = doctor()
    assert code != 0
    assert "not a member of CCOMMUNITY" in line(output, "slack channel")
    assert "/invite @matchmaker" in line(output, "slack channel")
    monkeypatch.setenv("MATCHMAKER_DIGEST__CHANNEL", "CJOINED")
    _, output = doctor()
    assert "✓" in line(output, "slack channel") and "can post in CJOINED" in output


def test_a_digest_run_stopped_by_a_revoked_token_is_a_failure_with_a_fix(
    configured: object, cli_db: str
) -> None:
    from datetime import UTC, datetime

    from sqlmodel import Session

    from bot.store.db import make_engine
    from bot.store.models import DigestRun

    engine = make_engine(cli_db)
    started = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with Session(engine) as session:
        session.add(
            DigestRun(
                week="2026-W48",
                status="token_error",
                error="slack token: invalid_auth",
                started_at=started,
                finished_at=started,
            )
        )
        session.commit()
    engine.dispose()
    code, output = doctor()
    assert code == 1
    text = line(output, "last digest run")
    assert "✗" in text and "invalid_auth" in text and "SLACK_BOT_TOKEN" in text
