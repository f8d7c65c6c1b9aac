"""Certificates of completion: issued once per finished enrolment, verified by their code.

The contest's participation and winner's certificates (`bot.services.contest_results`) share
the codes, the check and the PDF: `verify` finds a contest certificate too (its view names the
contest where a course's names the course, with `kind` and `rank`), a new code is unique across
both tables, and `render_pdf` words the certificate by its kind.

A certificate carries the name the learner typed (cleaned, 2 to 120 characters; the caller
shows `clean_name`'s result and asks them to confirm it before `issue` prints it), the course's
title, the date, the learner's university and a verification code: 10 characters from an
alphabet without look-alikes (no 0/O, 1/I/L), random, unique. `verify` answers who, what and
when for a code, or None. `render_pdf` draws the PDF with fpdf2 in DejaVu Sans, the font
matplotlib ships, so Kazakh letters (ә ғ қ ң ө ұ ү һ і) print correctly.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Sessionmaker
from bot.services import InvalidInput
from bot.services.course import OfferKind, Texts, own_enrolment, pick, settle_offer
from bot.text import clean_line
from models import (
    Certificate,
    Contest,
    ContestCertificate,
    ContestEntry,
    Course,
    Enrolment,
    University,
    User,
    utcnow,
)

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud or typed safely
CODE_LENGTH = 10
NAME_MIN, NAME_MAX = 2, 120
_TRIES = 8


@dataclass(frozen=True)
class CertificateView:
    """An issued certificate: who, what, when, where, and its code."""

    code: str
    name: str
    course_code: str  # a contest certificate: the contest's code
    course_title: Texts  # ... and its title
    university: str | None
    issued_at: datetime
    kind: str = "course"  # or a contest's "participation" / "winner"
    rank: int | None = None  # a winner's place


@dataclass(frozen=True)
class Issued:
    """The result of issuing: the certificate, and whether it was issued just now."""

    certificate: CertificateView
    created: bool


def new_code() -> str:
    """A random verification code (10 characters of `ALPHABET`, about 50 bits)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


async def free_code(session: AsyncSession) -> str:
    """A new code no course or contest certificate has."""
    for _ in range(_TRIES):
        code = new_code()
        taken = await session.scalar(select(Certificate.id).where(Certificate.code == code))
        if taken is None:
            taken = await session.scalar(
                select(ContestCertificate.id).where(ContestCertificate.code == code)
            )
        if taken is None:
            return code
    raise RuntimeError("no free certificate code")  # pragma: no cover - 31**10 codes


def normalize_code(text: str) -> str:
    """A typed code as stored: upper case, without spaces and dashes."""
    return "".join(ch for ch in text.upper() if ch not in " -\t\n")


def clean_name(text: str) -> str:
    """The name as it will be printed, for the learner to confirm.

    Raises:
        InvalidInput: `course.bad_name`.
    """
    name = clean_line(text)
    if not NAME_MIN <= len(name) <= NAME_MAX:
        raise InvalidInput("course.bad_name", min=NAME_MIN, max=NAME_MAX)
    return name


def _view(certificate: Certificate, course_code: str) -> CertificateView:
    """The stored certificate as domain data."""
    return CertificateView(
        code=certificate.code,
        name=certificate.name,
        course_code=course_code,
        course_title=dict(certificate.course_title),
        university=certificate.university,
        issued_at=certificate.issued_at,
    )


def university_name(university: University | None, language: str) -> str | None:
    """The university's name in `language` (English otherwise)."""
    if university is None:
        return None
    names = {"kk": university.name_kk, "ru": university.name_ru, "en": university.name_en}
    return names.get(language) or university.name_en


async def issue(db: Sessionmaker, telegram_id: int, enrolment_id: int, name: str) -> Issued:
    """Issue the certificate of a finished enrolment, once; issuing again returns the first.

    `name` is what the learner confirmed (cleaned again here).

    Raises:
        NotFound: `course.not_enrolled`.
        InvalidInput: `course.not_finished`, `course.bad_name`.
    """
    now = utcnow()
    printed = clean_name(name)
    async with db.begin() as session:
        user, enrolment, course = await own_enrolment(
            session, telegram_id, enrolment_id, lock=True
        )
        existing = await session.scalar(
            select(Certificate).where(Certificate.enrolment_id == enrolment.id)
        )
        if existing is not None:
            return Issued(_view(existing, course.code), created=False)
        offer = await settle_offer(session, enrolment, course, now)
        if offer.kind is not OfferKind.FINISHED:
            raise InvalidInput("course.not_finished")
        code = await free_code(session)
        certificate = Certificate(
            code=code,
            enrolment_id=enrolment.id,
            name=printed,
            course_title=dict(course.title),
            university=university_name(user.university, user.language or "en"),
            issued_at=now,
        )
        session.add(certificate)
        await session.flush()
        return Issued(_view(certificate, course.code), created=True)


