"""Every user-visible string exists, non-empty, in kk, ru and en, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.config import LANGUAGES
from bot.i18n import LOCALES_DIR, I18n, load_catalog, pick_language

ROOT = Path(__file__).resolve().parent.parent
# t("key"), t.plain("key"), ServiceError-style ("key"), and f"roles.{...}" families.
KEY_RE = re.compile(r"""["']((?:[a-z_]+)\.[a-z_]+)["']""")
PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")
TAG_RE = re.compile(r"</?([a-z]+)[^>]*>")


def _keys_in_code() -> set[str]:
    families = {key.split(".", 1)[0] for key in load_catalog("en")}
    keys: set[str] = set()
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            if "sandbox" in path.parts:
                continue
            for key in KEY_RE.findall(path.read_text(encoding="utf-8")):
                # Module and logger names look like keys too; only message families count.
                if key.split(".", 1)[0] in families:
                    keys.add(key)
    keys.update(_registered_keys())
    for family, members in _dynamic_families().items():
        keys.update(f"{family}{m}" for m in members)
    return keys


def _registered_keys() -> set[str]:
    """What the features registered: command menu descriptions, menu labels, /help keys."""
    from telegram.ext import ApplicationBuilder

    import handlers

    features = handlers.register(ApplicationBuilder().token("1:offline").build())
    keys = {f"commands.{c}" for c in features.menu_commands}
    keys.update(entry.label for entry in features.menu_entries)
    keys.update(entry.key for entry in features.help_entries)
    return keys


def _dynamic_families() -> dict[str, list[str]]:
    """Keys the code builds with f-strings, from the values it builds them of."""
    from bot.services.broadcasts import State
    from bot.services.campaigns import WAVES, CampaignState
    from bot.services.exports import DATASETS
    from handlers.campaigns import Asked

    return {
        "roles.": ["admin", "organizer", "coach", "juror", "student"],
        "countries.": ["KZ", "RU", "UZ"],
        "broadcasts.state_": [s.value for s in State],
        "campaigns.wave_": list(WAVES),
        "campaigns.state_": [s.value for s in CampaignState],
        "campaigns.ask_": [a.value for a in Asked],
        "exports.dataset.": list(DATASETS),
        "exports.choose.": list("dsucpf"),
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_key_used_in_code_is_translated(language):
    catalog = load_catalog(language)
    missing = sorted(_keys_in_code() - set(catalog))
    assert not missing, f"{language} lacks {missing}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogs_have_the_same_keys_placeholders_and_tags(language):
    english = load_catalog("en")
    catalog = load_catalog(language)
    assert set(catalog) == set(english)
    with (LOCALES_DIR / language / "LC_MESSAGES" / "bot.po").open("rb") as fh:
        assert not [m.id for m in read_po(fh) if m.id and (m.fuzzy or not m.string)]
    for key, text in english.items():
        assert set(PLACEHOLDER_RE.findall(catalog[key])) == set(PLACEHOLDER_RE.findall(text)), key
        assert sorted(TAG_RE.findall(catalog[key])) == sorted(TAG_RE.findall(text)), key


def test_translator_escapes_values_and_falls_back():
    i18n = I18n("kk")
    t = i18n.translator("en")
    assert "&lt;b&gt;" in t("start.welcome_back", name="<b>")
    assert t.plain("roles.coach") == "coach"
    assert i18n.translator("de").language == "kk"
    assert set(i18n.all("onboarding.choose_language")) == set(LANGUAGES)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("ru-RU", "ru"), ("kk", "kk"), ("en-GB", "en"), ("uz", "kk"), (None, "kk")],
)
def test_telegram_language_codes_map_to_ours(tag, expected):
    assert pick_language(tag, "kk") == expected
