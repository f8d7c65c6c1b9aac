"""The online course in chat: enrolment, lessons step by step, checks, pacing, the lesson duty."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import select, update

from bot.callbacks import CheckPick, LessonNext
from bot.services import course as course_service
from bot.services import course_pacing
from models import Course, Enrolment, utcnow
from tests.flows.helpers import onboard

COURSE = "dlt_course"
KK_UNI = "М.Х. Дулати атындағы Тараз өңірлік университеті"
RU_UNI = "Таразский региональный университет имени М.Х. Дулати"


def _visible(text: str) -> str:
    """A translated HTML text as the person reads it."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


async def _enrolment(harness) -> Enrolment:
    async with harness.app.bot_data.db() as session:
        enrolment = await session.scalar(select(Enrolment).order_by(Enrolment.id.desc()))
        assert enrolment is not None
        return enrolment


async def _lessons(harness):
    enrolment = await _enrolment(harness)
    course = await course_service.get_course(harness.app.bot_data.db, enrolment.course_id)
    return course.lessons


async def test_enrol_from_course_and_take_a_lesson_step_by_step(harness, i18n):
    """/course lists the course; enrolling offers the pre-test and lesson 1; the lesson goes one
    step at a time; typed text, a stale Next and a second answer are refused; progress shows it.
    """
    t = i18n.translator("en")
    aru = harness.user(801, "Aru", "en")
    await onboard(aru, i18n)
    await aru.send("/course")
    assert "Digital learning technologies" in aru.last_text
    await aru.tap(t.plain("course.enrol_button", course="Digital learning technologies"))
    assert any(
        _visible(t("course.enrolled", course="Digital learning technologies", lessons=10)) == x
        for x in aru.texts
    )
    assert _visible(t("course.pre_test_offer")) in aru.texts
    await aru.tap(t.plain("course.open_number_button", number=1))
    lessons = await _lessons(harness)
    lesson = lessons[0]
    assert "Digital learning platforms and LMS" in aru.texts[-2]  # the lesson's header
    assert "learning management system" in aru.last_text
    first_step = aru.last_message.message_id
    await aru.send("hello")  # text where a button is expected
    assert aru.last_text == _visible(t("course.use_buttons"))
    await aru.tap(t.plain("course.next"))
    assert "A good course page is simple" in aru.last_text
    # The Next of the first step again: stale, answered politely, nothing moves.
    enrolment = await _enrolment(harness)
    await aru.tap_data(LessonNext(enrolment.id, 0, 1).pack(), first_step)
    assert aru.last_toast == t.plain("course.stale_step")
    assert aru.last_text == _visible(t("course.stale_step"))
    await aru.tap(t.plain("course.next"))
    assert "moodle.org" in aru.last_text  # the link step
    await aru.tap(t.plain("course.next"))
    assert "What is the main purpose of an LMS?" in aru.last_text
    question = aru.last_message.message_id
    right = next(o for o in lesson.check.options if o.correct)
    await aru.tap(right.text["en"])
    assert _visible(t("course.right")) in "\n".join(aru.texts[-4:])
    assert any("It helps the teacher" in x or "LMS" in x for x in aru.texts[-4:])
    assert _visible(t("course.lesson_complete", number=1, lesson=lesson.title["en"])) in aru.texts
    assert t.plain("course.open_number_button", number=2) in aru.last_buttons
    answered = next(m for m in aru.messages if m.message_id == question)
    assert not answered.buttons and "✓" in answered.text
    # Answering twice is refused: the first answer counts.
    await aru.tap_data(CheckPick(enrolment.id, 0, 1).pack(), question)
    assert aru.last_toast == t.plain("course.already_answered")
    await aru.send("/course")
    assert "1/10" in aru.last_text
    assert _visible(t("course.checks_line", right=1, answered=1)) in aru.last_text
    assert "✅ 1" in aru.last_buttons
    # Reopening the done lesson starts it again from its first step.
    await aru.tap("✅ 1")
    assert "learning management system" in aru.last_text


