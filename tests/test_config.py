"""Configuration: defaults, derived URLs, and one clear line naming a wrong variable."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings


def _load(**values):
    return load_settings(_env_file=None, **values)


def test_defaults_and_derived_urls(monkeypatch):
    for name in ("BOT_TOKEN", "DATABASE_URL", "ADMIN_IDS", "BOT_API_URL", "TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    settings = _load()
    assert settings.sandbox and settings.database_url == "sqlite+aiosqlite:///data/ortaq.db"
    assert settings.default_language == "kk" and settings.timezone == "Asia/Almaty"
    assert settings.api_base_url == "https://api.telegram.org/bot"
    assert settings.api_base_file_url == "https://api.telegram.org/file/bot"


def test_values_from_the_environment(monkeypatch):
    monkeypatch.setenv("BOT_TOKEN", "123456:ABCdef_ghi-JKL")
    monkeypatch.setenv("ADMIN_IDS", " 5, 7 ,")
    monkeypatch.setenv("BOT_API_URL", "http://127.0.0.1:8081/")
    settings = _load()
    assert not settings.sandbox
    assert settings.admin_ids == frozenset({5, 7})
    assert settings.api_base_url == "http://127.0.0.1:8081/bot"
    assert "ABCdef" not in repr(settings)  # the token is a secret


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BOT_TOKEN", "not-a-token"),
        ("ADMIN_IDS", "12,abc"),
        ("BOT_API_URL", "ftp://x"),
        ("DATABASE_URL", "mysql://x"),
        ("DEFAULT_LANGUAGE", "de"),
        ("TIMEZONE", "Asia/Nowhere"),
        ("PSEUDONYM_KEY", "short"),
        ("LOG_LEVEL", "LOUD"),
    ],
)
def test_a_wrong_value_fails_with_one_line_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as exc:
        _load()
    message = str(exc.value)
    assert message.startswith(f"configuration error: {name}: ")
    assert "\n" not in message
