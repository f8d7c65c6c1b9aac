"""The default pre survey over HTTP in the real process: Kazakh and Russian, the same codes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from bot.db import create_engine, make_sessionmaker, migrate_async
from bot.i18n import I18n
from bot.sandbox.emulator import Emulator
from bot.sandbox.server import EmulatorServer
from bot.sandbox.users import SimulatedUser
from bot.services import content
from tests import factories
from tests.e2e.process import BotProcess, bot_env, wait_until

ADMIN = 900001


async def _seed(db_path: Path, people: dict[int, str]) -> None:
    url = f"sqlite+aiosqlite:///{db_path}"
    await migrate_async(url)
    engine = create_engine(url)
    db = make_sessionmaker(engine)
    assert (await content.load_defaults_if_empty(db)).ok
    admins = frozenset({ADMIN})
    for telegram_id, language in {ADMIN: "en", **people}.items():
        await factories.student(
            db, telegram_id, admins, language=language, first_name="P", telegram_language=language
        )
    await factories.campaign(db, ADMIN, admins, "dlt_pre", "pre")
    await engine.dispose()


async def _take_the_survey(user: SimulatedUser, emulator: Emulator, language: str) -> None:
    """Answer every screen: first option, first ticked option, 4 on scales, 5 when typed."""
    t = I18n("kk").translator(language)
    labels = {
        name: t.plain(f"surveys.{name}")
        for name in ("start_button", "continue", "done", "skip", "submit")
    }
    await wait_until(user, emulator, lambda: labels["start_button"] in user.last_buttons, 60)
    invitation = user.last_message
    edited = invitation.edited
    await user.tap(labels["start_button"])
    # The invitation becomes the survey's first page (edited in place).
    await wait_until(user, emulator, lambda: invitation.edited > edited, 30)
    assert user.last_message is invitation and labels["continue"] in user.last_buttons
    for _ in range(80):
        page = user.last_message
        buttons = user.last_buttons
        before, edits = page.message_id, page.edited

        async def tap(label: str, page=page) -> None:
            await user.tap(label, message_id=page.message_id)

        if labels["submit"] in buttons:
            await tap(labels["submit"])
            await wait_until(user, emulator, lambda: bool(user.last_message.photo), 30)
            return
        if labels["continue"] in buttons:
            await tap(labels["continue"])
        elif any(b.startswith(("☐", "☑")) for b in buttons):
            await tap(next(b for b in buttons if b.startswith("☐")))
            await wait_until(
                user, emulator, lambda: any(b.startswith("☑") for b in user.last_buttons), 30
            )
            edits = page.edited
            await tap(labels["done"])
        elif "4" in buttons:
            await tap("4")
        elif buttons and buttons[0] not in (labels["skip"],) and not buttons[0].startswith("◀"):
            await tap(buttons[0])
        else:
            await user.send("5")
        # An answer edits the page (the next question appears on it; typed too, the page
        # being the chat's last message); a full page or a long survey's review come as a
        # newer message.
        await wait_until(
            user,
            emulator,
            lambda page=page, before=before, edits=edits: (
                user.last_message.message_id > before or page.edited > edits >= 0
            ),
            30,
        )
    raise AssertionError(f"the survey did not end; last text: {user.last_text!r}")


async def test_kazakh_and_russian_answers_land_as_the_same_codes(tmp_path):
    db_path = tmp_path / "ortaq.db"
    await _seed(db_path, {701: "kk", 702: "ru"})
    emulator = Emulator()
    async with EmulatorServer(emulator) as server:
        bot = BotProcess(bot_env(db_path, server.url, emulator.token), tmp_path)
        aigerim = SimulatedUser(emulator, 701, "Aigerim", "kk")
        dmitry = SimulatedUser(emulator, 702, "Dmitry", "ru")
        emulator.add_user(ADMIN, "Admin")
        await bot.start()
        try:
            await emulator.wait_polling(timeout=60)
            # Invitations arrive with the first campaign step, within seconds of the start.
            await _take_the_survey(aigerim, emulator, "kk")
            await _take_the_survey(dmitry, emulator, "ru")
        except Exception:
            print(bot.log())
            raise
        finally:
            await bot.stop()
    con = sqlite3.connect(db_path)
    rows = con.execute(
        "SELECT u.telegram_id, a.item_code, a.value FROM answer a"
        " JOIN attempt t ON t.id = a.attempt_id JOIN app_user u ON u.id = t.user_id"
        " WHERE t.state = 'submitted'"
    ).fetchall()
    con.close()
    by_user: dict[int, dict[str, object]] = {}
    for telegram_id, code, value in rows:
        decoded = json.loads(value) if isinstance(value, str) else value
        by_user.setdefault(telegram_id, {})[code] = decoded
    assert set(by_user) == {701, 702}
    assert by_user[701] == by_user[702]  # same items, same option codes, whatever the language
    assert by_user[701]["coop_1"] == 4 and by_user[701]["year"] == "y1"