async def test_wrong_answer_and_multiple_choice_in_kazakh(harness, i18n):
    """A wrong single answer shows the right one and the explanation; a multiple-choice check
    ticks boxes (each carrying the ticks it sets) and answers with Done.
    """
    t = i18n.translator("kk")
    dana = harness.user(802, "Dana", "kk")
    await onboard(dana, i18n, language="kk", university=KK_UNI)
    await dana.send(f"/start c-{COURSE}")
    lessons = await _lessons(harness)
    enrolment = await _enrolment(harness)
    db = harness.app.bot_data.db
    # Lesson 1 done through the services, to reach lessons 2 and 3 quickly.
    await course_service.open_lesson(db, 802, enrolment.id, 0)
    for step in range(1, len(lessons[0].steps) + 1):
        await course_service.next_step(db, 802, enrolment.id, 0, step)
    await course_service.check_answer(db, 802, enrolment.id, 0, ["a"])
    await dana.send("/course")
    await dana.tap(
        t.plain("course.open_lesson_button", number=2, lesson=lessons[1].title["kk"])[:60]
    )
    for _ in lessons[1].steps:
        await dana.tap(t.plain("course.next"))
    wrong = next(o for o in lessons[1].check.options if not o.correct)
    right = next(o for o in lessons[1].check.options if o.correct)
    await dana.tap(wrong.text["kk"])
    joined = "\n".join(dana.texts[-4:])
    assert _visible(t("course.wrong", answer=right.text["kk"])) in joined
    assert _visible(lessons[1].check.explanation["kk"])[:40] in joined
    await dana.tap(t.plain("course.open_number_button", number=3))
    for _ in lessons[2].steps:
        await dana.tap(t.plain("course.next"))
    check = lessons[2].check
    assert check.kind.value == "multiple"
    corrects = [o for o in check.options if o.correct]
    for option in corrects:
        await dana.tap("☐ " + option.text["kk"])
    assert all("☑ " + o.text["kk"] in dana.last_buttons for o in corrects)
    await dana.tap(t.plain("course.done_button"))
    assert _visible(t("course.right")) in "\n".join(dana.texts[-4:])


async def test_deep_link_enrols_once_and_unknown_course(harness, i18n):
    """`?start=c-<code>` enrols; the second time says "already enrolled"; a wrong code says so."""
    t = i18n.translator("ru")
    boris = harness.user(803, "Boris", "ru")
    await onboard(boris, i18n, language="ru", university=RU_UNI)
    await boris.send(f"/start c-{COURSE}")
    title = "Цифровые технологии обучения"
    assert _visible(t("course.enrolled", course=title, lessons=10)) in boris.texts
    await boris.send(f"/start c-{COURSE}")
    assert _visible(t("course.already_enrolled", course=title)) in boris.texts
    async with harness.app.bot_data.db() as session:
        count = len((await session.scalars(select(Enrolment))).all())
    assert count == 1
    await boris.send("/start c-no_such_course")
    assert _visible(t("course.not_found")) in boris.texts


async def test_scheduled_hour_lesson_duty_and_restart(harness, i18n):
    """Switch to a lesson a day at a typed hour (bad formats explained, the question stays), move
    the due time into the past, run the lesson duty, restart, and open the delivered lesson.
    """
    t = i18n.translator("en")
    erlan = harness.user(804, "Erlan", "en")
    await onboard(erlan, i18n)
    await erlan.send(f"/start c-{COURSE}")
    await erlan.send("/course")
    await erlan.tap(t.plain("course.settings_button"))
    await erlan.tap(t.plain("course.pace_scheduled_button"))
    assert "09:00" in erlan.last_text  # asks for the hour, saying the current one
    await erlan.send("25:00")
    assert erlan.last_text == _visible(t("course.bad_hour", example="09:00"))
    await erlan.send("nine")
    assert erlan.last_text == _visible(t("course.bad_hour", example="09:00"))
    await erlan.send("9:30")
    assert _visible(t("course.hour_saved", time="09:30")) in erlan.texts
    assert "09:30" in erlan.last_text and t.plain("course.pause_button") in erlan.last_buttons
    enrolment = await _enrolment(harness)
    assert enrolment.pace == "scheduled" and (enrolment.hour, enrolment.minute) == (9, 30)
    assert enrolment.next_due_at is not None
    # Saturday on, reminders off, pause and resume: each a button that redraws the settings.
    await erlan.tap(t.plain("course.day_5"))  # Monday to Friday by default: Saturday added
    assert "✓" + t.plain("course.day_5") in erlan.last_buttons
    await erlan.tap(t.plain("course.nudges_off_button"))
    assert t.plain("course.nudges_on_button") in erlan.last_buttons
    await erlan.tap(t.plain("course.pause_button"))
    assert (await _enrolment(harness)).next_due_at is None
    await erlan.tap(t.plain("course.resume_button"))
    assert (await _enrolment(harness)).next_due_at is not None
    # The lesson falls due: the duty queues it once, through the outbox.
    async with harness.app.bot_data.db.begin() as session:
        await session.execute(
            update(Enrolment).values(next_due_at=utcnow() - timedelta(minutes=1))
        )
    await harness.run_jobs()
    assert "Digital learning platforms and LMS" in erlan.last_text
    assert t.plain("course.open_button") in erlan.last_buttons
    await harness.run_jobs()  # nothing due any more: nothing sent twice
    ready = [x for x in erlan.texts if "Digital learning platforms and LMS" in x]
    assert len(ready) == 1
    await harness.stop()
    await harness.start()
    await erlan.tap(t.plain("course.open_button"))
    assert "learning management system" in erlan.last_text
    # A restart in the middle of the lesson keeps the step.
    await harness.stop()
    await harness.start()
    await erlan.tap(t.plain("course.next"))
    assert "A good course page is simple" in erlan.last_text


