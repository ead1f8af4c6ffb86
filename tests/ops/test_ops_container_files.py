"""docker/Dockerfile, docker/compose.yaml, .dockerignore and .env.example, checked by parsing them
(there is no Docker engine on CI machines). The HEALTHCHECK command itself is run for real."""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
import sys
from pathlib import Path

import dockerfile
import pytest
import yaml
from opshelp import free_port

from bot.config import load_settings
from bot.config.settings import Settings
from bot.logs import Redactor

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "docker" / "Dockerfile"
COMPOSE = ROOT / "docker" / "compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
SECRET_NAMES = re.compile(r"(?i)(token|secret|password|passwd|database_url|api_key)")


def stages() -> list[list[dockerfile.Command]]:
    """The Dockerfile's instructions, split into build stages."""
    result: list[list[dockerfile.Command]] = []
    for command in dockerfile.parse_file(str(DOCKERFILE)):
        if command.cmd == "FROM":
            result.append([])
        if result:
            result[-1].append(command)
    return result


def final_stage() -> list[dockerfile.Command]:
    return stages()[-1]


def instructions(stage: list[dockerfile.Command], cmd: str) -> list[dockerfile.Command]:
    return [c for c in stage if c.cmd == cmd]


# --- Dockerfile ------------------------------------------------------------------------------


def test_image_is_multi_stage_on_a_slim_python_311_base() -> None:
    all_stages = stages()
    assert len(all_stages) >= 2
    args = {
        c.value[0].split("=", 1)[0]: c.value[0].split("=", 1)[1]
        for c in dockerfile.parse_file(str(DOCKERFILE))
        if c.cmd == "ARG" and "=" in c.value[0]
    }
    for stage in all_stages:
        image = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), ""), stage[0].value[0])
        assert re.match(r"^python:3\.11(\.\d+)?-slim", image), image
    runtime_copies = instructions(final_stage(), "COPY")
    assert any(flag.startswith("--from=") for c in runtime_copies for flag in c.flags)


def test_dependencies_come_from_the_lock_file_without_dev_tools() -> None:
    runs = [c.value[0] for stage in stages()[:-1] for c in instructions(stage, "RUN")]
    syncs = [r for r in runs if "uv sync" in r]
    assert syncs, "no `uv sync` in the build stage"
    for command in syncs:
        assert "--frozen" in command and "--no-dev" in command, command
    assert not any("pip install" in r and "uv" not in r for r in runs), "pip bypasses the lock"


def test_runs_as_a_non_root_user() -> None:
    users = instructions(final_stage(), "USER")
    assert users, "the runtime stage never switches away from root"
    user = users[-1].value[0].split(":")[0]
    assert user not in ("root", "0", "")
    last_user_line = users[-1].start_line
    later = [c for c in final_stage() if c.start_line > last_user_line and c.cmd == "RUN"]
    assert not later, "RUN after USER would run as the app user; keep setup before it"


def test_entrypoint_is_matchmaker_serve() -> None:
    stage = final_stage()
    entrypoint = instructions(stage, "ENTRYPOINT")[-1]
    cmd = instructions(stage, "CMD")[-1]
    assert entrypoint.json and cmd.json, "use the exec form so SIGTERM reaches the bot"
    assert [*entrypoint.value, *cmd.value] == ["matchmaker", "serve"]


def test_healthcheck_probes_healthz_with_python() -> None:
    checks = instructions(final_stage(), "HEALTHCHECK")
    assert len(checks) == 1
    check = checks[0]
    assert check.value[0] == "CMD" and check.json
    assert check.value[1] == "python", "slim images have no curl"
    assert "/healthz" in " ".join(check.value)
    flags = dict(flag.lstrip("-").split("=", 1) for flag in check.flags)
    assert {"interval", "timeout", "start-period"} <= set(flags)


def _healthcheck_argv() -> list[str]:
    argv = list(instructions(final_stage(), "HEALTHCHECK")[0].value[1:])
    return [sys.executable if argv[0] == "python" else argv[0], *argv[1:]]


