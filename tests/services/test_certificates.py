"""Certificates: issued once per finished enrolment, the PDF's text, verification by code.

The learner finishes a small course inserted directly (tests/services/test_course.py) and
onboarded through the real services; the PDF is opened with pypdf and its text extracted.
"""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from bot.i18n import I18n
from bot.services import InvalidInput
from bot.services import certificates as certs
from tests.services.test_course import enrolled, take_lesson

KAZAKH = "Әлия Ғалымқызы Қоңырбаева Өмірұлы Үмбетһәлі Іңкәр"
ALMATY = ZoneInfo("Asia/Almaty")


def test_names_are_cleaned_and_bounded_and_codes_unambiguous():
    """Tried: a name with extra spaces and a control character (cleaned), one letter and 121
    letters (refused); 200 new codes: 10 characters, no look-alikes, all different."""
    assert certs.clean_name("  Әлия \x07  Ғалымқызы ") == "Әлия Ғалымқызы"
    for bad in ("Ә", "a" * 121, "   "):
        with pytest.raises(InvalidInput) as refused:
            certs.clean_name(bad)
        assert refused.value.key == "course.bad_name"
    codes = {certs.new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 10 and not set(c) & set("01OIL") for c in codes)
    assert certs.normalize_code(" abcd-efgh 23 ") == "ABCDEFGH23"


async def test_issued_once_only_when_finished_and_verified_by_code(db):
    """Tried: asking before the course is finished (refused), after it (issued with the
    name, the course title and the university), again with another name (the first one
    back), verifying the code typed in lower case with a dash, and a made-up code (None)."""
    enrolment = await enrolled(db, lessons=1)
    with pytest.raises(InvalidInput) as early:
        await certs.issue(db, 5101, enrolment, KAZAKH)
    assert early.value.key == "course.not_finished"
    await take_lesson(db, enrolment, 0)
    first = await certs.issue(db, 5101, enrolment, f"  {KAZAKH}  ")
    assert first.created
    cert = first.certificate
    assert cert.name == KAZAKH and cert.course_code == "mini"
    assert cert.course_title["en"] == "Course mini"
    assert cert.university
    again = await certs.issue(db, 5101, enrolment, "Someone Else")
    assert not again.created and again.certificate == cert
    assert await certs.my_certificate(db, 5101, enrolment) == cert
    typed = cert.code[:5].lower() + "-" + cert.code[5:].lower()
    assert await certs.verify(db, typed) == cert
    assert await certs.verify(db, "ZZZZZZZZZZ") is None
    assert await certs.verify(db, "not a code!") is None


async def test_the_pdf_prints_kazakh_letters_and_the_code(db):
    """Tried: a certificate in Kazakh for a name with every Kazakh letter: the PDF's extracted
    text holds the name, the Kazakh heading and the verification code."""
    enrolment = await enrolled(db, lessons=1)
    await take_lesson(db, enrolment, 0)
    cert = (await certs.issue(db, 5101, enrolment, KAZAKH)).certificate
    t = I18n("kk").translator("kk")
    pdf = certs.render_pdf(cert, t, ALMATY)
    assert pdf.startswith(b"%PDF")
    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)
    for letter in "әғқңөұүһі":
        assert letter in text.lower(), letter
    assert " ".join(text.split()).count(KAZAKH) == 1
    assert cert.code in text
    assert t.plain("course.cert_heading") in " ".join(text.split())
    assert "Course mini (kk)" in text
