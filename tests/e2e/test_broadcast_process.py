"""A broadcast in the real process over HTTP: SIGTERM mid-way, restart, everyone exactly once."""

from __future__ import annotations

from pathlib import Path

from bot.db import create_engine, make_sessionmaker, migrate_async
from bot.i18n import I18n
from bot.sandbox.emulator import Emulator
from bot.sandbox.faults import Limits
from bot.sandbox.server import EmulatorServer
from bot.sandbox.users import SimulatedUser
from bot.services import broadcasts as svc
from bot.services.universities import list_universities
from tests import factories
from tests.e2e.process import BotProcess, bot_env, wait_until

ADMIN = 900001
RECIPIENTS = 60


async def _seed(db_path: Path, emulator: Emulator) -> list[int]:
    url = f"sqlite+aiosqlite:///{db_path}"
    await migrate_async(url)
    engine = create_engine(url)
    db = make_sessionmaker(engine)
    unis = await list_universities(db)
    ids = [ADMIN] + [50_000 + i for i in range(RECIPIENTS)]
    for telegram_id in ids:
        emulator.add_user(telegram_id, f"U{telegram_id}")
        await factories.student(
            db,
            telegram_id,
            university=unis[0],
            first_name=f"U{telegram_id}",
            telegram_language="en",
        )
    await engine.dispose()
    return ids[1:]


async def test_sigterm_mid_broadcast_then_restart_delivers_each_exactly_once(tmp_path):
    t = I18n("kk").translator("en")
    emulator = Emulator(
        limits=Limits(global_per_second=30, per_chat_per_second=1, per_chat_burst=4)
    )
    students = await _seed(tmp_path / "ortaq.db", emulator)
    async with EmulatorServer(emulator) as server:
        bot = BotProcess(bot_env(tmp_path / "ortaq.db", server.url, emulator.token), tmp_path)
        await bot.start()
        await emulator.wait_polling(timeout=60)
        admin = SimulatedUser(emulator, ADMIN, "Admin", "en")
        await admin.send("/broadcast")
        await wait_until(admin, emulator, lambda: "Everyone" in admin.last_buttons)
        await admin.tap("Everyone")
        await wait_until(admin, emulator, lambda: "Now send" in (admin.last_text or ""))
        await admin.send("Exactly once, please")
        await wait_until(admin, emulator, lambda: "No buttons" in admin.last_buttons)
        await admin.tap("No buttons")
        label = t.plain("broadcasts.send_now", count=RECIPIENTS + 1)
        await wait_until(admin, emulator, lambda: label in admin.last_buttons)
        await admin.tap(label)
        tenth = SimulatedUser(emulator, students[10], "U", "en")
        await wait_until(tenth, emulator, lambda: bool(tenth.messages), timeout=60)
        assert await bot.stop() == 0, bot.log()  # SIGTERM: in-flight sends finish and record
        delivered_before = sum(bool(emulator.bot_messages(s)) for s in students)
        assert delivered_before < RECIPIENTS
        await bot.start()
        last = SimulatedUser(emulator, students[-1], "U", "en")
        await wait_until(last, emulator, lambda: bool(last.messages), timeout=60)
        assert await bot.stop() == 0, bot.log()
    for chat in students:
        assert [m.text for m in emulator.bot_messages(chat)] == ["Exactly once, please"], chat
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'ortaq.db'}")
    views = await svc.list_recent(make_sessionmaker(engine), ADMIN, frozenset({ADMIN}))
    await engine.dispose()
    assert views[0].counts == {"sent": RECIPIENTS + 1}  # nothing uncertain after a clean stop
