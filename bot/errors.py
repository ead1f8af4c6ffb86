"""One error family: every error a person can act on is a `MatchmakerError`.

The message is one human-readable line (or a few) that says what is wrong and, where it can,
what to do about it; it never contains a secret. The subclass says who can fix it:

- `SetupError`: the operator's configuration, taxonomy, model file or database (exit code 2);
- `InputError`: what someone typed or pointed at (a list, a repository, a command argument);
- `ServiceError`: an outside service (GitHub, Slack, a list host) failed or refused; often
  retrying later is enough.

Stage modules keep their own names (`ConfigError`, `CatalogError`, `GitHubError`, …) as
subclasses, so callers can catch narrowly; entry points (the CLI) catch `MatchmakerError`.
"""

from __future__ import annotations

__all__ = ["InputError", "MatchmakerError", "ServiceError", "SetupError"]


class MatchmakerError(Exception):
    """An error with a message meant for the person running the bot or using it."""

    exit_code: int = 1


class SetupError(MatchmakerError):
    """The installation needs fixing: configuration, taxonomy, model file or database schema."""

    exit_code = 2


class InputError(MatchmakerError):
    """Input that cannot be used: a command argument, a list, a repository name."""


class ServiceError(MatchmakerError):
    """GitHub, Slack or a list host failed or refused the request."""
