"""Settings: environment over TOML over defaults; every invalid value is one clear line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.app import app
from bot.config import ConfigError, load_settings

FAKE_GITHUB = "ghp_FAKEtoken1234567890recognisable"
FAKE_SLACK = "xoxb-FAKE-recognisable-slack-token"
FAKE_PASSWORD = "pw-FAKE-recognisable"

runner = CliRunner()


def test_defaults_use_embedded_sqlite_under_data_dir(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.uses_embedded_db
    assert settings.db_url == f"sqlite:///{tmp_path / 'data' / 'matchmaker.db'}"
    assert settings.catalog.lists == ["roma-glushko/awesome-distributed-system-projects"]
    assert settings.github_token is None


def test_conventional_env_names_and_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", FAKE_GITHUB)
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db:5432/mm")
    monkeypatch.setenv("MATCHMAKER_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("MATCHMAKER_DIGEST__PICKS", "5")
    settings = load_settings()
    assert settings.github_token is not None
    assert settings.github_token.get_secret_value() == FAKE_GITHUB
    assert settings.db_url == "postgresql+psycopg://u@db:5432/mm"
    assert settings.timezone == "Europe/Berlin"
    assert settings.digest.picks == 5
    assert FAKE_GITHUB not in repr(settings)
    assert FAKE_GITHUB not in str(settings.model_dump())


def test_toml_file_is_read_and_env_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "mm.toml"
    config.write_text('timezone = "Asia/Tokyo"\n[digest]\nday = "fri"\npicks = 4\n')
    monkeypatch.setenv("MATCHMAKER_CONFIG", str(config))
    monkeypatch.setenv("MATCHMAKER_DIGEST__PICKS", "2")
    settings = load_settings()
    assert settings.timezone == "Asia/Tokyo"
    assert settings.digest.day == "fri"
    assert settings.digest.picks == 2


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"MATCHMAKER_TIMEZONE": "Mars/Olympus"},
            "timezone (MATCHMAKER_TIMEZONE): unknown timezone",
        ),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL: not a sqlite:// or postgresql:// URL"),
        ({"MATCHMAKER_GITHUB_API_URL": "ftp:/x"}, "github_api_url (MATCHMAKER_GITHUB_API_URL)"),
        ({"MATCHMAKER_DIGEST__TIME": "25:00"}, "digest.time (MATCHMAKER_DIGEST__TIME)"),
        ({"MATCHMAKER_SLACK_MODE": "carrier-pigeon"}, "slack_mode (MATCHMAKER_SLACK_MODE)"),
    ],
)
def test_each_problem_is_one_line_with_key_and_example(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    (line,) = caught.value.problems
    assert line.startswith(expected)
    assert "example" in line or "slack_mode" in line


def test_several_problems_are_all_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATCHMAKER_TIMEZONE", "Nowhere/Land")
    monkeypatch.setenv("MATCHMAKER_DIGEST__DAY", "someday")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert len(caught.value.problems) == 2


def test_bad_toml_names_file_and_position(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "broken.toml"
    config.write_text('timezone = "UTC"\n[digest\nday = "mon"\n')
    monkeypatch.setenv("MATCHMAKER_CONFIG", str(config))
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(config) in caught.value.problems[0]
    assert "invalid TOML" in caught.value.problems[0]
    assert "line 2" in caught.value.problems[0]


def test_secrets_in_the_toml_file_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "secrets.toml"
    config.write_text(f'github_token = "{FAKE_GITHUB}"\n')
    monkeypatch.setenv("MATCHMAKER_CONFIG", str(config))
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "set GITHUB_TOKEN instead" in caught.value.problems[0]
    assert FAKE_GITHUB not in str(caught.value)


def test_a_config_file_that_is_not_utf8_or_missing_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "latin1.toml"
    config.write_bytes('timezone = "Europe/Zürich"\n'.encode("latin-1"))
    monkeypatch.setenv("MATCHMAKER_CONFIG", str(config))
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.problems == [f"{config}: not UTF-8 text"]
    monkeypatch.setenv("MATCHMAKER_CONFIG", str(tmp_path / "gone.toml"))
    with pytest.raises(ConfigError, match="file not found"):
        load_settings()


def test_file_values_fill_nested_tables_and_the_taxonomy_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "mm.toml"
    config.write_text('taxonomy_file = "my/taxonomy.toml"\n[match]\nmax_per_repo = 2\n')
    monkeypatch.setenv("MATCHMAKER_CONFIG", str(config))
    settings = load_settings()
    assert settings.taxonomy_file == Path("my/taxonomy.toml")
    assert settings.match.max_per_repo == 2 and settings.match.spread_days == 7
    monkeypatch.setenv("MATCHMAKER_TAXONOMY", "/etc/mm/taxonomy.toml")
    assert load_settings().taxonomy_file == Path("/etc/mm/taxonomy.toml")


@pytest.mark.parametrize(
    "env",
    [
        {"MATCHMAKER_TIMEZONE": "Bad/Zone"},
        {"MATCHMAKER_CONFIG": "/nonexistent/matchmaker.toml"},
        {"DATABASE_URL": f"oracle://admin:{FAKE_PASSWORD}@db/x"},
    ],
)
def test_cli_exits_2_with_clear_message_and_no_secret(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", FAKE_GITHUB)
    monkeypatch.setenv("SLACK_BOT_TOKEN", FAKE_SLACK)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "Invalid configuration" in result.output
    assert "Traceback" not in result.output
    for secret in (FAKE_GITHUB, FAKE_SLACK, FAKE_PASSWORD):
        assert secret not in result.output


def test_unreachable_database_is_one_line_without_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres:{FAKE_PASSWORD}@127.0.0.1:9/x")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 1
    assert "cannot use the database (PostgreSQL at 127.0.0.1:9/x)" in result.output
    assert FAKE_PASSWORD not in result.output
    assert "Traceback" not in result.output


def test_empty_token_variables_mean_not_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "   ")
    monkeypatch.setenv("DATABASE_URL", "")
    settings = load_settings()
    assert settings.github_token is None
    assert settings.slack_bot_token is None
    assert settings.uses_embedded_db
