"""The real process over real HTTP: onboarding, a SIGKILL mid-way, and a restart."""

from __future__ import annotations

from pathlib import Path

from bot.db import create_engine, make_sessionmaker
from bot.i18n import I18n
from bot.sandbox.emulator import Emulator
from bot.sandbox.server import EmulatorServer
from bot.sandbox.users import SimulatedUser
from bot.services import users as user_service
from tests.e2e.process import BotProcess, bot_env, wait_until

UNIVERSITY = "Zhetysu University named after I. Zhansugurov"


async def test_onboarding_survives_sigkill_and_restart(tmp_path: Path):
    t = I18n("kk").translator("en")
    emulator = Emulator()
    async with EmulatorServer(emulator) as server:
        assert server.url is not None
        env = bot_env(tmp_path / "ortaq.db", server.url, emulator.token)
        bot = BotProcess(env, tmp_path)
        await bot.start()
        try:
            await emulator.wait_polling(timeout=60)
        except TimeoutError:
            raise AssertionError(bot.log()) from None
        alice = SimulatedUser(emulator, 700, "Alice", "en")  # queue mode: over getUpdates
        await alice.send("/start")
        await wait_until(alice, emulator, lambda: "English" in " ".join(alice.last_buttons))
        await alice.tap("English")
        await wait_until(
            alice, emulator, lambda: t.plain("onboarding.consent_yes") in alice.last_buttons
        )
        await alice.tap(t.plain("onboarding.consent_yes"))
        asked = t("onboarding.choose_university")
        await wait_until(alice, emulator, lambda: alice.last_text == asked)

        await bot.kill()  # mid-onboarding: language and consent are saved, university is not
        await bot.start()
        await emulator.wait_polling(timeout=60)
        await alice.send("/start")
        await wait_until(
            alice,
            emulator,
            lambda: (
                any(UNIVERSITY in b for b in alice.last_buttons)
                and alice.last_text == t("onboarding.choose_university")
            ),
        )
        await alice.tap(UNIVERSITY)
        await wait_until(alice, emulator, lambda: "faculty" in (alice.last_text or ""))
        await alice.send("Informatics, IT-31")
        await wait_until(alice, emulator, lambda: t.plain("menu.profile") in alice.last_buttons)
        assert await bot.stop() == 0, bot.log()
        assert emulator.token not in bot.log()

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'ortaq.db'}")
    profile = await user_service.get_profile(make_sessionmaker(engine), 700, frozenset())
    await engine.dispose()
    assert profile.language == "en" and profile.consent is True
    assert profile.university.code == "zhetysu" and profile.group_name == "Informatics, IT-31"
    assert profile.onboarded
