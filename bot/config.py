"""Settings read from the environment and `.env`: the only place configuration is parsed.

`Settings` is built once by `python -m bot` (or by a test) and handed to
`bot.app.build_application`; nothing reads the environment at import time.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, reset_tzpath

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LANGUAGES: tuple[str, ...] = ("kk", "ru", "en")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/ortaq.db"
# The sandbox keeps its made-up users and roles away from the real database by default.
SANDBOX_DATABASE_URL = "sqlite+aiosqlite:///data/sandbox.db"
DEFAULT_PSEUDONYM_KEY = "change-me-in-production"
_TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{5,}$")
# Telegram's rule for setWebhook's secret_token.
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# Paths the web server keeps for itself: the webhook cannot take them.
RESERVED_PATHS = frozenset({"/healthz", "/metrics"})


def webhook_path(url: str) -> str:
    """The path part of a webhook URL ("/" when it has none)."""
    rest = url.split("://", 1)[-1]
    slash = rest.find("/")
    return "/" if slash < 0 else rest[slash:]


def split_listen(value: str) -> tuple[str, int]:
    """`host:port` (IPv6 in brackets) as (host, port); ValueError naming the expected form."""
    text = value.strip()
    host, sep, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise ValueError("expected host:port, such as 0.0.0.0:8080 or 127.0.0.1:9100")
    return host, int(port)


def _default_transport() -> Literal["aiohttp", "httpx"]:
    """Aiohttp when it is installed (it is a dependency), else PTB's own httpx transport."""
    return "aiohttp" if importlib.util.find_spec("aiohttp") is not None else "httpx"


def uvloop_available() -> bool:
    """Uvloop is installed (it has no Windows build)."""
    return sys.platform != "win32" and importlib.util.find_spec("uvloop") is not None


class ConfigError(Exception):
    """A configuration value is wrong; the message names the variable in one line."""


