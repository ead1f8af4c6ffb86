"""Talk to the app's HTTP endpoint the way Slack does (signed requests), read replies from the
fake Slack. Used by tests, the full-pipeline test and the Slack benchmark."""

from __future__ import annotations

import json
from typing import Any

import httpx
from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.fakes.slack import BOT_TOKEN, SIGNING_SECRET, TEAM_ID, FakeSlack
from bot.fakes.slack import signing as s
from bot.slack.app import build_app
from bot.slack.http import SlackHTTPServer


class SlackLike:
    """Sends slash commands, clicks and events to the app; reads replies from the fake Slack."""

    def __init__(
        self, url: str, fake: FakeSlack, secret: str = SIGNING_SECRET, team_id: str = TEAM_ID
    ) -> None:
        self.url = url
        self.fake = fake
        self.secret = secret
        self.team_id = team_id
        self.http = httpx.Client(timeout=10)

    def post(self, body: str, headers: dict[str, str]) -> httpx.Response:
        """POST a raw body with the given headers to the app."""
        return self.http.post(self.url, content=body, headers=headers)

    def signed_command(
        self,
        text: str,
        *,
        user_id: str = "U0001",
        team_id: str | None = None,
        response_url: str | None = None,
    ) -> tuple[str, dict[str, str]]:
        """Body and headers of a signed `/matchmaker text` request from `user_id`."""
        form = s.slash_command_form(
            text,
            user_id=user_id,
            team_id=team_id or self.team_id,
            response_url=response_url or self.fake.response_url(),
        )
        return s.signed(self.secret, form=form)

    def command(
        self, text: str, *, user_id: str = "U0001", team_id: str | None = None
    ) -> httpx.Response:
        """Send `/matchmaker text` as `user_id`."""
        return self.post(*self.signed_command(text, user_id=user_id, team_id=team_id))

    def reply(self, text: str, **kwargs: Any) -> dict[str, Any]:
        """Run a command and return its ephemeral reply (ack body or response_url post)."""
        before = len(self.fake.calls_for("response_url"))
        response = self.command(text, **kwargs)
        response.raise_for_status()
        if response.text:
            return response.json()
        calls = self.fake.wait_for("response_url", before + 1)
        return calls[before].args

    def block_action(
        self,
        action_id: str,
        issue_id: int,
        *,
        user_id: str,
        channel_id: str,
        message: dict[str, Any],
    ) -> dict[str, Any]:
        """The payload of a click on a pick card's button in a posted message."""
        blocks = message["blocks"]
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        block_id = next(
            block["block_id"]
            for block in blocks
            if block.get("type") == "actions"
            and any(e.get("value") == str(issue_id) for e in block["elements"])
        )
        return s.block_action_payload(
            action_id,
            str(issue_id),
            user_id=user_id,
            team_id=self.team_id,
            channel_id=channel_id,
            message_ts=message.get("ts"),
            message_blocks=blocks,
            block_id=block_id,
            response_url=self.fake.response_url("click"),
        )

    def click(self, payload: dict[str, Any]) -> httpx.Response:
        """Send an interactivity payload."""
        body, headers = s.signed(self.secret, payload=payload)
        return self.post(body, headers)

    def event(self, event: dict[str, Any]) -> httpx.Response:
        """Send an Events API envelope."""
        body, headers = s.signed(self.secret, event=event)
        return self.post(body, headers)

    def close(self) -> None:
        """Close the HTTP client."""
        self.http.close()


def http_server(settings: Settings, engine: Engine, api_url: str, **kwargs: Any) -> SlackHTTPServer:
    """The Bolt app in HTTP mode on a free port (not started), its Web API client at `api_url`.

    `kwargs` go to `build_app` (e.g. `recommender=`, `crawler=`).
    """
    client = WebClient(token=BOT_TOKEN, base_url=api_url)
    secret = settings.slack_signing_secret
    return SlackHTTPServer(
        build_app(settings, engine, client, **kwargs),
        engine,
        secret.get_secret_value() if secret is not None else SIGNING_SECRET,
        port=0,
    )


def start_app(
    settings: Settings, engine: Engine, fake: FakeSlack, secret: str | None = None, **kwargs: Any
) -> tuple[SlackHTTPServer, SlackLike]:
    """Serve the app over HTTP against the fake Slack; a client signing with `secret`
    (default: the settings' signing secret, else `SIGNING_SECRET`)."""
    if secret is None and settings.slack_signing_secret is not None:
        secret = settings.slack_signing_secret.get_secret_value()
    server = http_server(settings, engine, fake.base_url, **kwargs)
    url = server.start()
    return server, SlackLike(url, fake, secret or SIGNING_SECRET, team_id=fake.team_id)
