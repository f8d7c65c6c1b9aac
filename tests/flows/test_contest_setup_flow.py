"""The organizers' contest wizard (/contest_setup) through the emulator.

A new contest is set up from nothing in chat: its code, title and rules, the four dates, the
entry fields, a two-criterion rubric and the review rules, each bad value refused with its
message while the step keeps waiting, a restart in the middle that loses nothing, a Save that
lists what is still missing, then a Save that creates the contest. Then the saved contest is
opened again: its code cannot change, a discarded copy leaves it as saved, and once it has an
entry its entry fields are locked. Nobody else may open the wizard.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.callbacks import SetupAsk, SetupInput, SetupOpen
from models import Contest, ContestEntry, ContestSetup
from tests import factories
from tests.conftest import ADMIN_ID

ADMINS = frozenset({ADMIN_ID})
ZONE = ZoneInfo("Asia/Almaty")  # the tests' TIMEZONE
CODE = "pedagogy_2027"
TITLE = "[kk] Үздік сабақ жоспары\n[ru] Лучший план урока\n[en] The best lesson plan"


def _visible(text: str) -> str:
    """A translated HTML text as the person reads it."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _typed(moment: datetime) -> str:
    """A moment as an organizer types it, in the bot's zone."""
    return moment.astimezone(ZONE).strftime("%d.%m.%Y %H:%M")


async def _contest(harness, code: str) -> Contest | None:
    async with harness.app.bot_data.db() as session:
        return await session.scalar(select(Contest).where(Contest.code == code))


async def _copies(harness) -> list[ContestSetup]:
    async with harness.app.bot_data.db() as session:
        return list((await session.scalars(select(ContestSetup))).all())


