"""The `Settings` object: environment variables over `config/matchmaker.toml` over defaults.

Secrets (tokens, signing secret, database URL) come only from the environment, are `SecretStr`
and never appear in `repr`, logs or error messages.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.core.vocabulary import WEEKDAYS
from bot.errors import SetupError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_FILE = Path("config") / "matchmaker.toml"
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

# An example of a valid value for each key, shown next to a validation error.
EXAMPLES: dict[str, str] = {
    "timezone": "Europe/Berlin",
    "database_url": "postgresql+psycopg://postgres@127.0.0.1:5432/matchmaker",
    "github_token": "ghp_… (a personal access token)",
    "slack_bot_token": "xoxb-…",
    "slack_app_token": "xapp-…",
    "slack_signing_secret": "the app's signing secret",
    "slack_mode": "socket",
    "github_api_url": "https://api.github.com",
    "slack_api_url": "https://slack.com/api/",
    "http_port": "8080",
    "log_format": "json",
    "catalog.lists": '["roma-glushko/awesome-distributed-system-projects"]',
    "digest.day": "mon",
    "digest.time": "09:00",
    "digest.picks": "3",
    "schedule.crawl_day_of_week": "mon,thu",
}


class ConfigError(SetupError):
    """Invalid configuration: one human-readable line per problem, never a secret value."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def _valid_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {value!r}") from exc
    return value


def _valid_weekday(value: str) -> str:
    day = value.strip().lower()[:3]
    if day not in WEEKDAYS:
        raise ValueError(f"not a weekday: {value!r}")
    return day


def _valid_time(value: str) -> str:
    if not _TIME_RE.match(value.strip()):
        raise ValueError(f"not a 24-hour HH:MM time: {value!r}")
    return value.strip()


class CatalogSettings(BaseModel):
    """Which awesome lists to crawl."""

    lists: list[str] = Field(
        default_factory=lambda: ["roma-glushko/awesome-distributed-system-projects"]
    )
    max_list_bytes: int = Field(default=5_000_000, gt=0)
    fetch_timeout_seconds: float = Field(default=20.0, gt=0)
    fetch_retries: int = Field(default=2, ge=0, le=10)  # extra attempts on 5xx/429/network errors


class GitHubSettings(BaseModel):
    """Crawl behaviour: beginner-label vocabulary, activity threshold, budget share."""

    beginner_labels: list[str] = Field(
        default_factory=lambda: [
            "good first issue",
            "good-first-issue",
            "beginner",
            "beginner-friendly",
            "easy",
            "first-timers-only",
            "starter",
            "help wanted",
            "low-hanging-fruit",
            "up-for-grabs",
            "E-easy",
            "E-mentor",
            "difficulty/easy",
            "good first contribution",
            "first-good-issue",
        ]
    )
    extra_labels: dict[str, list[str]] = Field(default_factory=dict)
    inactive_after_days: int = Field(default=365, gt=0)
    stale_assignment_days: int = Field(default=60, gt=0)
    max_budget_share: float = Field(default=0.5, gt=0, le=1)
    budget_reserve: int = Field(default=200, ge=0)  # GraphQL points a crawl never spends
    recheck_after_hours: float = Field(default=6.0, ge=0)
    full_refresh_hours: float = Field(default=72.0, ge=0)  # re-crawl unchanged repos this often
    issues_per_page: int = Field(default=25, ge=1, le=100)  # GraphQL issues page size
    max_query_points: int = Field(default=30, ge=1, le=500)  # adaptive batches stay under this
    concurrency: int = Field(default=4, ge=1, le=16)  # GraphQL queries in flight
    search_per_minute: float = Field(default=10.0, gt=0)  # REST search pace without a token


class DigestSettings(BaseModel):
    """Defaults of the weekly digest and the optional channel post."""

    day: str = "mon"
    time: str = "09:00"
    picks: int = Field(default=3, ge=1, le=10)
    channel: str = ""
    channel_day: str = "mon"
    channel_time: str = "10:00"
    channel_picks: int = Field(default=5, ge=1, le=10)
    workspace_rate_per_s: float = Field(default=1.0, gt=0)
    send_concurrency: int = Field(default=4, ge=1, le=32)  # DMs in flight at once
    catch_up_hours: int = Field(default=72, ge=1, le=167)  # a missed slot is still sent this
    # long after it (bot down, laptop asleep); later than that, the member waits for next week
    claim_lease_seconds: int = Field(default=600, ge=10)  # a "sending" row older than this is
    # re-checked with Slack (was it posted?) and sent again only if it was not
    max_attempts: int = Field(default=5, ge=1)  # transient failures before a row is "failed"

    _day = field_validator("day", "channel_day")(_valid_weekday)
    _time = field_validator("time", "channel_time")(_valid_time)