def test_healthcheck_command_passes_on_a_healthy_server_and_fails_without_one(
    tmp_path: Path,
) -> None:
    from bot.store.db import make_engine
    from bot.web.health import HealthServer

    settings = load_settings(http_port=0)
    engine = make_engine(f"sqlite:///{tmp_path / 'hc.db'}")
    with HealthServer(settings, engine) as server:
        env = {**os.environ, "MATCHMAKER_HTTP_PORT": str(server.port)}
        healthy = subprocess.run(_healthcheck_argv(), env=env, capture_output=True, timeout=30)
    assert healthy.returncode == 0, healthy.stderr.decode()[-500:]
    env = {**os.environ, "MATCHMAKER_HTTP_PORT": str(free_port())}
    down = subprocess.run(_healthcheck_argv(), env=env, capture_output=True, timeout=30)
    assert down.returncode != 0


def test_no_secret_is_baked_into_the_image() -> None:
    redactor = Redactor()
    for command in dockerfile.parse_file(str(DOCKERFILE)):
        text = command.original
        assert redactor.redact_text(text) == text, (
            f"token-shaped value on line {command.start_line}"
        )
        if command.cmd in ("ENV", "ARG"):
            names = command.value[0::2] if command.cmd == "ENV" else command.value
            for name in names:
                assert not SECRET_NAMES.search(name.split("=")[0]), f"{command.cmd} {name}"
        if command.cmd in ("COPY", "ADD"):
            assert not any(Path(src).name == ".env" for src in command.value[:-1])


def test_runtime_image_gets_the_config_directory_and_a_writable_data_dir() -> None:
    stage = final_stage()
    copies = [c.value for c in instructions(stage, "COPY")]
    assert any(value[0] == "config" for value in copies)
    env = dict(
        zip(
            *[iter(v for c in instructions(stage, "ENV") for v in c.value)] * 2,
            strict=True,
        )
    )
    assert env["MATCHMAKER_HTTP_HOST"] == "0.0.0.0", "metrics must be reachable from outside"
    assert env["MATCHMAKER_LOG_FORMAT"] == "json"
    data_dir = env["MATCHMAKER_DATA_DIR"]
    setup = " ".join(c.value[0] for c in instructions(stage, "RUN"))
    assert f"chown matchmaker:matchmaker {data_dir}" in setup


def _dockerignore_allows(path: str) -> bool:
    allowed = False
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/"):
            allowed = negate
    return allowed


def test_every_copied_file_exists_and_passes_dockerignore_but_secrets_do_not() -> None:
    for stage in stages():
        for command in instructions(stage, "COPY"):
            if any(flag.startswith("--from=") for flag in command.flags):
                continue
            for source in command.value[:-1]:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
                assert _dockerignore_allows(source), f"COPY {source}: excluded by .dockerignore"
    for private in (".env", "data/matchmaker.db", ".git/config", "tests/conftest.py"):
        assert not _dockerignore_allows(private), f"{private} would be sent to the builder"


# --- compose ---------------------------------------------------------------------------------


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_runs_postgres_16_with_a_named_volume_and_a_healthcheck() -> None:
    spec = compose()
    postgres = spec["services"]["postgres"]
    assert postgres["image"].startswith("postgres:16")
    volume = next(v for v in postgres["volumes"] if v.endswith(":/var/lib/postgresql/data"))
    assert volume.split(":")[0] in spec["volumes"], "data must live in a named volume"
    test = postgres["healthcheck"]["test"]
    assert "pg_isready" in (test if isinstance(test, str) else " ".join(test))


