"""Which token the crawl uses: a personal access token, or a GitHub App installation token
obtained with PyGithub's auth helpers (app id + private key + installation id)."""

from __future__ import annotations

from bot.config import Settings
from bot.github.client import GitHubError


def crawl_token(settings: Settings) -> str | None:
    """The token to crawl with, or None for the unauthenticated REST mode.

    `GITHUB_TOKEN` wins; otherwise, when `github_app_id`, `github_app_installation_id` and
    `GITHUB_APP_PRIVATE_KEY` are set, a fresh installation token (valid one hour) is minted.
    """
    if settings.github_token is not None:
        return settings.github_token.get_secret_value()
    key = settings.github_app_private_key
    if key is None or settings.github_app_id is None:
        return None
    if settings.github_app_installation_id is None:
        raise GitHubError("github_app_installation_id is required with a GitHub App key")
    # PyGithub (and its crypto stack) only when an App is configured: keeps `serve` small.
    from github import Auth, GithubException, GithubIntegration

    integration = GithubIntegration(
        auth=Auth.AppAuth(settings.github_app_id, key.get_secret_value()),
        base_url=settings.github_api_url,
        seconds_between_requests=0,
    )
    try:
        return integration.get_access_token(settings.github_app_installation_id).token
    except GithubException as exc:
        message = (exc.data or {}).get("message", "") if isinstance(exc.data, dict) else ""
        raise GitHubError(f"GitHub App token request failed: HTTP {exc.status} {message}") from None
    finally:
        integration.close()
