"""Configuration: defaults, derived URLs, and one clear line naming a wrong variable."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, Settings, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Whatever the machine's environment says, these tests start from nothing."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def _load(**values):
    return load_settings(_env_file=None, **values)


def test_defaults_and_derived_urls():
    settings = _load()
    assert settings.sandbox and settings.database_url == "sqlite+aiosqlite:///data/ortaq.db"
    assert settings.default_language == "kk" and settings.timezone == "Asia/Almaty"
    assert settings.api_base_url == "https://api.telegram.org/bot"
    assert settings.api_base_file_url == "https://api.telegram.org/file/bot"


def test_values_from_the_environment(monkeypatch):
    monkeypatch.setenv("BOT_TOKEN", "123456:ABCdef_ghi-JKL")
    monkeypatch.setenv("PSEUDONYM_KEY", "a-real-secret-of-ours")
    monkeypatch.setenv("ADMIN_IDS", " 5, 7 ,")
    monkeypatch.setenv("BOT_API_URL", "http://127.0.0.1:8081/")
    settings = _load()
    assert not settings.sandbox
    assert settings.admin_ids == frozenset({5, 7})
    assert settings.api_base_url == "http://127.0.0.1:8081/bot"
    assert "ABCdef" not in repr(settings)  # the token is a secret


def test_transport_event_loop_and_chart_workers(monkeypatch):
    """Tried: the defaults (aiohttp, uvloop where it is, 2 chart workers), then each changed."""
    settings = _load()
    assert settings.bot_api_transport == "aiohttp" and settings.use_uvloop
    assert settings.chart_workers == 2
    monkeypatch.setenv("BOT_API_TRANSPORT", "httpx")
    monkeypatch.setenv("USE_UVLOOP", "false")
    monkeypatch.setenv("CHART_WORKERS", "0")
    settings = _load()
    assert settings.bot_api_transport == "httpx" and not settings.use_uvloop
    assert settings.chart_workers == 0


@pytest.mark.parametrize("enabled", [True, False])
def test_python_m_bot_runs_on_uvloop_where_it_can(enabled):
    """Tried: USE_UVLOOP on (uvloop's loop where it is installed) and off (asyncio's own)."""
    import asyncio

    from bot.__main__ import use_event_loop
    from bot.config import uvloop_available

    name = use_event_loop(_load(use_uvloop=enabled))
    loop = asyncio.get_event_loop_policy().get_event_loop()
    try:
        if enabled and uvloop_available():
            import uvloop

            assert name == "uvloop" and isinstance(loop, uvloop.Loop)
        else:
            assert name == "asyncio" and not type(loop).__module__.startswith("uvloop")
        assert loop.run_until_complete(asyncio.sleep(0, "ran")) == "ran"
    finally:
        loop.close()
        asyncio.set_event_loop(None)


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
        ("BOT_API_TRANSPORT", "requests"),
        ("USE_UVLOOP", "perhaps"),
        ("CHART_WORKERS", "-1"),
    ],
)
def test_a_wrong_value_fails_with_one_line_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as exc:
        _load()
    message = str(exc.value)
    assert message.startswith(f"configuration error: {name}: ")
    assert "\n" not in message


def test_the_public_default_pseudonym_key_is_refused_with_a_real_token(monkeypatch):
    monkeypatch.setenv("BOT_TOKEN", "123456:ABCdef_ghi-JKL")
    with pytest.raises(ConfigError, match="PSEUDONYM_KEY: set a secret of your own"):
        _load()
    assert _load(bot_token=None).sandbox  # the sandbox may keep the default


def test_the_sandbox_gets_its_own_database_unless_one_is_given(monkeypatch):
    assert _load().for_sandbox().database_url == "sqlite+aiosqlite:///data/sandbox.db"
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:///elsewhere.db")
    assert _load().for_sandbox().database_url == "sqlite+aiosqlite:///elsewhere.db"


def test_almaty_is_utc_plus_5_from_the_tzdata_package():
    from datetime import datetime

    settings = _load()
    assert datetime(2026, 6, 1, tzinfo=settings.tz).utcoffset().total_seconds() == 5 * 3600


def test_python_m_bot_collects_garbage_less_often():
    """Tried: the runner's collector setting: the youngest generation is collected every
    10,000 allocations (Python's default is 700); the older generations keep their ratios."""
    import gc

    from bot.__main__ import COLLECT_EVERY, tune_collector

    saved = gc.get_threshold()
    try:
        tune_collector()
        assert gc.get_threshold() == (COLLECT_EVERY, *saved[1:]) and COLLECT_EVERY == 10_000
    finally:
        gc.set_threshold(*saved)
