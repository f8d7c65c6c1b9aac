"""Certificates in chat: the name typed and confirmed, the PDF sent, the same one again, /verify.

A learner onboarded in chat finishes a small course through the course services (enrol, open
each lesson, step through, answer the checks); the certificate part is then done in chat.
The PDF's content is tested in tests/services/test_certificates.py.
"""

from __future__ import annotations

import pytest

from bot.callbacks import CertificateConfirm, CertificateGet
from bot.services import certificates
from bot.services import course as svc
from tests import factories
from tests.flows.helpers import onboard
from tests.services.test_course import add_course, definition

LEARNER = 7301
NAME = "Әлия Ғалымқызы"


async def finish_course(db, telegram_id: int, code: str = "mini", lessons: int = 2) -> int:
    """Add a course, enrol the learner and take every lesson through the services."""
    await add_course(db, definition(code, lessons))
    enrolment = (await svc.enrol(db, telegram_id, code)).enrolment.id
    for position in range(lessons):
        screen = await svc.open_lesson(db, telegram_id, enrolment, position)
        step = 1
        while not screen.completed:
            if screen.check is not None:
                screen = await svc.check_answer(db, telegram_id, enrolment, position, ["a"])
                continue
            screen = await svc.next_step(db, telegram_id, enrolment, position, step)
            step += 1
    return enrolment


def _pdfs(user):
    """The PDF documents the user received."""
    return [m.document for m in user.messages if m.document]


async def test_name_typed_confirmed_pdf_sent_and_sent_again(harness, i18n):
    """Tried: asking before finishing (refused); after: a one-letter name (refused, still
    waiting), a name with extra spaces (shown back cleaned), Change and a new name, Confirm
    (the PDF arrives named by its code), /certificate again (the same code, no new name asked),
    and a forged Confirm for someone else's enrolment (refused, nothing issued)."""
    t = i18n.translator("en")
    db = harness.app.bot_data.db
    learner = harness.user(LEARNER, "Aliya", "en")
    await onboard(learner, i18n)
    await learner.send("/certificate")
    assert learner.last_text == t("certificates.none")
    enrolment = await finish_course(db, LEARNER)

    await learner.send("/certificate")
    assert learner.last_text.startswith("🎓 Congratulations")
    await learner.send("Ә")
    assert learner.last_text == t("course.bad_name", min=2, max=120)
    await learner.send("  Someone   Else ")
    assert learner.last_text.endswith("\n\nSomeone Else")
    await learner.tap(t.plain("certificates.change"))
    assert learner.last_text.startswith("🎓 Congratulations")
    await learner.send(f" {NAME} ")
    assert learner.last_text.splitlines()[-1] == NAME
    assert learner.last_buttons == [
        t.plain("certificates.confirm"),
        t.plain("certificates.change"),
    ]
    await learner.tap(t.plain("certificates.confirm"))
    pdfs = _pdfs(learner)
    assert len(pdfs) == 1
    name = pdfs[0]["file_name"]
    assert name.startswith("certificate-") and name.endswith(".pdf")
    assert pdfs[0]["file_size"] > 5000
    code = name.removeprefix("certificate-").removesuffix(".pdf")
    assert any(f"Verification code: {code}" in text for text in learner.texts)
    assert learner.messages[-1].caption == t.plain("certificates.sent", code=code)

    await learner.send("/certificate")  # asked again: the same certificate, no new name
    pdfs = _pdfs(learner)
    assert [p["file_name"] for p in pdfs] == [name, name]

    other = harness.user(7302, "Other", "en")
    await onboard(other, i18n)
    await other.send("/start")
    await other.tap_data(CertificateConfirm(enrolment).pack(), other.last_message.message_id)
    await other.tap_data(CertificateGet(enrolment).pack(), other.last_message.message_id)
    assert not _pdfs(other)
    assert t("course.not_enrolled") in other.texts


@pytest.mark.parametrize(
    ("language", "genuine", "unknown"),
    [
        ("kk", "сертификаты түпнұсқа", "коды бар сертификат жоқ"),
        ("ru", "подлинный", "Сертификата с кодом"),
        ("en", "is genuine", "No certificate has the code"),
    ],
)
async def test_verify_a_real_and_a_fake_code(harness, i18n, settings, language, genuine, unknown):
    """Tried, in each language: /verify with the real code typed in lower case with a dash
    (name, course in that language, date, university), a made-up code (unknown), and
    /verify alone (how to use it)."""
    t = i18n.translator(language)
    db = harness.app.bot_data.db
    await factories.student(db, LEARNER, language=language)
    enrolment = await finish_course(db, LEARNER)
    cert = (await certificates.issue(db, LEARNER, enrolment, NAME)).certificate
    await factories.student(db, 7303, language=language)
    checker = harness.user(7303, "Checker", language)
    typed = f"{cert.code[:5].lower()}-{cert.code[5:].lower()}"
    await checker.send(f"/verify {typed}")
    answer = checker.last_text
    assert genuine in answer and NAME in answer and cert.code in answer
    assert cert.course_title[language] in answer
    assert cert.issued_at.astimezone(settings.tz).strftime("%Y-%m-%d") in (answer)
    assert cert.university and cert.university in answer
    await checker.send("/verify ZZZZZZZZZZ")
    assert unknown in checker.last_text and "ZZZZZZZZZZ" in checker.last_text
    await checker.send("/verify")
    assert checker.last_text == t("certificates.verify_usage").replace("<code>", "").replace(
        "</code>", ""
    )