class ScheduleSettings(BaseModel):
    """When the scheduler runs the crawl and the digest tick."""

    crawl_hour: int = Field(default=3, ge=0, le=23)
    crawl_minute: int = Field(default=0, ge=0, le=59)
    crawl_day_of_week: str = "*"  # cron day_of_week field, e.g. "mon,thu"; "*" = daily
    digest_tick_minutes: int = Field(default=5, ge=1, le=60)
    misfire_grace_seconds: int = Field(default=6 * 3600, ge=1)
    cleanup_hour: int = Field(default=4, ge=0, le=23)
    leader_retry_seconds: float = Field(default=5.0, gt=0)  # followers try to take over this often
    # the leader's lease: PostgreSQL ends a lock session idle this long (idle_session_timeout);
    # the leader renews it every leader_retry_seconds, so it must be well above that
    leader_lease_seconds: float = Field(default=20.0, ge=2)

    @model_validator(mode="after")
    def _check_lease(self) -> ScheduleSettings:
        if self.leader_lease_seconds < 2 * self.leader_retry_seconds:
            raise ValueError(
                "schedule.leader_lease_seconds must be at least twice leader_retry_seconds "
                f"(the leader renews its lease that often): {self.leader_lease_seconds} < "
                f"2 x {self.leader_retry_seconds}"
            )
        return self

    @field_validator("crawl_day_of_week")
    @classmethod
    def _check_days(cls, value: str) -> str:
        day = "(mon|tue|wed|thu|fri|sat|sun)"
        days = value.strip().lower()
        if days != "*" and not re.fullmatch(f"{day}(-{day})?(,{day}(-{day})?)*", days):
            raise ValueError(f'not "*" or weekday names like "mon,thu" or "mon-fri": {value!r}')
        return days


class PeopleSettings(BaseModel):
    """Mentors, buddies and intros (everything is opt-in per member)."""

    max_mentees: int = Field(default=4, ge=1, le=50)  # active mentees per mentor
    mentee_active_days: int = Field(default=56, ge=1)  # an opened mentor intro counts this long
    offer_expires_days: int = Field(default=7, ge=1)  # an unanswered mentor offer lapses
    buddy_every_weeks: int = Field(default=2, ge=1, le=12)  # buddy rounds per workspace
    buddy_repeat_days: int = Field(default=180, ge=0)  # never the same pair again within this
    buddy_interest_days: int = Field(default=7, ge=1)  # "interested in the same week"
    followup_after_days: int = Field(default=7, ge=1)  # ask "did you meet?" this long after
    ignored_after_days: int = Field(default=7, ge=1)  # an unanswered follow-up is ignored
    pause_after_ignored: int = Field(default=3, ge=1)  # consecutive ignored intros -> paused
    invite_min_merged: int = Field(default=1, ge=1)  # merged PRs before a mentor invitation
    intros_channel: str = ""  # channel id for member intros; empty = no #intros offers
    job_hour: int = Field(default=10, ge=0, le=23)  # daily people job, UTC
    lease_seconds: int = Field(default=600, ge=10)  # a "sending" message older than this


class MatchSettings(BaseModel):
    """How picks are chosen: spreading across members, diversity, GitHub profile inference."""

    issue_capacity: int = Field(default=1, ge=1)  # members per issue in one spreading window
    spread_days: int = Field(default=7, ge=0)  # picks of the last N days count against capacity
    max_per_repo: int = Field(default=1, ge=1)  # picks from one repository per member and digest
    candidates_per_member: int = Field(default=32, ge=4, le=500)  # repositories kept per member
    inference_cache_days: int = Field(default=7, ge=0)  # re-read a member's GitHub after N days
    inference_max_repos: int = Field(default=30, ge=1, le=100)  # own repos read per inference
    # "Already taken": distinct reporters of one workspace that hide an unconfirmed issue there
    taken_reporters_needed: int = Field(default=2, ge=1)
    taken_reports_per_hour: int = Field(default=10, ge=1)  # per member; past it nothing is stored
    # claim holds: "Interested" on a still-free issue holds it for the member this many days
    # (0: no holds); a "still on it?" nudge comes halfway; Keep extends it at most this often
    hold_days: int = Field(default=7, ge=0, le=90)
    hold_max_keeps: int = Field(default=1, ge=0, le=10)


class OutcomeSettings(BaseModel):
    """Outcome tracking (issue 19): following picked issues on GitHub after the crawl."""

    enabled: bool = True  # track picks of members with a GitHub login (token crawls only)
    track_days: int = Field(default=60, ge=1, le=365)  # follow a pick this long (hit@k window)
    # a picked issue the crawl saw unchanged is fetched again only after this many days
    sweep_days: int = Field(default=7, ge=0, le=60)