def test_compose_bot_waits_for_a_healthy_database_and_reads_env_file() -> None:
    spec = compose()
    bot = spec["services"]["bot"]
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    env_files = bot["env_file"] if isinstance(bot["env_file"], list) else [bot["env_file"]]
    paths = [e if isinstance(e, str) else e["path"] for e in env_files]
    assert any((COMPOSE.parent / p).resolve() == ROOT / ".env" for p in paths)
    build = bot["build"]
    assert (COMPOSE.parent / build["context"]).resolve() == ROOT
    assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
    url = bot["environment"]["DATABASE_URL"]
    assert url.startswith("postgresql") and "@postgres:5432/" in url


def test_compose_contains_no_literal_secret() -> None:
    spec = compose()
    for name, service in spec["services"].items():
        environment = service.get("environment") or {}
        for key, value in environment.items():
            if SECRET_NAMES.search(key):
                value = str(value)
                literal = re.sub(r"\$\{[^}]+\}", "", value)
                assert not re.search(r":[^/@:]+@", literal), f"{name}.{key} has a literal password"
                assert "${" in value, f"{name}.{key} must come from the environment"


def test_every_variable_compose_interpolates_is_in_env_example() -> None:
    used = set(re.findall(r"(?<!\$)\$\{(\w+)", COMPOSE.read_text()))
    assert used <= env_example_names(), used - env_example_names()


# --- .env.example ----------------------------------------------------------------------------


def env_example_names() -> set[str]:
    """Variables set or shown (commented out) in .env.example."""
    pattern = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
    return set(pattern.findall(ENV_EXAMPLE.read_text()))


def settings_env_names() -> dict[str, str]:
    """Top-level Settings fields by their primary environment variable name."""
    names: dict[str, str] = {}
    prefix = Settings.model_config.get("env_prefix", "")
    for field_name, info in Settings.model_fields.items():
        alias = info.validation_alias
        choices = getattr(alias, "choices", None)
        env = str(choices[0]) if choices else f"{prefix}{field_name}".upper()
        names[env] = field_name
    return names


def extra_env_names() -> set[str]:
    """MATCHMAKER_* variables the code reads directly (not through Settings)."""
    found: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        if "fakes" in path.parts:
            continue
        found |= set(re.findall(r"environ\.get\(\"(MATCHMAKER_\w+)\"", path.read_text()))
        found |= set(re.findall(r"environ\[\"(MATCHMAKER_\w+)\"\]", path.read_text()))
    return found


def compose_only_names() -> set[str]:
    return set(re.findall(r"(?<!\$)\$\{(\w+)", COMPOSE.read_text()))


def _nested_field_exists(name: str) -> bool:
    section, _, key = name.removeprefix("MATCHMAKER_").lower().partition("__")
    info = Settings.model_fields.get(section)
    model = getattr(info, "annotation", None)
    return bool(key) and key in getattr(model, "model_fields", {})


def test_every_setting_is_documented_in_env_example() -> None:
    documented = env_example_names()
    nested_sections = {
        name
        for name, info in Settings.model_fields.items()
        if hasattr(info.annotation, "model_fields")
    }
    expected = {
        env for env, field in settings_env_names().items() if field not in nested_sections
    } | extra_env_names()
    missing = sorted(expected - documented)
    assert not missing, f"add to .env.example: {missing}"
    for section in nested_sections:
        assert any(n.startswith(f"MATCHMAKER_{section.upper()}__") for n in documented), section


def test_every_variable_in_env_example_is_read_by_the_bot_or_compose() -> None:
    known = set(settings_env_names()) | extra_env_names() | compose_only_names()
    unknown = sorted(name for name in env_example_names() - known if not _nested_field_exists(name))
    assert not unknown, f"not a setting (typo or removed?): {unknown}"


def test_env_example_values_load_as_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Uncommenting every example line must give a configuration the bot accepts."""
    pattern = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", re.MULTILINE)
    compose_only = compose_only_names() - set(settings_env_names())
    for name, value in pattern.findall(ENV_EXAMPLE.read_text()):
        if name in compose_only or name in extra_env_names() or name == "DATABASE_URL":
            continue
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.digest.picks == 3
    assert settings.http_port == 8080