async def my_certificate(
    db: Sessionmaker, telegram_id: int, enrolment_id: int
) -> CertificateView | None:
    """The learner's certificate of the enrolment, if issued.

    Raises:
        NotFound: `course.not_enrolled`.
    """
    async with db() as session:
        _user, enrolment, course = await own_enrolment(session, telegram_id, enrolment_id)
        found = await session.scalar(
            select(Certificate).where(Certificate.enrolment_id == enrolment.id)
        )
        return None if found is None else _view(found, course.code)


async def verify(db: Sessionmaker, code: str) -> CertificateView | None:
    """Who was issued the certificate `code`, for which course and when; None if unknown."""
    code = normalize_code(code)
    if not code or len(code) > CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    async with db() as session:
        row = (
            await session.execute(
                select(Certificate, Course.code)
                .join(Enrolment, Enrolment.id == Certificate.enrolment_id)
                .join(Course, Course.id == Enrolment.course_id)
                .where(Certificate.code == code)
            )
        ).first()
        if row is not None:
            return _view(row[0], row[1])
        found = (
            await session.execute(
                select(ContestCertificate, Contest.code, Contest.title, User)
                .join(ContestEntry, ContestEntry.id == ContestCertificate.entry_id)
                .join(Contest, Contest.id == ContestEntry.contest_id)
                .join(User, User.id == ContestCertificate.user_id)
                .where(ContestCertificate.code == code)
            )
        ).first()
        if found is None:
            return None
        certificate, contest_code, title, user = found
        return contest_view(certificate, contest_code, dict(title or {}), user)


def contest_view(
    certificate: ContestCertificate, contest_code: str, title: Texts, user: User
) -> CertificateView:
    """A contest certificate as the certificates' common view."""
    return CertificateView(
        code=certificate.code,
        name=certificate.name,
        course_code=contest_code,
        course_title=title,
        university=university_name(user.university, user.language or "en"),
        issued_at=certificate.created_at,
        kind=certificate.kind,
        rank=certificate.rank,
    )


# --- the PDF -------------------------------------------------------------------------------


def font_path(bold: bool = False) -> Path:
    """DejaVu Sans as matplotlib ships it (it has every Kazakh letter)."""
    import matplotlib  # noqa: PLC0415 - only rendering a certificate needs it

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


# Each kind's heading and the line before the title (a winner's name their `place`).
_WORDING = {
    "course": ("course.cert_heading", "course.cert_completed"),
    "participation": ("contest.cert_heading", "contest.cert_participated"),
    "winner": ("contest.cert_heading_winner", "contest.cert_won"),
}


def render_pdf(certificate: CertificateView, t: Any, zone: tzinfo) -> bytes:
    """The certificate as an A4 landscape PDF, its texts from the translator `t` (its language).

    CPU work: run it in a worker thread from async code.
    """
    from fpdf import FPDF  # noqa: PLC0415 - a heavy import, only for certificates

    language = str(getattr(t, "language", "en"))
    heading, completed = _WORDING.get(certificate.kind, _WORDING["course"])
    labels: Mapping[str, str] = {
        "heading": t.plain(heading, place=certificate.rank or ""),
        "completed": t.plain(completed, place=certificate.rank or ""),
        "date": t.plain("course.cert_date"),
        "code": t.plain("course.cert_code"),
    }
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_font("DejaVu", "", str(font_path()))
    pdf.add_font("DejaVu", "B", str(font_path(bold=True)))
    pdf.set_title(labels["heading"])
    pdf.set_creator("Ortaq")
    pdf.add_page()
    width = pdf.w - 40
    pdf.set_draw_color(40, 80, 140)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_xy(20, 35)
    pdf.set_font("DejaVu", "B", 30)
    pdf.multi_cell(width, 14, labels["heading"], align="C")
    pdf.ln(8)
    pdf.set_x(20)
    pdf.set_font("DejaVu", "B", 24)
    pdf.multi_cell(width, 12, certificate.name, align="C")
    if certificate.university:
        pdf.set_x(20)
        pdf.set_font("DejaVu", "", 14)
        pdf.multi_cell(width, 8, certificate.university, align="C")
    pdf.ln(6)
    pdf.set_x(20)
    pdf.set_font("DejaVu", "", 16)
    pdf.multi_cell(width, 9, labels["completed"], align="C")
    pdf.set_x(20)
    pdf.set_font("DejaVu", "B", 20)
    pdf.multi_cell(width, 11, pick(certificate.course_title, language), align="C")
    pdf.set_xy(20, pdf.h - 45)
    pdf.set_font("DejaVu", "", 12)
    issued = certificate.issued_at.astimezone(zone).strftime("%Y-%m-%d")
    pdf.multi_cell(width, 7, f"{labels['date']}: {issued}", align="C")
    pdf.set_x(20)
    pdf.multi_cell(width, 7, f"{labels['code']}: {certificate.code}", align="C")
    return bytes(pdf.output())
