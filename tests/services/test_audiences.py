"""Audiences and the sender's scope: the learners of a course at one university.

Tried: a sender scoped to a university (an organizer or a coach of it) addressing the learners
of a course at their university (allowed, and a learner of another university left out), all
learners of the course, the learners at another university, and forged narrowed references;
admins and consortium-wide senders keeping every learner; the kinds without a university
(everyone, a country) still refused to scoped senders.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from bot.services import InvalidInput, PermissionDenied, audiences, broadcasts
from bot.services import course as course_service
from bot.services.universities import list_universities
from models import Enrolment, User, utcnow
from tests import factories

ADMINS = frozenset({1})
COURSE = "dlt_course"


async def _setup(db):
    """Two learners at the first university (one finished), one at the second, one not
    enrolled at the first; returns the two universities' ids and the course's reference."""
    unis = [u.id for u in await list_universities(db)]
    await factories.admin(db, 1, ADMINS)
    for telegram_id, university in ((11, 0), (12, 0), (21, 1), (13, 0)):
        await factories.student(db, telegram_id, ADMINS, university=university)
    for telegram_id in (11, 12, 21):
        await course_service.enrol(db, telegram_id, COURSE)
    async with db.begin() as session:
        ref = await audiences.course_ref(session, COURSE)
        assert ref is not None
        user_id = await session.scalar(select(User.id).where(User.telegram_id == 12))
        await session.execute(
            update(Enrolment).where(Enrolment.user_id == user_id).values(finished_at=utcnow())
        )
    return unis[0], unis[1], ref


async def _ids(db, kind: str, ref: str) -> set[int]:
    async with db() as session:
        return {u.telegram_id for u in await session.scalars(audiences.members(kind, ref))}


async def test_a_narrowed_reference_keeps_the_learners_of_one_university(db):
    """`<course>.<university>` resolves to that university's learners only, both kinds."""
    first, second, ref = await _setup(db)
    at_first = audiences.narrowed(ref, first)
    assert at_first == f"{ref}.{first}"
    assert audiences.narrowed(at_first, second) == f"{ref}.{second}"  # re-narrowing replaces
    assert await _ids(db, "course", ref) == {11, 12, 21}
    assert await _ids(db, "course", at_first) == {11, 12}
    assert await _ids(db, "course_open", at_first) == {11}
    assert await _ids(db, "course", audiences.narrowed(ref, second)) == {21}
    # A forged university part narrows to nobody; it never widens to every learner.
    for forged in (f"{ref}.", f"{ref}.x", f"{ref}.{first}.1", f"{ref}.-1", f"{ref}.١"):
        assert await _ids(db, "course", forged) == set(), forged
        async with db() as session:
            with pytest.raises(InvalidInput):
                await audiences.check_audience(session, "course", forged)
    async with db() as session:
        await audiences.check_audience(session, "course_open", at_first)
        with pytest.raises(InvalidInput):  # no such university
            await audiences.check_audience(session, "course", f"{ref}.999999")
    assert len(f"{ref}.{2**40}") <= 32  # the audience_ref column


async def test_course_audiences_for_a_scoped_sender_name_their_university(db):
    """The list a scoped sender is offered carries narrowed references and the university;
    `course_audience` reads either kind of reference back."""
    first, _, ref = await _setup(db)
    (plain,) = [c for c in await audiences.course_audiences(db) if c.code == COURSE]
    assert plain.ref == ref and plain.university is None
    (scoped,) = [c for c in await audiences.course_audiences(db, first) if c.code == COURSE]
    assert scoped.ref == f"{ref}.{first}" and scoped.university is not None
    assert scoped.university.id == first
    assert await audiences.course_audience(db, ref) == plain
    assert await audiences.course_audience(db, scoped.ref) == scoped
    for unknown in (None, "", "x", f"{ref}.x", "99999"):
        assert await audiences.course_audience(db, unknown) is None


async def test_a_scoped_sender_addresses_the_learners_at_their_university_only(db):
    """An organizer and a coach of the first university: the course's learners there are
    allowed (two, or one not finished); all learners, the learners at the second university,
    everyone and a country are refused; their sender scope is their university."""
    first, second, ref = await _setup(db)
    await factories.organizer(db, 50, ADMINS, university=0)
    await factories.coach(db, 51, ADMINS, university=0)
    for sender in (50, 51):
        assert await audiences.sender_university(db, sender, ADMINS) == first
        draft = await broadcasts.create_draft(db, sender, ADMINS)
        at_first = audiences.narrowed(ref, first)
        assert await broadcasts.set_audience(db, sender, ADMINS, draft, "course", at_first) == 2
        assert (
            await broadcasts.set_audience(db, sender, ADMINS, draft, "course_open", at_first) == 1
        )
        refused = [
            ("course", ref),
            ("course_open", ref),
            ("course", audiences.narrowed(ref, second)),
            ("all", None),
            ("country", "KZ"),
            ("university", str(second)),
        ]
        for kind, wider in refused:
            with pytest.raises(PermissionDenied):
                await broadcasts.set_audience(db, sender, ADMINS, draft, kind, wider)
        assert await broadcasts.set_audience(db, sender, ADMINS, draft, "university", str(first))


async def test_admins_and_consortium_wide_senders_keep_every_learner(db):
    """An admin and an organizer without a university address all the course's learners, and
    may narrow to one university as well; their sender scope is None."""
    first, _, ref = await _setup(db)
    await factories.organizer(db, 60, ADMINS)  # consortium-wide
    for sender in (1, 60):
        assert await audiences.sender_university(db, sender, ADMINS) is None
        draft = await broadcasts.create_draft(db, sender, ADMINS)
        assert await broadcasts.set_audience(db, sender, ADMINS, draft, "course", ref) == 3
        narrowed = audiences.narrowed(ref, first)
        assert await broadcasts.set_audience(db, sender, ADMINS, draft, "course", narrowed) == 2
    assert await audiences.sender_university(db, 424242, ADMINS) is None  # unknown person


def test_within_scope_follows_the_kinds_university():
    """The scope check asks each kind which university a reference is limited to."""
    assert audiences.within_scope(None, "country", "KZ")
    assert audiences.within_scope(3, "university", "3")
    assert not audiences.within_scope(3, "university", "4")
    assert audiences.within_scope(3, "course", "7.3")
    assert not audiences.within_scope(3, "course_open", "7")
    assert not audiences.within_scope(3, "course", "7.4")
    assert not audiences.within_scope(3, "all", None)
    assert not audiences.within_scope(3, "no_such_kind", "3")
