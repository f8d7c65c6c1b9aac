"""The organizers' contest setup on a real database (bot/services/contest_setup.py): typed values
read and refused with their keys, a copy that survives everything, Save through the pack schema
and the loader, the locks the contest's history sets, two organizers' copies, and rights."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.services import InvalidInput, NotFound, PermissionDenied
from bot.services import contest_setup as svc
from bot.services.contest import LinkRule
from bot.services.contest_setup import Field, SetupRefused, Switch
from models import Contest, ContestSetup
from tests import factories

ADMINS = frozenset({900_001})  # an admin invites the organizers; not one of them
ORG = 7_400_000_001
ORG2 = 7_400_000_002
STUDENT = 7_400_000_003
ZONE = factories.ZONE
NOW = datetime(2027, 3, 1, 6, 0, tzinfo=UTC)
DEFAULT = "dlt_platform_contest"


def _typed(moment: datetime) -> str:
    return moment.astimezone(ZONE).strftime("%d.%m.%Y %H:%M")


async def _default(db) -> Contest:
    async with db() as session:
        contest = await session.scalar(select(Contest).where(Contest.code == DEFAULT))
        assert contest is not None
        return contest


@pytest.fixture
async def loaded(db):
    """Two organizers and a student; the default contest pack is in every test database."""
    await factories.organizer(db, ORG, ADMINS)
    await factories.organizer(db, ORG2, ADMINS)
    await factories.student(db, STUDENT)
    return db


def test_typed_values_are_read_or_refused_with_their_key():
    """Tried: extensions with dots, stars, capitals and duplicates; `-` for none; `exe!!`; a count
    `5`, `1-5`, `1–5`, `0`, `6-2`, `21`; weights `2,5`, `20`, `0`, `-1`, `nan`, `inf`, `1001`;
    numbers with letters, Arabic-Indic digits and out of range; sections with text outside them."""
    assert svc.read_types(".PDF, *.docx pdf;pptx") == ["pdf", "docx", "pptx"]
    assert svc.read_types("-") is None and svc.read_types("жоқ") is None
    with pytest.raises(InvalidInput) as bad:
        svc.read_types("exe!!")
    assert bad.value.key == "contest.setup_bad_types"
    assert svc.read_count("5") == (0, 5)
    assert svc.read_count("1-5") == (1, 5) and svc.read_count("1–5") == (1, 5)
    for typed in ("0", "6-2", "21", "five"):
        with pytest.raises(InvalidInput, match=re.escape("contest.setup_bad_count")):
            svc.read_count(typed)
    assert svc.read_weight("2,5") == 2.5 and svc.read_weight("20") == 20
    for typed in ("0", "-1", "nan", "inf", "1001", "heavy"):
        with pytest.raises(InvalidInput, match=re.escape("contest.setup_bad_weight")):
            svc.read_weight(typed)
    assert svc.read_number("3", 1, 10) == 3
    for typed in ("3a", "٣", "11", "0", ""):
        with pytest.raises(InvalidInput, match=re.escape("contest.setup_bad_number")):
            svc.read_number(typed, 1, 10)
    assert svc.read_texts("[kk] А\n[en] B", line=True, limit=10) == {"kk": "А", "en": "B"}
    assert svc.read_texts("Same", line=True, limit=10) == {
        "kk": "Same",
        "ru": "Same",
        "en": "Same",
    }
    with pytest.raises(InvalidInput, match=re.escape("contest.setup_unmarked")):
        svc.read_texts("lead\n[en] B", line=True, limit=10)
    with pytest.raises(InvalidInput, match=re.escape("contest.setup_text_too_long")):
        svc.read_texts("[en] " + "x" * 11, line=True, limit=10)
    with pytest.raises(InvalidInput, match=re.escape("contest.setup_bad_time")):
        svc.read_moment("next Friday", ZONE, NOW)


async def test_a_new_contest_is_built_step_by_step_and_saved_as_a_pack(loaded):
    """Tried: Save with no code (refused), a taken code, the values one by one, Save with the
    problems listed (each with its pack path), then a complete copy saved as version 1; the copy
    is gone and a second New starts afresh."""
    db = loaded
    view = await svc.open_new(db, ORG, ADMINS, ZONE)
    with pytest.raises(InvalidInput, match=re.escape("contest.setup_no_code")):
        await svc.save(db, ORG, ADMINS, view.id, zone=ZONE)
    with pytest.raises(InvalidInput, match=re.escape("contest.setup_code_taken")):
        await svc.set_value(db, ORG, ADMINS, view.id, Field.CODE, DEFAULT, zone=ZONE, now=NOW)
    sid = view.id
    await svc.set_value(db, ORG, ADMINS, sid, Field.CODE, "Lesson_Plans", zone=ZONE, now=NOW)
    await svc.set_value(db, ORG, ADMINS, sid, Field.TITLE, "Lesson plans", zone=ZONE, now=NOW)
    with pytest.raises(SetupRefused) as refused:
        await svc.save(db, ORG, ADMINS, sid, zone=ZONE)
    paths = {error.path for error in refused.value.errors}
    assert any(path.startswith("rules") for path in paths), paths
    await svc.set_value(db, ORG, ADMINS, sid, Field.RULES, "One plan each.", zone=ZONE, now=NOW)
    for field, moment in (
        (Field.OPENS, NOW + timedelta(days=1)),
        (Field.DEADLINE, NOW + timedelta(days=20)),
        (Field.JURY, NOW + timedelta(days=30)),
    ):
        await svc.set_value(db, ORG, ADMINS, sid, field, _typed(moment), zone=ZONE, now=NOW)
    for field, text in (
        (Field.CRITERION_CODE, "quality"),
        (Field.CRITERION_TITLE, "Quality"),
        (Field.CRITERION_WEIGHT, "1"),
        (Field.CRITERION_MAX, "10"),
    ):
        view = await svc.set_value(db, ORG, ADMINS, sid, field, text, zone=ZONE, now=NOW)
    assert [c["code"] for c in view.criteria] == ["quality"] and not view.pending
    await svc.set_link(db, ORG, ADMINS, sid, LinkRule.OFF, zone=ZONE)
    await svc.set_value(db, ORG, ADMINS, sid, Field.TYPES, "pdf", zone=ZONE, now=NOW)
    await svc.set_value(db, ORG, ADMINS, sid, Field.FILES, "1-1", zone=ZONE, now=NOW)
    saved = await svc.save(db, ORG, ADMINS, sid, zone=ZONE)
    assert saved.status == "created"
    assert saved.contest.code == "lesson_plans" and saved.contest.pack_version == 1
    async with db() as session:
        assert await session.scalar(select(ContestSetup.id)) is None
        stored = await session.scalar(select(Contest).where(Contest.code == "lesson_plans"))
    assert stored is not None and stored.opens_at == NOW + timedelta(days=1)
    assert stored.definition["entry"]["link"] == "off"
    fresh = await svc.open_new(db, ORG, ADMINS, ZONE)
    assert fresh.code is None and not fresh.criteria  # a fresh copy, not the saved one


async def test_an_unchanged_save_keeps_the_version_and_a_stale_copy_is_refused(loaded):
    """Tried: opening the default contest and saving it unchanged (version kept, copy gone); two
    organizers each opening it, the first saving a new title (version 2), the second's save
    refused as stale rather than undoing it; a student and another organizer's copy refused."""
    db = loaded
    contest = await _default(db)
    mine = await svc.open_contest(db, ORG, ADMINS, contest.id, ZONE)
    assert not mine.changed
    assert (await svc.save(db, ORG, ADMINS, mine.id, zone=ZONE)).status == "unchanged"
    assert (await _default(db)).pack_version == contest.pack_version

    mine = await svc.open_contest(db, ORG, ADMINS, contest.id, ZONE)
    theirs = await svc.open_contest(db, ORG2, ADMINS, contest.id, ZONE)
    assert mine.id != theirs.id
    with pytest.raises(PermissionDenied):
        await svc.get(db, ORG, ADMINS, theirs.id, ZONE)
    with pytest.raises(PermissionDenied):
        await svc.open_contest(db, STUDENT, ADMINS, contest.id, ZONE)
    with pytest.raises(NotFound):
        await svc.open_contest(db, ORG, ADMINS, 999_999, ZONE)
    await svc.set_value(db, ORG, ADMINS, mine.id, Field.TITLE, "[en] Renamed", zone=ZONE, now=NOW)
    saved = await svc.save(db, ORG, ADMINS, mine.id, zone=ZONE)
    assert saved.status == "new_version" and saved.contest.pack_version == contest.pack_version + 1
    await svc.set_value(db, ORG2, ADMINS, theirs.id, Field.TEAM, "2", zone=ZONE, now=NOW)
    with pytest.raises(InvalidInput, match=re.escape("contest.setup_stale")):
        await svc.save(db, ORG2, ADMINS, theirs.id, zone=ZONE)
    # The refused copy is kept: the organizer can discard it and start again.
    await svc.discard(db, ORG2, ADMINS, theirs.id)
    with pytest.raises(NotFound):
        await svc.get(db, ORG2, ADMINS, theirs.id, ZONE)