async def test_an_organizer_sets_up_a_new_contest_in_chat(harness, i18n):
    """Tried: a student and a coach refused; New contest → the code: `Bad Code!` and the default
    contest's code refused with their reasons, then a good code → the title → the rules (the
    wizard walks a new contest through them); a restart, then the title in three languages and
    the rules; Save before the dates and criteria → "Not saved" listing the problems with their
    pack paths, the copy kept; the dates: `next Friday` refused, the four dates typed; the entry
    fields: link optional, `exe!!` refused as file types, `pdf, docx`, a count of `1-2`, a team
    size of `11` refused, then 3; two criteria in four steps each (a code starting with a digit,
    a weight of 0 and a maximum of 101 refused); a criterion added by mistake removed; blind
    review switched off; Save → the rules' missing kk and ru named, sent in a second message
    (the English kept); Save → "created"; the stored contest holds every value typed."""
    t = i18n.translator("en")
    db = harness.app.bot_data.db
    organizer = harness.user(4501, "Org", "en")
    await factories.organizer(db, 4501, ADMINS, first_name="Org")
    student = harness.user(4502, "Stu", "en")
    await factories.student(db, 4502, first_name="Stu")
    coach = harness.user(4503, "Coa", "en")
    await factories.coach(db, 4503, ADMINS, first_name="Coa")

    for outsider in (student, coach):
        await outsider.send("/contest_setup")
        assert outsider.last_text == _visible(t("contest.setup_not_allowed"))
    # A forged button of the wizard, pressed by a student: refused, nothing created.
    await student.tap_data(SetupOpen(1).pack(), student.last_message.message_id)
    assert await _copies(harness) == []

    await organizer.send("/contest_setup")
    assert t.plain("contest.setup_new_button") in organizer.last_buttons
    await organizer.tap(t.plain("contest.setup_new_button"))
    assert organizer.last_text == _visible(t("contest.setup_ask_code"))
    await organizer.send("Bad Code!")
    assert organizer.last_text == _visible(
        t("contest.setup_bad_code", example="platform_contest_2027")
    )
    await organizer.send("dlt_platform_contest")
    assert organizer.last_text == _visible(
        t("contest.setup_code_taken", code="dlt_platform_contest")
    )
    await organizer.send(CODE)
    assert organizer.last_text == _visible(t("contest.setup_ask_title", max=150))

    # A restart while the title is awaited: the copy and the awaited step are kept.
    await harness.restart()
    await organizer.send(TITLE)
    assert organizer.last_text == _visible(t("contest.setup_ask_rules"))
    await organizer.send("[en] Send one lesson plan that uses a digital platform.")
    overview = organizer.last_text or ""
    assert "The best lesson plan" in overview and CODE in overview

    # Save too early: the problems are named with their pack paths; the copy stays.
    await organizer.tap(t.plain("contest.setup_save_button"))
    refused = organizer.last_text or ""
    assert refused.startswith(_visible(t("contest.setup_refused", count=1)).split(":")[0][:10])
    assert "criteria" in refused
    assert await _contest(harness, CODE) is None
    assert len(await _copies(harness)) == 1

    # The dates.
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    opens, deadline = now + timedelta(days=1), now + timedelta(days=30)
    late_until, jury = deadline + timedelta(days=1), deadline + timedelta(days=14)
    await organizer.send("/contest_setup")
    await organizer.tap(t.plain("contest.setup_continue_new"))
    await organizer.tap(t.plain("contest.setup_dates_button"))
    await organizer.tap(t.plain("contest.setup_opens_button"))
    await organizer.send("next Friday")
    assert "not a date and time" in (organizer.last_text or "")
    await organizer.send(_typed(opens))
    assert _visible(t("contest.setup_saved_value")) in organizer.texts[-2:][0]
    for button, moment in (
        ("contest.setup_deadline_button", deadline),
        ("contest.setup_late_button", late_until),
        ("contest.setup_jury_button", jury),
    ):
        await organizer.tap(t.plain(button))
        await organizer.send(_typed(moment))

    # The entry fields.
    await organizer.tap(t.plain("contest.setup_back_button"))
    await organizer.tap(t.plain("contest.setup_entry_button"))
    await organizer.tap(t.plain("contest.setup_link_optional"))
    await organizer.tap(t.plain("contest.setup_types_button"))
    await organizer.send("exe!!")
    assert organizer.last_text is not None and "not file extensions" in organizer.last_text
    await organizer.send("pdf, docx")
    await organizer.tap(t.plain("contest.setup_count_button"))
    await organizer.send("1-2")
    await organizer.tap(t.plain("contest.setup_team_button"))
    await organizer.send("11")
    assert organizer.last_text == _visible(t("contest.setup_bad_number", low=1, high=10))
    await organizer.send("3")

    # The rubric: two criteria, four steps each, bad values refused at their step.
    await organizer.tap(t.plain("contest.setup_back_button"))
    await organizer.tap(t.plain("contest.setup_criteria_button"))
    for code, title, weight, top in (
        ("design", "Design", "2", "10"),
        ("clarity", "Clarity", "1", "5"),
    ):
        await organizer.tap(t.plain("contest.setup_add_criterion_button"))
        if code == "design":
            await organizer.send("1design")
            assert "starts with a latin letter" in (organizer.last_text or "")
        await organizer.send(code)
        await organizer.send(title)
        if code == "design":
            await organizer.send("0")
            assert "above 0" in (organizer.last_text or "")
        await organizer.send(weight)
        if code == "design":
            await organizer.send("101")
            assert organizer.last_text == _visible(t("contest.setup_bad_number", low=1, high=100))
        await organizer.send(top)
    await organizer.tap(t.plain("contest.setup_add_criterion_button"))
    await organizer.send("oops")
    # Left half-way: the criteria screen shows it pending, with its Remove button.
    await organizer.tap(t.plain("contest.setup_back_button"))
    await organizer.tap(t.plain("contest.setup_criteria_button"))
    await organizer.tap(t.plain("contest.setup_remove_criterion_button", code="oops"))
    assert organizer.last_toast == t.plain("contest.setup_criterion_removed", code="oops")

    # The review rules: blind review off.
    await organizer.tap(t.plain("contest.setup_back_button"))
    await organizer.tap(t.plain("contest.setup_review_button"))
    blind_on = t.plain(
        "contest.setup_switch_state",
        label=t.plain("contest.setup_blind"),
        state=t.plain("contest.setup_on"),
    )
    await organizer.tap(blind_on)
    await organizer.tap(t.plain("contest.setup_back_button"))
    await organizer.tap(t.plain("contest.setup_save_button"))
    # The rules were given in English only: each missing language is named with its path.
    refused = organizer.last_text or ""
    assert refused.startswith("❌") and "rules.kk" in refused and "rules.ru" in refused
    await organizer.tap(t.plain("contest.setup_rules_button"))
    await organizer.send(
        "[kk] Цифрлық платформаны қолданатын бір сабақ жоспарын жіберіңіз.\n"
        "[ru] Пришлите один план урока с цифровой платформой."
    )
    await organizer.tap(t.plain("contest.setup_save_button"))
    assert (organizer.last_text or "").startswith("✅")
    assert CODE in (organizer.last_text or "")

    contest = await _contest(harness, CODE)
    assert contest is not None
    assert contest.title == {
        "kk": "Үздік сабақ жоспары",
        "ru": "Лучший план урока",
        "en": "The best lesson plan",
    }
    assert (contest.opens_at, contest.deadline_at) == (opens, deadline)
    assert (contest.late_until, contest.jury_deadline_at) == (late_until, jury)
    assert contest.max_authors == 3 and contest.blind is False and contest.exclude_conflicts
    entry = contest.definition["entry"]
    assert entry["link"] == "optional"
    assert entry["files"]["types"] == ["pdf", "docx"]
    assert (entry["files"]["min_count"], entry["files"]["max_count"]) == (1, 2)
    criteria = {c["code"]: (c["weight"], c["max"]) for c in contest.definition["criteria"]}
    assert criteria == {"design": (2, 10), "clarity": (1, 5)}
    assert await _copies(harness) == []


