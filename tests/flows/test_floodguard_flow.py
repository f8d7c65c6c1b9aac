"""Direct replies survive Telegram's flood control: waited out, then sent, nothing lost."""

from __future__ import annotations

from bot.sandbox.faults import Limits
from tests.flows.helpers import onboard


async def test_a_burst_of_replies_waits_for_flood_control_instead_of_failing(harness, i18n):
    t = i18n.translator("en")
    # One message per second per chat, no burst at all: the strictest Telegram could be.
    harness.emulator.limits = Limits(per_chat_per_second=1, per_chat_burst=1)
    user = harness.user(600, "Gaukhar", "en")
    began = harness.clock.now()
    await onboard(user, i18n)  # several steps answer with two or three messages at once
    assert harness.emulator.stats.too_many_requests > 0  # Telegram did push back ...
    assert t.plain("menu.profile") in user.last_buttons  # ... and the flow still finished
    assert t("errors.internal") not in user.texts
    assert harness.clock.now() - began >= harness.emulator.stats.too_many_requests


async def test_replies_are_booked_so_the_gateway_leaves_room_for_them(harness, i18n):
    user = harness.user(601, "Nurlan", "en")
    await onboard(user, i18n)
    limiter = harness.app.bot_data.gateway.limiter
    # The gateway's next message to this chat waits a second after the last reply.
    assert limiter.reserve(601) > 0


async def test_two_502s_and_a_dropped_connection_on_a_reply_are_retried(harness, i18n):
    """Issue 9.3: only 429 used to be retried, so a brief 5xx left the user in silence.

    Tried: two 502s then a dropped connection on the sendMessage that answers a typed group
    name; the menu still arrives, once, with no apology.
    """
    t = i18n.translator("en")
    user = harness.user(602, "Aruzhan", "en")
    await user.send("/start")
    await user.tap("English")
    await user.tap(t.plain("onboarding.consent_yes"))
    await user.tap("M.Kh. Dulaty Taraz Regional University")
    harness.emulator.faults.add("sendMessage", kind="server_error", status=502, times=2)
    harness.emulator.faults.add("sendMessage", kind="network", times=1)
    await user.send("Pedagogy, PO-21")
    assert sum(harness.emulator.stats.faults_fired.values()) == 3
    assert t.plain("menu.profile") in user.last_buttons
    assert t("errors.internal") not in user.texts
    assert sum("Main menu" in text for text in user.texts) == 1


async def test_a_refused_edit_is_not_retried(harness, i18n):
    """Review: PTB makes BadRequest a NetworkError, so a double tap's "message is not
    modified" was retried three times (1.75 s and four calls) before being ignored."""
    user = harness.user(603, "Dana", "en")
    await onboard(user, i18n)
    await user.send("/language")
    message = user.last_message.message_id
    await user.tap_data("lang:en", message)
    calls = harness.emulator.stats.calls["editMessageText"]
    began = harness.clock.now()
    await user.tap_data("lang:en", message)  # the same edit again: 400 "not modified"
    assert harness.emulator.stats.calls["editMessageText"] - calls == 1
    assert harness.clock.now() - began < 0.25