class Settings(BaseSettings):
    """Every setting of the bot; each field is documented in `.env.example`."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: SecretStr | None = None
    database_url: str = DEFAULT_DATABASE_URL
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    bot_api_url: str = "https://api.telegram.org"
    default_language: Literal["kk", "ru", "en"] = "kk"
    timezone: str = "Asia/Almaty"
    pseudonym_key: SecretStr = SecretStr(DEFAULT_PSEUDONYM_KEY)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # Updates handled at once across users (one user's updates are always sequential).
    max_concurrent_updates: int = Field(default=32, ge=1, le=1024)
    # Telegram's limits for messages the bot sends on its own initiative (broadcasts).
    broadcast_rate: float = Field(default=30.0, gt=0, le=1000)
    broadcast_chat_rate: float = Field(default=1.0, gt=0, le=30)
    # Days without course activity after which a learner gets one reminder (one per period).
    course_nudge_days: int = Field(default=3, ge=1, le=365)
    # The HTTP client of Bot API calls: aiohttp (bot/transport.py) or PTB's own httpx.
    bot_api_transport: Literal["aiohttp", "httpx"] = Field(default_factory=_default_transport)
    # `python -m bot` runs on uvloop where it is installed, unless this is false.
    use_uvloop: bool = True
    # Processes drawing charts (bot/services/chart_pool.py); 0 draws them in a thread.
    chart_workers: int = Field(default=2, ge=0, le=32)
    # How updates arrive: long polling (one process) or a webhook (replicas behind a proxy).
    # Declared before the webhook fields: their checks read it.
    bot_mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = Field(default=None, validate_default=True)
    webhook_secret: SecretStr | None = Field(default=None, validate_default=True)
    webhook_listen: str = "0.0.0.0:8080"
    # /healthz and /metrics on their own address (host:port); unset: in webhook mode they are
    # served beside the webhook, in polling mode not at all.
    health_listen: str | None = None

    @field_validator("bot_token", mode="before")
    @classmethod
    def _check_token(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str) or not _TOKEN_RE.match(value.strip()):
            raise ValueError("expected a token like 123456789:AAE... from @BotFather")
        return value.strip()

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            try:
                return frozenset(int(p) for p in parts)
            except ValueError:
                raise ValueError(
                    "expected comma-separated numeric Telegram user ids, e.g. 12345,67890"
                ) from None
        return value

    @field_validator("bot_api_url")
    @classmethod
    def _check_api_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("expected an http(s) URL such as https://api.telegram.org")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_db_url(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "expected sqlite+aiosqlite:///path/to/file.db or postgresql+asyncpg://user:pw@host/db"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone name such as Asia/Almaty") from None
        return value

    @field_validator("pseudonym_key")
    @classmethod
    def _check_key(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        if len(value.get_secret_value()) < 8:
            raise ValueError("expected a secret of at least 8 characters")
        if value.get_secret_value() == DEFAULT_PSEUDONYM_KEY and info.data.get("bot_token"):
            # Pseudonyms keyed with a public default could be reversed by anyone.
            raise ValueError("set a secret of your own before running with a real BOT_TOKEN")
        return value

    @field_validator("bot_mode", mode="before")
    @classmethod
    def _lower_mode(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        value = value.strip() if value else None
        if value is None:
            if info.data.get("bot_mode") == "webhook":
                raise ValueError(
                    "required when BOT_MODE=webhook: the public https:// URL Telegram posts to"
                )
            return None
        if not re.match(r"^https://[^\s/?#]+(/[^\s?#]*)?$", value):
            raise ValueError("expected a public https:// URL such as https://bot.example.org/tg")
        if webhook_path(value) in RESERVED_PATHS:
            raise ValueError("/healthz and /metrics are the health paths: choose another path")
        return value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _check_webhook_secret(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value is None or (isinstance(value, str) and not value.strip()):
            if info.data.get("bot_mode") == "webhook":
                raise ValueError(
                    "required when BOT_MODE=webhook: without it anyone could post updates "
                    "(1-256 characters A-Z, a-z, 0-9, _ and -; e.g. openssl rand -hex 32)"
                )
            return None
        if not isinstance(value, str) or not _SECRET_RE.match(value.strip()):
            raise ValueError("expected 1-256 characters A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value.strip()

    @field_validator("webhook_listen")
    @classmethod
    def _check_webhook_listen(cls, value: str) -> str:
        split_listen(value)
        return value.strip()

    @field_validator("health_listen")
    @classmethod
    def _check_health_listen(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        split_listen(value)
        return value.strip()

    @property
    def webhook_path(self) -> str:
        """The path of `WEBHOOK_URL`, where the web server takes Telegram's posts."""
        return webhook_path(self.webhook_url or "")

    @property
    def sandbox(self) -> bool:
        """True when no token is configured: the bot runs against the embedded emulator."""
        return self.bot_token is None

    def for_sandbox(self) -> Settings:
        """These settings for the sandbox: its own database unless DATABASE_URL was given."""
        if "database_url" in self.model_fields_set:
            return self
        return self.model_copy(update={"database_url": SANDBOX_DATABASE_URL})

    @property
    def api_base_url(self) -> str:
        """Bot API method root, as PTB's `base_url` expects it."""
        return f"{self.bot_api_url}/bot"

    @property
    def api_base_file_url(self) -> str:
        """Bot API file root, as PTB's `base_file_url` expects it."""
        return f"{self.bot_api_url}/file/bot"

    @property
    def tz(self) -> ZoneInfo:
        """The display time zone."""
        return ZoneInfo(self.timezone)

    def sqlite_path(self) -> Path | None:
        """The SQLite file behind `database_url`, or None for in-memory or PostgreSQL."""
        prefix = "sqlite+aiosqlite:///"
        if not self.database_url.startswith(prefix):
            return None
        path = self.database_url[len(prefix) :].split("?", 1)[0]
        if not path or path == ":memory:":
            return None
        return Path(path)


def load_settings(**overrides: object) -> Settings:
    """Build settings or raise `ConfigError` with one line naming the wrong variable."""
    # Use the tzdata package, never an older system zone database: Kazakhstan's zones
    # changed on 2024-03-01, and a stale system copy would show times an hour off.
    reset_tzpath([])
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).upper() if err.get("loc") else "?"
        message = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"configuration error: {name}: {message}") from None
