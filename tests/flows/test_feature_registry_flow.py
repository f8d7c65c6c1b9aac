"""A new feature plugs in by registering itself: no other module is edited to add it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import handlers
from bot.config import Settings
from bot.sandbox.harness import Harness
from bot.services import users as user_service
from tests.features import toy
from tests.flows.helpers import onboard


@pytest.fixture
async def toy_harness(settings: Settings) -> AsyncIterator[Harness]:
    async with Harness(settings, features=(*handlers.FEATURES, toy.register)) as h:
        yield h
        assert not h.errors, f"handlers raised: {h.errors!r}"


async def test_a_toy_feature_gets_its_command_button_and_typed_route(toy_harness, i18n):
    """Tried: /toy, its button, a typed answer routed by `toy_name:7`, a forged toy button."""
    user = toy_harness.user(7001, "Toy", "en")
    await onboard(user, i18n)
    await user.send("/toy")
    assert user.last_text == "Toy here"
    await user.tap("Press")
    assert user.last_text == "Name for #7?"
    await user.send("Aigerim")
    assert user.last_text == "Hello Aigerim #7"
    # The registry answers malformed data of the toy's kind before the toy sees it.
    await user.send("/toy")
    await user.tap_data("toy:p:x", user.last_message.message_id)
    assert user.last_toast == i18n.translator("en").plain("errors.stale_button")
    # The rest of the bot is untouched: the menu still works.
    await user.send("/menu")
    assert "Main menu" in (user.last_text or "")


async def test_without_the_toy_its_command_is_unknown(harness, i18n):
    user = harness.user(7002, "NoToy", "en")
    await onboard(user, i18n)
    await user.send("/toy")
    assert user.last_text == i18n.translator("en")("errors.unknown_command")


async def test_an_awaited_route_nobody_registered_is_not_understood(harness, i18n):
    """A stored `awaiting` value of a feature that is gone does not break typed text."""
    user = harness.user(7003, "Ghost", "en")
    await onboard(user, i18n)
    await user_service.set_awaiting(harness.app.bot_data.db, 7003, "ghost:1", frozenset())
    await user.send("hello")
    assert user.last_text == i18n.translator("en")("errors.not_understood")
