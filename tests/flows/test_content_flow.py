"""Packs sent in chat: hostile files get a report line, and the uploader is not held back."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from bot.services import content as content_service
from bot.services.content import Report
from tests.conftest import ADMIN_ID
from tests.flows.helpers import onboard

PACK = (Path(__file__).resolve().parents[1] / "content" / "example_pack.yaml").read_bytes()


async def test_a_deep_pack_gets_a_report_line_and_the_uploader_is_answered_next(harness, i18n):
    """The issue's deep.yaml (`a: ` and 100,000 `[`), then /help.

    Tried before the fix: the upload got no answer for minutes (the check's quadratic scan),
    and /help waited behind it; at a few thousand levels the check ended in RecursionError.
    """
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    await admin.upload("deep.yaml", b"a: " + b"[" * 100_000, "application/x-yaml")
    assert "not loaded" in admin.last_text
    assert "deep.yaml: line 1, column 54: nested deeper than 50 levels" in admin.last_text
    await admin.send("/help")
    assert t("help.intro").replace("<b>", "").replace("</b>", "") in admin.last_text


async def test_duplicate_keys_in_chat_are_a_report_line(harness, i18n):
    """`kind: survey` then `kind: test`: refused with the path, not loaded as a test."""
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    await admin.upload("dup.yaml", PACK.replace(b"kind: test\n", b"kind: survey\nkind: test\n"))
    assert "dup.yaml: kind: the key 'kind' is given twice (lines 4 and 5)" in admin.last_text


async def test_a_second_pack_while_the_first_is_checked_is_refused(harness, i18n, monkeypatch):
    """One check per organizer at a time: the second file is refused, not queued.

    The first check is held in its thread until the second upload was answered.
    """
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    loop = asyncio.get_running_loop()
    entered = asyncio.Event()
    release = threading.Event()
    check = content_service.check_upload

    def held_check(data: bytes, filename: str) -> Report:
        loop.call_soon_threadsafe(entered.set)
        assert release.wait(60), "the test never released the check"
        return check(data, filename)

    monkeypatch.setattr(content_service, "check_upload", held_check)
    first = asyncio.create_task(admin.upload("first.yaml", PACK, "application/x-yaml"))
    await asyncio.wait_for(entered.wait(), 30)  # a guard only: the event is set at once
    # The harness waits for background work after each update, so the second upload is a
    # task too; its refusal is the bot's next message.
    seen = harness.emulator.activity(ADMIN_ID)
    second = asyncio.create_task(admin.upload("second.yaml", PACK, "application/x-yaml"))
    await harness.emulator.wait_activity(ADMIN_ID, seen, timeout=30)
    assert admin.last_text == t.plain("content.busy")
    release.set()
    await asyncio.gather(first, second)
    created = t("content.created", code="example_test", version=1)
    assert admin.last_text == created.replace("<b>", "").replace("</b>", "")