async def test_a_saved_contest_keeps_its_code_a_discard_keeps_it_and_entries_lock_fields(
    harness, i18n
):
    """Tried on the default contest: its code asked for by a forged button → "keeps its code";
    the title changed in the copy, then the copy discarded (asked first) → the stored title is
    unchanged; once a student has an entry, Entry fields shows the lock and a forged Ask for the
    team size is refused with the reason; another organizer's copy id pressed by this one is
    refused."""
    t = i18n.translator("en")
    db = harness.app.bot_data.db
    organizer = harness.user(4601, "Org", "en")
    await factories.organizer(db, 4601, ADMINS, first_name="Org")
    other = harness.user(4602, "Oth", "en")
    await factories.organizer(db, 4602, ADMINS, first_name="Oth")
    stored = await _contest(harness, "dlt_platform_contest")
    assert stored is not None
    title_before = dict(stored.title)

    await organizer.send("/contest_setup")
    await organizer.tap(stored.title["en"])
    copy = (await _copies(harness))[0]
    await organizer.tap_data(
        SetupAsk(copy.id, SetupInput.CODE).pack(), organizer.last_message.message_id
    )
    assert organizer.last_text == _visible(t("contest.setup_code_fixed"))
    await organizer.tap(t.plain("contest.setup_title_button"))
    await organizer.send("[en] A title I will not keep")
    await organizer.tap(t.plain("contest.setup_discard_button"))
    assert organizer.last_text == _visible(t("contest.setup_discard_confirm"))
    await organizer.tap(t.plain("contest.setup_discard_yes"))
    assert organizer.last_text == _visible(t("contest.setup_discarded"))
    assert (await _contest(harness, "dlt_platform_contest")).title == title_before
    assert await _copies(harness) == []

    # Someone else's copy: refused.
    await other.send("/contest_setup")
    await other.tap(stored.title["en"])
    others_copy = (await _copies(harness))[0]
    await organizer.tap_data(
        SetupAsk(others_copy.id, SetupInput.TITLE).pack(), organizer.last_message.message_id
    )
    assert organizer.last_text == _visible(t("contest.setup_not_yours"))

    # An entry exists: the entry fields are locked, and said so before anything is typed.
    student = await factories.student(db, 4603, first_name="Stu")
    async with db.begin() as session:
        session.add(
            ContestEntry(
                contest_id=stored.id,
                owner_id=student.id,
                code="E1",
                team_code="T1",
                state="draft",
            )
        )
    await organizer.send("/contest_setup")
    await organizer.tap(stored.title["en"])
    await organizer.tap(t.plain("contest.setup_entry_button"))
    assert _visible(t("contest.setup_locked_entries", count=1)) in (organizer.last_text or "")
    mine = next(c for c in await _copies(harness) if c.id != others_copy.id)
    await organizer.tap_data(
        SetupAsk(mine.id, SetupInput.TEAM).pack(), organizer.last_message.message_id
    )
    assert organizer.last_text == _visible(t("contest.setup_locked_entries", count=1))
