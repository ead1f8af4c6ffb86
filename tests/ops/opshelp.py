"""Helpers shared by the ops tests (imported as `opshelp`: tests/ops is on sys.path)."""

from __future__ import annotations

import socket

# Recognisable fake secrets: if any of these appears in captured output, redaction failed.
GITHUB_TOKEN = "ghp_FAKEopsTOKEN0123456789abcdefABCDEF"
SLACK_BOT_TOKEN = "xoxb-111111-222222-FAKEopsBOTtoken"
SLACK_APP_TOKEN = "xapp-1-A0MATCH-333-FAKEopsAPPtoken"
SIGNING_SECRET = "FAKEopsSIGNINGsecret0123456789ab"
SECRETS = (GITHUB_TOKEN, SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SIGNING_SECRET)


def assert_no_secret(text: str) -> None:
    """Fail naming the secret that leaked (never printing the whole output)."""
    for secret in SECRETS:
        assert secret not in text, f"secret {secret[:8]}… leaked"
        assert secret[8:] not in text, f"tail of secret {secret[:8]}… leaked"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
