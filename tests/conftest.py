"""Shared fixtures: isolated environment, migrated databases (SQLite always, PostgreSQL when
DATABASE_URL is set and always in CI), and the path to ../shared/data."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel

from bot.store import migrate
from bot.store.db import make_engine

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_CI_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ENV_TO_CLEAR = (
    "GITHUB_TOKEN",
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "DATABASE_URL",
    "MATCHMAKER_CONFIG",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "GITHUB_APP_ID",
    "GITHUB_APP_INSTALLATION_ID",
    "GITHUB_APP_PRIVATE_KEY",
)

_POSTGRES_URL = os.environ.get("DATABASE_URL") or (DEFAULT_CI_POSTGRES if IN_CI else "")


def shared_data(*parts: str) -> Path:
    """Path into ../shared/data; fails in CI and skips elsewhere when it is missing."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        message = f"test data not found: {path} (clone the project with ../shared beside it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No real tokens, no developer database, data dir under tmp; CLI caches reset."""
    for name in ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("MATCHMAKER_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MATCHMAKER_DATA_DIR", str(tmp_path / "data"))
    from bot.cli.context import reset_caches

    reset_caches()
    yield
    reset_caches()


def _postgres_url(schema: str) -> str:
    url = make_url(_POSTGRES_URL)
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    """A fresh PostgreSQL schema for this test session, dropped afterwards."""
    if not _POSTGRES_URL:
        pytest.skip("PostgreSQL tests need DATABASE_URL (they always run in CI)")
    schema = f"mm_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(_postgres_url("public"))
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        admin.dispose()
        message = f"PostgreSQL at {make_url(_POSTGRES_URL).host} is unreachable: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield _postgres_url(schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _migrated_postgres(postgres_schema_url: str) -> str:
    engine = make_engine(postgres_schema_url)
    migrate.upgrade(engine)
    engine.dispose()
    return postgres_schema_url


def _truncate_all(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a migrated, empty database: SQLite, then PostgreSQL (mandatory in CI)."""
    if request.param == "sqlite":
        path = tmp_path / "matchmaker.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("_migrated_postgres")
    engine = make_engine(url)
    _truncate_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the migrated, empty test database."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the test database (committed by the test as needed)."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def cli_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the CLI's DATABASE_URL at the test database."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    return db_url
