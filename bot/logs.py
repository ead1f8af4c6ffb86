"""Logging for the whole process: structlog, JSON in containers, pretty in a terminal, redacted.

`configure_logging(settings)` sets up structlog *and* the standard `logging` module (slack_sdk,
httpx, apscheduler, alembic log through it), so every line goes through the same processors:
context variables (the `run_id` of a crawl or digest), level, timestamp, then `Redactor`, which
removes secrets before anything is rendered. Use `run_context("crawl")` around a run so that every
line logged inside it, by our code or a library, carries the same `run_id`; worker threads get it
through `in_current_context(fn)`.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TextIO, TypeVar

import structlog
from pydantic import SecretStr
from structlog.typing import EventDict, WrappedLogger

from bot.config import Settings

MASK = "[REDACTED]"
P = ParamSpec("P")
R = TypeVar("R")

# Token shapes we redact even when the value is not one of the configured secrets.
_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{6,}"),  # Slack bot/user/app-config tokens
    re.compile(r"\bxapp-[A-Za-z0-9-]{6,}"),  # Slack app-level tokens (Socket Mode)
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{16,}"),  # GitHub classic / OAuth / app tokens
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"),  # GitHub fine-grained tokens
    re.compile(r"\bv0=[0-9a-f]{32,}"),  # Slack request signatures
    # response_urls grant posting rights: plain or URL-encoded (in raw request bodies)
    re.compile(r"(?i)https?(?::|%3A)(?:/|%2F){2}hooks\.slack\.com[^\s'\"&,}]*"),
    re.compile(  # PEM private keys (GitHub App)
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S
    ),
)
# "Authorization: Bearer x", "'authorization': 'token x'", "Bearer x" anywhere in a string.
_AUTH_HEADER = re.compile(
    r"(?i)((?:proxy-)?authorization['\"]?\s*[:=]\s*['\"]?)(?:(?:bearer|token|basic)\s+)?[^\s'\",}]+"
)
# "Bearer x…" is always a credential; "token x…" only when x looks like one (has a digit), so
# prose such as "token rejected" stays readable.
_BEARER = re.compile(
    r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}|\b(token)\s+(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{16,}"
)
# Passwords in URLs (postgresql://user:secret@host) and secret-looking query parameters.
_RESPONSE_URL = re.compile(r"(?i)(response_url['\"]?\s*[:=]\s*['\"]?)[^\s'\",}&]+")
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+(@)")
_QUERY_SECRET = re.compile(
    r"(?i)([?&](?:token|access_token|client_secret|signing_secret|password|sig)=)[^&\s'\"]+"
)
# Keys whose values are secret whatever they look like.
_SECRET_KEY = re.compile(
    r"(?i)^(authorization|proxy-authorization|x-slack-signature|cookie|set-cookie|response_url|"
    r".*(token|secret|password|passwd)s?)$"
)
_PLAIN = (int, float, bool, type(None))


class Redactor:
    """A structlog processor that replaces secrets in every value of an event dict."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def redact_text(self, text: str) -> str:
        """`text` with every known secret and token-shaped substring masked."""
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        for pattern in _PATTERNS:
            text = pattern.sub(MASK, text)
        text = _AUTH_HEADER.sub(lambda m: m.group(1) + MASK, text)
        text = _BEARER.sub(lambda m: f"{m.group(1) or m.group(2)} {MASK}", text)
        text = _RESPONSE_URL.sub(lambda m: m.group(1) + MASK, text)
        text = _URL_PASSWORD.sub(lambda m: m.group(1) + MASK + m.group(2), text)
        return _QUERY_SECRET.sub(lambda m: m.group(1) + MASK, text)

    def redact(self, value: Any, key: str = "") -> Any:
        """A copy of `value` (str, mapping, sequence or any object) with secrets masked."""
        if key and _SECRET_KEY.match(key) and value not in (None, "", b""):
            return MASK if not isinstance(value, bool | int | float) else value
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, _PLAIN):
            return value
        if isinstance(value, bytes):
            return self.redact_text(value.decode("utf-8", "replace"))
        if isinstance(value, Mapping):
            return {k: self.redact(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.redact(v) for v in value]
        return self.redact_text(str(value))

    def __call__(self, _logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        for key in list(event_dict):
            if key.startswith("_"):  # structlog's own bookkeeping (_record, _from_structlog)
                continue
            event_dict[key] = self.redact(event_dict[key], "" if key == "event" else key)
        return event_dict


_redactor = Redactor()


def redact(text: str) -> str:
    """Mask secrets in `text` with the redactor of the last `configure_logging` call."""
    return _redactor.redact_text(text)


def secret_values(settings: Settings) -> list[str]:
    """`settings.secret_values()` plus the value of every other `SecretStr` field."""
    values = list(settings.secret_values())
    for name in type(settings).model_fields:
        value = getattr(settings, name, None)
        if isinstance(value, SecretStr):
            values.append(value.get_secret_value())
    return values


def in_container() -> bool:
    """True when running inside a container (Docker, Podman, Kubernetes)."""
    return (
        Path("/.dockerenv").exists()
        or Path("/run/.containerenv").exists()
        or bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
        or bool(os.environ.get("container"))  # noqa: SIM112 (set by podman/systemd)
    )


def wants_json(settings: Settings, stream: TextIO) -> bool:
    """JSON unless `log_format` says console, or is auto and the stream is a terminal."""
    if settings.log_format != "auto":
        return settings.log_format == "json"
    is_tty = hasattr(stream, "isatty") and stream.isatty()
    return not is_tty or in_container()


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time of each line (it may be replaced later,
    e.g. by a test runner capturing output), never to a stream that has since been closed."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


_HANDLER_FLAG = "_matchmaker_handler"
NOISY_LOGGERS = (
    "httpx",
    "httpcore",
    "urllib3",
    "apscheduler",
    "slack_sdk",
    "slack_bolt",
    "alembic",
)


def configure_logging(
    settings: Settings, *, stream: TextIO | None = None, json: bool | None = None
) -> None:
    """Route structlog and stdlib logging to `stream` (default: the current `sys.stderr` at each
    line) through one redacting chain.

    Safe to call again (tests, `serve` after a config reload): the previous handler is replaced.
    """
    global _redactor
    explicit_stream = stream is not None
    stream = stream if stream is not None else sys.stderr
    as_json = wants_json(settings, stream) if json is None else json
    level = getattr(logging, settings.log_level.upper())
    _redactor = Redactor(secret_values(settings))

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,  # tracebacks become text, so they get redacted
        _redactor,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=hasattr(stream, "isatty") and stream.isatty())
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _redactor,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream) if explicit_stream else _StderrHandler()
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_FLAG, True)

    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_FLAG, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Libraries chat at INFO/DEBUG (every HTTP request); keep them one notch quieter than ours.
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(level if level <= logging.DEBUG else logging.WARNING)

    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def reset_logging() -> None:
    """Undo `configure_logging`: remove its handler, restore structlog's defaults (tests)."""
    global _redactor
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_FLAG, False)]:
        root.removeHandler(old)
    root.setLevel(logging.WARNING)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    _redactor = Redactor()


def get_logger(name: str | None = None) -> Any:
    """A structlog logger (named after the calling module when `name` is given)."""
    return structlog.stdlib.get_logger(name)


def new_run_id() -> str:
    """A short random id for one crawl or digest run."""
    return uuid.uuid4().hex[:12]


def in_current_context(fn: Callable[P, R]) -> Callable[P, R]:
    """`fn` wrapped to run, in any thread, with the caller's context variables (the run id).

    Threads do not inherit context variables: submit `in_current_context(work)` to a
    ThreadPoolExecutor inside `run_context(...)` so the workers' log lines carry the run id.
    """
    context = contextvars.copy_context()

    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        return context.copy().run(fn, *args, **kwargs)

    return call


@contextmanager
def run_context(kind: str, run_id: str | int | None = None, **extra: Any) -> Iterator[str]:
    """Bind `run_id` (and `run_kind`) to every log line inside the block, in this thread/task."""
    value = str(run_id) if run_id is not None else new_run_id()
    with structlog.contextvars.bound_contextvars(run_id=value, run_kind=kind, **extra):
        yield value