class CelebrateSettings(BaseModel):
    """Merge celebrations: opt-in per member (`/matchmaker celebrate on`), off by default."""

    channel: str = ""  # channel id for public celebrations; empty = DMs only
    channels: dict[str, str] = Field(default_factory=dict)  # per workspace: team id -> channel
    max_age_days: int = Field(default=14, ge=1)  # merges older than this are not celebrated

    def channel_for(self, team_id: str) -> str:
        """The celebration channel of one workspace ("" = none)."""
        return self.channels.get(team_id, self.channel)


def _config_file() -> Path | None:
    """The TOML file to read: $MATCHMAKER_CONFIG, else ./config/matchmaker.toml, else the repo's."""
    explicit = os.environ.get("MATCHMAKER_CONFIG")
    if explicit:
        return Path(explicit)
    for candidate in (Path.cwd() / DEFAULT_CONFIG_FILE, PROJECT_ROOT / DEFAULT_CONFIG_FILE):
        if candidate.is_file():
            return candidate
    return None


class _ConfigFileSource(TomlConfigSettingsSource):
    """pydantic-settings' TOML source for the config file; a bad file becomes a `ConfigError`
    naming file and line, and a secret in the file is refused (secrets come from the env)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        if path is not None and not path.is_file():
            raise ConfigError([f"MATCHMAKER_CONFIG: file not found: {path}"])
        try:
            super().__init__(settings_cls, toml_file=path)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([f"{path}: invalid TOML: {exc}"]) from None
        except UnicodeDecodeError:
            raise ConfigError([f"{path}: not UTF-8 text"]) from None
        _refuse_secrets(path, self.toml_data)


def _refuse_secrets(path: Path | None, data: dict[str, Any]) -> None:
    """Secrets are read only from the environment: a secret key in the file is an error."""
    secret_keys = sorted(k for k in data if _secret_env_name(k))
    if secret_keys:
        raise ConfigError(
            [
                f"{path}: {key}: secrets are read only from the environment; "
                f"remove it from the file and set {_secret_env_name(key)} instead"
                for key in secret_keys
            ]
        )


_SECRET_FIELDS = {
    "github_token",
    "github_app_private_key",
    "slack_bot_token",
    "slack_app_token",
    "slack_signing_secret",
    "slack_client_secret",
    "database_url",
    "secret_key",
}


def _secret_env_name(key: str) -> str | None:
    """The environment variable for a secret setting spelled `key` (any case, any alias)."""
    name = key.strip().lower().replace("-", "_").removeprefix("matchmaker_")
    for field in _SECRET_FIELDS:
        if name == field or (field == "secret_key" and name == "matchmaker_secret_key"):
            return _ENV_NAMES[field]
    return None


_ENV_NAMES = {
    "github_token": "GITHUB_TOKEN",
    "github_app_private_key": "GITHUB_APP_PRIVATE_KEY",
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_app_token": "SLACK_APP_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "slack_client_secret": "SLACK_CLIENT_SECRET",
    "database_url": "DATABASE_URL",
    "secret_key": "MATCHMAKER_SECRET_KEY",
}


class Settings(BaseSettings):
    """Everything the bot can be configured with. Build it with `load_settings()`."""

    model_config = SettingsConfigDict(
        env_prefix="MATCHMAKER_",
        env_nested_delimiter="__",
        extra="ignore",
        populate_by_name=True,
    )

    # Secrets and conventional variables (no MATCHMAKER_ prefix needed).
    github_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("GITHUB_TOKEN", "MATCHMAKER_GITHUB_TOKEN")
    )
    # GitHub App instead of a personal token: the crawl exchanges these for an installation token.
    github_app_private_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "GITHUB_APP_PRIVATE_KEY", "MATCHMAKER_GITHUB_APP_PRIVATE_KEY"
        ),
    )
    github_app_id: int | None = None
    github_app_installation_id: int | None = None
    slack_bot_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_BOT_TOKEN", "MATCHMAKER_SLACK_BOT_TOKEN"),
    )
    slack_app_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_APP_TOKEN", "MATCHMAKER_SLACK_APP_TOKEN"),
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "MATCHMAKER_SLACK_SIGNING_SECRET"),
    )
    database_url: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "MATCHMAKER_DATABASE_URL")
    )
    # OAuth (multi-workspace install, HTTP mode only); empty client id = single workspace.
    slack_client_id: str = Field(
        default="", validation_alias=AliasChoices("SLACK_CLIENT_ID", "MATCHMAKER_SLACK_CLIENT_ID")
    )
    slack_client_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_CLIENT_SECRET", "MATCHMAKER_SLACK_CLIENT_SECRET"),
    )

    # Encrypts OAuth tokens at rest (Fernet keys, comma-separated: the first encrypts, all
    # decrypt, so keys can be rotated). Required in OAuth mode.
    secret_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("MATCHMAKER_SECRET_KEY")
    )
    # Slack user ids ("U…", or "T…:U…" for one workspace) allowed to run global commands:
    # `crawl now`, `lists`, and `stats` across every workspace.
    operators: list[str] = Field(default_factory=list)

    data_dir: Path = Path("data")
    # An edited copy of the stack vocabulary (bot/match/taxonomy.toml); None = the packaged one.
    taxonomy_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("MATCHMAKER_TAXONOMY", "taxonomy_file")
    )
    timezone: str = "UTC"
    slack_mode: Literal["socket", "http"] = "socket"
    slack_api_url: str = "https://slack.com/api/"
    slack_admin_group: str = ""
    github_api_url: str = "https://api.github.com"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    slack_http_port: int = Field(default=3000, ge=0, le=65535)  # Slack events in HTTP mode
    # threads for Slack work after the ack (DB updates, Home, picks, follow-ups such as a crawl)
    slack_workers: int = Field(default=4, ge=2, le=64)  # more threads slow the acks (GIL)
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # /readyz fails when the last successful crawl is older than this (ops).
    ready_max_crawl_age_hours: float = Field(default=48.0, gt=0)

    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    github: GitHubSettings = Field(default_factory=GitHubSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    match: MatchSettings = Field(default_factory=MatchSettings)
    people: PeopleSettings = Field(default_factory=PeopleSettings)
    outcomes: OutcomeSettings = Field(default_factory=OutcomeSettings)
    celebrate: CelebrateSettings = Field(default_factory=CelebrateSettings)

    _tz = field_validator("timezone")(_valid_timezone)

    @field_validator(*_SECRET_FIELDS, "database_url", mode="before")
    @classmethod
    def _empty_secret_is_unset(cls, value: Any) -> Any:
        """`GITHUB_TOKEN=` (set but empty, as in a copied .env file) means "not configured"."""
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        raw = value.get_secret_value().strip()
        scheme = raw.split("://", 1)[0] if "://" in raw else ""
        if scheme in ("postgres", "postgresql"):
            raw = "postgresql+psycopg://" + raw.split("://", 1)[1]
        elif not (scheme.startswith("sqlite") or scheme.startswith("postgresql+")):
            raise ValueError("not a sqlite:// or postgresql:// URL")
        return SecretStr(raw)

    @field_validator("github_api_url", "slack_api_url")
    @classmethod
    def _check_http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _ConfigFileSource(settings_cls, _config_file()))

    # Convenience accessors -------------------------------------------------------------------

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL: DATABASE_URL, else an SQLite file under `data_dir`."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{(self.data_dir / 'matchmaker.db').as_posix()}"

    @property
    def uses_embedded_db(self) -> bool:
        """True when the bot runs on its embedded SQLite database."""
        return self.db_url.startswith("sqlite")

    def secret_values(self) -> list[str]:
        """Every secret's plain value, for log redaction."""
        secrets = [
            self.github_token,
            self.github_app_private_key,
            self.slack_bot_token,
            self.slack_app_token,
            self.slack_signing_secret,
            self.slack_client_secret,
            self.secret_key,
        ]
        values = [s.get_secret_value() for s in secrets if s is not None]
        if self.database_url is not None:
            password = re.search(r"://[^:/@]+:([^@]+)@", self.database_url.get_secret_value())
            if password:
                values.append(password.group(1))
        return [v for v in values if len(v) >= 4]


def _describe(error: ErrorDetails) -> str:
    """One line for one pydantic error: key, what was wrong, an example. Never the secret."""
    loc = [str(part) for part in error.get("loc", ())]
    field = loc[0].lower().removeprefix("matchmaker_") if loc else "?"
    key = ".".join([field, *loc[1:]])
    if field in _ENV_NAMES:
        name = _ENV_NAMES[field]
    else:
        env = "MATCHMAKER_" + "__".join(part.upper() for part in key.split("."))
        name = f"{key} ({env})"
    message = error.get("msg", "invalid value").removeprefix("Value error, ")
    example = EXAMPLES.get(key) or EXAMPLES.get(field)
    hint = f"; example: {example}" if example else ""
    return f"{name}: {message}{hint}"


def load_settings(**overrides: Any) -> Settings:
    """Build `Settings` or raise `ConfigError` with one clear line per problem."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError([_describe(err) for err in exc.errors(include_input=False)]) from None
