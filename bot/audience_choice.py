"""Choosing an audience in chat: the labels and buttons /broadcast and /new_event share.

Each caller packs its own button data (a broadcast draft's, an event draft's), so the lists are
built from a function giving the data of one choice. Labels name the audience as the sender
reads it: a university, a country, the learners of a course (at a university, when narrowed),
the registrants of an event, or everyone.
"""

from __future__ import annotations

from collections.abc import Callable

from telegram import InlineKeyboardButton

from bot import keyboards as kb
from bot.context import BotContext
from bot.replies import shorten
from bot.services import ServiceError
from bot.services import events as event_service
from bot.services import universities as university_service
from bot.services.audiences import (
    COURSE_AT_LABELS,
    COURSE_LABELS,
    Audience,
    CourseAudience,
    course_audience,
    event_of,
)
from bot.services.course import pick
from bot.services.universities import COUNTRIES, UniversityView


def university_name(context: BotContext, university: UniversityView) -> str:
    """A university with its country's flag, in the reader's language."""
    flag = kb.COUNTRY_FLAGS.get(university.country, "")
    return f"{flag} {university.name(context.t.language)}".strip()


async def university_buttons(
    context: BotContext, data: Callable[[UniversityView], str], *, marked: int | None = None
) -> list[InlineKeyboardButton]:
    """A button per university shown in the list; `data` packs the choice of one.

    The university `marked` (the one chosen so far) is ticked.
    """
    universities = await university_service.list_universities(context.db)
    return [
        kb.button(("✓ " if u.id == marked else "") + university_name(context, u), data(u))
        for u in universities
    ]


def country_buttons(context: BotContext, data: Callable[[str], str]) -> list[InlineKeyboardButton]:
    """A button per country of the consortium; `data` packs the choice of one (its code)."""
    t = context.t
    return [
        kb.button(f"{kb.COUNTRY_FLAGS[c]} {t.plain(f'countries.{c}')}", data(c)) for c in COUNTRIES
    ]


def course_label(context: BotContext, kind: str, course: CourseAudience) -> str:
    """A course audience as the sender reads it: "learners of <title> [at <university>]"."""
    t = context.t
    title = pick(course.title, t.language, context.settings.default_language)
    if course.university is not None:
        university = course.university.name(t.language)
        return t.plain(COURSE_AT_LABELS[kind], course=title, university=university)
    return t.plain(COURSE_LABELS[kind], course=title)


def course_buttons(
    context: BotContext,
    courses: list[CourseAudience],
    data: Callable[[str, str], str],
    *,
    label_max: int | None = None,
) -> list[InlineKeyboardButton]:
    """A button per course and kind (all learners, those not finished); `data(kind, ref)`."""
    buttons = []
    for course in courses:
        for kind in COURSE_LABELS:
            label = course_label(context, kind, course)
            if label_max is not None:
                label = shorten(label, label_max)
            buttons.append(kb.button(label, data(kind, course.ref)))
    return buttons


async def audience_label(context: BotContext, kind: str | None, ref: str | None) -> str:
    """The audience as the sender reads it: a place, a course, an event, or everyone."""
    t = context.t
    if kind == Audience.EVENT:
        event_id = event_of(ref)
        if event_id is not None:
            try:
                view = await event_service.get(context.db, event_id)
            except ServiceError:
                view = None
            if view is not None:
                return t.plain("broadcasts.audience_event", title=view.title_in(t.language))
    if kind in COURSE_LABELS:
        course = await course_audience(context.db, ref)
        if course is not None:
            return course_label(context, kind, course)
    if kind == Audience.UNIVERSITY:
        for u in await university_service.list_universities(context.db, include_hidden=True):
            if str(u.id) == ref:
                return u.name(t.language)
    if kind == Audience.COUNTRY and ref in COUNTRIES:
        return t.plain(f"countries.{ref}")
    return t.plain("broadcasts.audience_all")
