"""Settings: one object read from the environment and `config/matchmaker.toml`."""

from bot.config.settings import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "Settings", "load_settings"]