async def test_the_contests_history_locks_what_it_must(loaded):
    """Tried: after the allocation, blind review, the criteria and the reviews per entry refused
    with `contest.setup_locked_allocated` while the title and the dates still change; after the
    release, the feedback switch refused with `contest.setup_locked_released`."""
    db = loaded
    contest = await _default(db)
    async with db.begin() as session:
        await session.execute(
            update(Contest).where(Contest.id == contest.id).values(allocated_at=NOW)
        )
    view = await svc.open_contest(db, ORG, ADMINS, contest.id, ZONE)
    with pytest.raises(InvalidInput, match=re.escape("contest.setup_locked_allocated")):
        await svc.toggle(db, ORG, ADMINS, view.id, Switch.BLIND, zone=ZONE)
    with pytest.raises(InvalidInput, match=re.escape("contest.setup_locked_allocated")):
        await svc.set_value(db, ORG, ADMINS, view.id, Field.REVIEWS, "2", zone=ZONE, now=NOW)
    code = view.criteria[0]["code"]
    with pytest.raises(InvalidInput, match=re.escape("contest.setup_locked_allocated")):
        await svc.remove_criterion(db, ORG, ADMINS, view.id, code, zone=ZONE)
    await svc.set_value(
        db, ORG, ADMINS, view.id, Field.TITLE, "[en] Still free", zone=ZONE, now=NOW
    )
    await svc.toggle(db, ORG, ADMINS, view.id, Switch.FEEDBACK, zone=ZONE)  # not released yet
    async with db.begin() as session:
        await session.execute(
            update(Contest).where(Contest.id == contest.id).values(released_at=NOW)
        )
    with pytest.raises(InvalidInput, match=re.escape("contest.setup_locked_released")):
        await svc.toggle(db, ORG, ADMINS, view.id, Switch.FEEDBACK, zone=ZONE)