async def test_start_offers_to_continue(harness, i18n):
    """/start offers a learner with lessons still to take to continue, and the button opens one."""
    t = i18n.translator("en")
    gulnar = harness.user(805, "Gulnar", "en")
    await onboard(gulnar, i18n)
    await gulnar.send(f"/start c-{COURSE}")
    await gulnar.send("/start")
    offer = _visible(
        t("course.continue_offer", course="Digital learning technologies", number=1, total=10)
    )
    assert offer in gulnar.texts
    await gulnar.tap(t.plain("course.continue_button"))
    assert "learning management system" in gulnar.last_text


async def _take(harness, telegram_id: int, enrolment_id: int, upto: int) -> None:
    """Take lessons 1..`upto` through the services (each check answered with option a)."""
    db = harness.app.bot_data.db
    lessons = await _lessons(harness)
    for lesson in lessons[:upto]:
        await course_service.open_lesson(db, telegram_id, enrolment_id, lesson.position)
        for step in range(1, len(lesson.steps) + 1):
            await course_service.next_step(db, telegram_id, enrolment_id, lesson.position, step)
        if lesson.check is not None:
            code = next(o.code for o in lesson.check.options if o.correct)
            await course_service.check_answer(
                db, telegram_id, enrolment_id, lesson.position, [code]
            )


async def test_photo_from_the_course_folder_and_a_missing_file(harness, i18n, tmp_path, caplog):
    """A photo step sends the pack's file with its caption; when the file is gone at send time
    the step goes without it (caption and Next kept), and the lesson goes on.
    """
    t = i18n.translator("en")
    aigerim = harness.user(806, "Aigerim", "en")
    await onboard(aigerim, i18n)
    await aigerim.send(f"/start c-{COURSE}")
    enrolment = await _enrolment(harness)
    await _take(harness, 806, enrolment.id, 7)
    await aigerim.send("/course")
    await aigerim.tap(t.plain("course.open_lesson_button", number=8, lesson="Learning analytics"))
    assert "Learning analytics" in aigerim.texts[-2]
    await aigerim.tap(t.plain("course.next"))
    photo = aigerim.last_message
    assert photo.photo is not None and "drop in week 5" in photo.caption
    assert t.plain("course.next") in aigerim.last_buttons
    # The pack's folder without its media: the same step is sent as its caption alone.
    async with harness.app.bot_data.db.begin() as session:
        await session.execute(update(Course).values(source=str(tmp_path / "dlt_course.yaml")))
    await aigerim.send("/course")  # the open lesson starts again from the progress view
    await aigerim.tap(t.plain("course.open_lesson_button", number=8, lesson="Learning analytics"))
    await aigerim.tap(t.plain("course.next"))
    assert aigerim.last_message.photo is None
    assert "drop in week 5" in aigerim.last_text
    assert "course media file missing" in caplog.text  # logged for the organizers
    await aigerim.tap(t.plain("course.next"))
    assert "Data shows what happens" in aigerim.last_text


async def test_nudge_continue_and_next_lesson_time_when_scheduled(harness, i18n):
    """An inactive learner gets one nudge whose Continue opens the lesson; finishing a lesson on
    a schedule says when the next one comes and offers it now; another's button is refused.
    """
    t = i18n.translator("en")
    marat = harness.user(807, "Marat", "en")
    await onboard(marat, i18n)
    await marat.send(f"/start c-{COURSE}")
    enrolment = await _enrolment(harness)
    async with harness.app.bot_data.db.begin() as session:
        await session.execute(
            update(Enrolment).values(
                last_active_at=utcnow() - timedelta(days=10),
                created_at=utcnow() - timedelta(days=10),
            )
        )
    await harness.run_jobs()
    assert marat.last_text == _visible(t("course.nudge", course="Digital learning technologies"))
    await harness.run_jobs()  # one nudge per period
    assert sum(1 for x in marat.texts if x.startswith("Hello!")) == 1
    await marat.tap(t.plain("course.continue_button"))
    assert "learning management system" in marat.last_text
    db = harness.app.bot_data.db
    await course_pacing.set_pace(
        db, 807, enrolment.id, course_service.Pace.SCHEDULED, harness.settings.tz
    )
    lessons = await _lessons(harness)
    for _ in lessons[0].steps:
        await marat.tap(t.plain("course.next"))
    right = next(o for o in lessons[0].check.options if o.correct)
    await marat.tap(right.text["en"])
    assert "Your next lesson comes on" in marat.last_text
    await marat.tap(t.plain("course.open_now_button"))
    assert "Lesson 2/10" in marat.texts[-2]
    # Someone else's enrolment in a forged button: refused, nothing opened.
    other = harness.user(808, "Other", "en")
    await onboard(other, i18n)
    await other.tap_data(LessonNext(enrolment.id, 1, 1).pack(), other.last_message.message_id)
    assert other.last_toast == t.plain("course.not_enrolled")
