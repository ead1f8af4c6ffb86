"""OAuth tokens encrypted at rest with Fernet keys from `MATCHMAKER_SECRET_KEY`.

The variable holds one or more Fernet keys separated by commas. The first encrypts; every key
decrypts (`MultiFernet`), so a key is rotated by putting a new one first, running
`matchmaker db rotate-key` (`SqlInstallationStore.rotate()`: every row re-encrypted with the
first key), then the old key is removed. `cryptography` (~8 MB resident) is imported only when
a box is made, i.e. in OAuth mode: a single-workspace `serve` never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.config.settings import ConfigError, Settings

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

GENERATE = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)
MISSING = (
    "MATCHMAKER_SECRET_KEY: required in OAuth mode (it encrypts the workspaces' tokens at rest); "
    f"generate one with: {GENERATE}"
)


class TokenBox:
    """Encrypts and decrypts token strings with the configured keys."""

    def __init__(self, keys: str) -> None:
        from cryptography.fernet import Fernet, MultiFernet

        parts = [part.strip() for part in keys.split(",") if part.strip()]
        if not parts:
            raise ConfigError([MISSING])
        try:
            self._fernet: MultiFernet = MultiFernet([Fernet(part.encode()) for part in parts])
        except ValueError:
            raise ConfigError(
                [
                    "MATCHMAKER_SECRET_KEY: not a Fernet key (32 url-safe base64 bytes); "
                    f"generate one with: {GENERATE}"
                ]
            ) from None

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenBox:
        """The box for `settings.secret_key`; ConfigError (with the fix) when it is unset."""
        if settings.secret_key is None:
            raise ConfigError([MISSING])
        return cls(settings.secret_key.get_secret_value())

    def seal(self, plain: str) -> str:
        """`plain` encrypted with the first key."""
        return self._fernet.encrypt(plain.encode()).decode()

    def open(self, sealed: str) -> str | None:
        """The plain text, or None when no configured key opens it (wrong or dropped key)."""
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except (InvalidToken, ValueError):
            return None

    def reseal(self, sealed: str) -> str | None:
        """`sealed` re-encrypted with the first key (key rotation), or None if unreadable."""
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.rotate(sealed.encode()).decode()
        except (InvalidToken, ValueError):
            return None
