"""The resource bank on a real database: contributing, moderation rights, finding, using and
rating (bot/services/resources.py, resource_moderation.py), built through tests/factories.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.i18n import I18n
from bot.services import InvalidInput, NotFound, PermissionDenied
from bot.services import resources as bank
from bot.services.resources import FileInfo, Kind, Level, State
from bot.services.universities import list_universities
from models import Delivery, Discipline, Resource, ResourceUse
from tests import factories
from tests.conftest import ADMIN_ID

ADMINS = frozenset({ADMIN_ID})
I18N = I18n("kk")
COACH = 7_400_000_001  # a coach of university 0
OTHER_COACH = 7_400_000_002  # a coach of university 1
ORG0 = 7_400_000_010  # an organizer of university 0
ORG1 = 7_400_000_011  # an organizer of university 1
STUDENT = 7_400_000_100  # a student of university 1
NOW = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
TITLE = "[kk] Цифрлық сауаттылық\n[ru] Цифровая грамотность\n[en] Digital literacy"
PDF = FileInfo("BQACAgIAAx0-file", "AgADfile", "lesson.pdf", "application/pdf", 2_000_000)


async def world(db):
    """Two universities' coaches and organizers, a student, the admin; the universities."""
    unis = await list_universities(db)
    await factories.coach(db, COACH, ADMINS, university=unis[0])
    await factories.coach(db, OTHER_COACH, ADMINS, university=unis[1])
    await factories.organizer(db, ORG0, ADMINS, university=unis[0], language="ru")
    await factories.organizer(db, ORG1, ADMINS, university=unis[1])
    await factories.student(db, STUDENT, university=unis[1])
    await factories.admin(db, ADMIN_ID, ADMINS)
    return unis


async def a_discipline(db):
    """The first discipline of the shipped list."""
    return (await bank.disciplines(db))[0]


async def complete(db, actor=COACH, **fields):
    """A complete draft by `actor`, every step given as the chat gives it."""
    draft = await bank.start_draft(db, actor, ADMINS)
    values = {
        "title": TITLE,
        "description": "[kk] Оқулық\n[ru] Учебник для студентов\n[en] A textbook for students",
        "discipline": (await a_discipline(db)).id,
        "kind": Kind.TEXTBOOK,
        "languages": "kk, ru",
        "level": Level.BACHELOR,
        "license": "CC BY",
        "authors": "A. Author, B. Author",
        "university": None,
        "file": PDF,
        **fields,
    }
    view = draft
    for field, value in values.items():
        view = await bank.set_field(db, actor, ADMINS, draft.id, field, value)
    return view


async def approved(db, actor=COACH, moderator=ORG0, **fields):
    """A complete resource, submitted and approved."""
    view = await complete(db, actor, **fields)
    await bank.submit(db, actor, ADMINS, view.id, i18n=I18N, now=NOW)
    return (await bank.approve(db, moderator, ADMINS, view.id, i18n=I18N, now=NOW)).resource


async def deliveries(db, broadcast_id):
    """(chat id, text, buttons) of every delivery of a broadcast, by chat id."""
    async with db() as session:
        rows = (
            await session.scalars(select(Delivery).where(Delivery.broadcast_id == broadcast_id))
        ).all()
        return sorted(
            (d.chat_id, (d.payload or {}).get("text"), (d.payload or {}).get("buttons"))
            for d in rows
        )


# --- contributing ------------------------------------------------------------------------------


async def test_a_draft_walks_its_steps_and_keeps_each_field(db):
    """A coach's draft moves through the steps in order, each field stored as given: the
    titles per language, the languages, the license spelled loosely, the contributor's own
    university by default; it reaches the preview after the file."""
    unis = await world(db)
    draft = await bank.start_draft(db, COACH, ADMINS)
    assert draft.state is State.DRAFT and draft.step == "title"
    assert draft.university_id == unis[0].id
    view = await bank.set_field(db, COACH, ADMINS, draft.id, "title", TITLE)
    assert view.step == "description"
    assert view.title == {
        "kk": "Цифрлық сауаттылық",
        "ru": "Цифровая грамотность",
        "en": "Digital literacy",
    }
    view = await bank.set_field(db, COACH, ADMINS, draft.id, "description", None)  # skipped
    assert view.step == "discipline" and view.description == {}
    view = await bank.set_field(
        db, COACH, ADMINS, draft.id, "discipline", (await a_discipline(db)).id
    )
    assert view.step == "kind"
    view = await bank.set_field(db, COACH, ADMINS, draft.id, "kind", "video")
    assert view.step == "languages" and view.kind is Kind.VIDEO
    view = await bank.set_field(db, COACH, ADMINS, draft.id, "languages", "KK ru, kk")
    assert view.languages == ("kk", "ru")
    view = await bank.set_field(db, COACH, ADMINS, draft.id, "level", "master")
    view = await bank.set_field(db, COACH, ADMINS, draft.id, "license", "  cc by-sa ")
    assert view.license == "CC BY-SA" and view.step == "authors"
    view = await bank.set_field(db, COACH, ADMINS, draft.id, "authors", "A. Author")
    view = await bank.set_field(db, COACH, ADMINS, draft.id, "university", None)
    assert view.step == "file" and view.university_id == unis[0].id
    view = await bank.set_field(db, COACH, ADMINS, draft.id, "url", "https://openstax.org/x")
    assert view.step == "preview" and view.url == "https://openstax.org/x"
    assert bank.missing(view) == []
    drafts = await bank.my_drafts(db, COACH)
    assert [(d.id, d.step) for d in drafts] == [(draft.id, "preview")]  # what a restart finds


async def test_editing_from_the_preview_returns_to_it(db):
    """From the preview, Edit title goes to the title step and the new title brings the draft
    back to the preview, not through every later step again."""
    await world(db)
    view = await complete(db)
    assert view.step == "preview"
    view = await bank.set_field(db, COACH, ADMINS, view.id, "step", "title")
    assert view.step == "title"
    view = await bank.set_field(db, COACH, ADMINS, view.id, "title", "One title for all")
    assert view.step == "preview" and view.title == {"*": "One title for all"}


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("title", "   ", "bank.empty_text"),
        ("title", "\u200b\u200b", "bank.empty_text"),
        ("title", "x" * 201, "bank.text_too_long"),
        ("title", "loose\n[ru] Русский", "bank.unmarked_text"),
        ("kind", "novel", "bank.bad_kind"),
        ("level", "phd", "bank.bad_level"),
        ("languages", "kazakh", "bank.bad_languages"),
        ("languages", "", "bank.bad_languages"),
        ("license", "", "bank.license_required"),
        ("license", None, "bank.license_required"),
        ("license", "GPL", "bank.bad_license"),
        ("url", "not a link", "bank.bad_link"),
        ("url", "ftp://files.example.org/x.pdf", "bank.bad_link"),
        ("url", "javascript:alert(1)", "bank.bad_link"),
        (
            "file",
            FileInfo("id", None, "setup.exe", "application/x-msdownload", 1000),
            "bank.bad_file_type",
        ),
        (
            "file",
            FileInfo("id", None, "big.pdf", "application/pdf", 20 * 1024 * 1024 + 1),
            "bank.file_too_big",
        ),
        (
            "file",
            FileInfo("id", None, None, "application/octet-stream", 1000),
            "bank.bad_file_type",
        ),
        ("discipline", 999_999, "bank.discipline_not_found"),
        ("university", 999_999, "bank.bad_university"),
        ("colour", "red", "bank.bad_field"),
    ],
)
async def test_bad_input_is_refused_with_its_message_and_nothing_is_lost(db, field, value, key):
    """Each bad value is refused with its own message; the draft keeps what it had (its
    title, license and file) and stays at its step."""
    await world(db)
    before = await complete(db)
    with pytest.raises(InvalidInput) as refused:
        await bank.set_field(db, COACH, ADMINS, before.id, field, value)
    assert refused.value.key == key
    after = await bank.get(db, COACH, before.id)
    assert (after.title, after.license, after.has_file, after.url, after.step) == (
        before.title,
        before.license,
        before.has_file,
        before.url,
        before.step,
    )


async def test_a_file_of_an_allowed_type_is_kept_by_its_file_id(db):
    """A PDF within 20 MB is kept by its Telegram file_id (name, type and size with it); a file
    without a name is known by its MIME type; removing the file keeps the link."""
    await world(db)
    view = await complete(db, url="https://example.org/lesson")
    assert view.has_file and view.file_id == PDF.file_id and view.file_name == "lesson.pdf"
    nameless = FileInfo("id2", None, None, "application/pdf", 10)
    view = await bank.set_field(db, COACH, ADMINS, view.id, "file", nameless)
    assert view.file_id == "id2" and view.mime_type == "application/pdf"
    view = await bank.set_field(db, COACH, ADMINS, view.id, "file", None)
    assert not view.has_file and view.url == "https://example.org/lesson"


async def test_submit_needs_every_required_field(db):
    """An incomplete draft is not submitted: the license missing says a license is required
    (with the list), no file and no link says so; the draft stays a draft."""
    await world(db)
    draft = await bank.start_draft(db, COACH, ADMINS)
    with pytest.raises(InvalidInput) as refused:
        await bank.submit(db, COACH, ADMINS, draft.id, i18n=I18N)
    assert refused.value.key == "bank.missing_title"
    view = await complete(db)
    view = await bank.set_field(db, COACH, ADMINS, view.id, "file", None)
    with pytest.raises(InvalidInput) as refused:
        await bank.submit(db, COACH, ADMINS, view.id, i18n=I18N)
    assert refused.value.key == "bank.missing_file"
    async with db.begin() as session:  # a draft from before the license step existed
        row = await session.get(Resource, view.id)
        row.license = None
    await bank.set_field(db, COACH, ADMINS, view.id, "url", "https://example.org/r")
    with pytest.raises(InvalidInput) as refused:
        await bank.submit(db, COACH, ADMINS, view.id, i18n=I18N)
    assert refused.value.key == "bank.license_required"
    assert "CC BY-SA" in str(refused.value.values["licenses"])
    assert (await bank.get(db, COACH, view.id)).state is State.DRAFT


async def test_who_may_contribute_and_the_students_switch(db):
    """Coaches, organizers and admins contribute; a student only while the organizers' switch
    is on; a student cannot turn the switch on; an organizer can, and off again."""
    await world(db)
    assert await bank.may_contribute(db, COACH, ADMINS)
    assert await bank.may_contribute(db, ORG1, ADMINS)
    assert await bank.may_contribute(db, ADMIN_ID, ADMINS)
    assert not await bank.may_contribute(db, STUDENT, ADMINS)
    with pytest.raises(PermissionDenied) as refused:
        await bank.start_draft(db, STUDENT, ADMINS)
    assert refused.value.key == "bank.not_contributor"
    with pytest.raises(PermissionDenied):
        await bank.set_students_contribute(db, STUDENT, ADMINS, True)
    assert not await bank.students_contribute(db)
    assert await bank.set_students_contribute(db, ORG0, ADMINS, True) is True
    assert await bank.may_contribute(db, STUDENT, ADMINS)
    draft = await bank.start_draft(db, STUDENT, ADMINS)
    assert draft.state is State.DRAFT
    await bank.set_students_contribute(db, ORG0, ADMINS, False)
    assert not await bank.may_contribute(db, STUDENT, ADMINS)


async def test_only_the_contributor_edits_and_only_before_submitting(db):
    """Another coach's edit of a draft is refused; after submitting, the contributor's own
    edit is refused too (it is with the moderators); the draft is unchanged."""
    await world(db)
    view = await complete(db)
    with pytest.raises(PermissionDenied) as refused:
        await bank.set_field(db, OTHER_COACH, ADMINS, view.id, "title", "Mine now")
    assert refused.value.key == "bank.not_yours"
    await bank.submit(db, COACH, ADMINS, view.id, i18n=I18N)
    with pytest.raises(InvalidInput) as refused:
        await bank.set_field(db, COACH, ADMINS, view.id, "title", "Changed")
    assert refused.value.key == "bank.not_editable"
    with pytest.raises(InvalidInput):
        await bank.submit(db, COACH, ADMINS, view.id, i18n=I18N)  # a double tap
    assert (await bank.get(db, COACH, view.id)).title == view.title


async def test_the_university_is_the_contributors_unless_they_may_choose(db):
    """A scoped coach may not put a resource in another university's name; an admin may."""
    unis = await world(db)
    view = await complete(db)
    with pytest.raises(PermissionDenied) as refused:
        await bank.set_field(db, COACH, ADMINS, view.id, "university", unis[1].id)
    assert refused.value.key == "bank.own_university_only"
    mine = await complete(db, ADMIN_ID, university=unis[2].id)
    assert mine.university_id == unis[2].id


async def test_a_new_discipline_is_proposed_and_joins_the_list_with_the_approval(db):
    """A name not in the list is proposed (not listed yet); proposing the same name again gives
    the same discipline; approving the resource puts it on the list."""
    await world(db)
    listed = {d.id for d in await bank.disciplines(db)}
    view = await complete(db, discipline="[kk] Робототехника\n[ru] Робототехника")
    assert view.discipline_id not in listed
    assert view.discipline_name == {"kk": "Робототехника", "ru": "Робототехника"}
    again = await bank.propose_discipline(db, OTHER_COACH, ADMINS, "робототехника")
    assert again.id == view.discipline_id and not again.approved
    assert [d.id for d in await bank.disciplines(db, pending=True)] == [view.discipline_id]
    await bank.submit(db, COACH, ADMINS, view.id, i18n=I18N)
    await bank.approve(db, ORG0, ADMINS, view.id, i18n=I18N)
    assert view.discipline_id in {d.id for d in await bank.disciplines(db)}


# --- moderation --------------------------------------------------------------------------------


async def test_submitting_tells_the_universitys_organizers_and_the_admins(db):
    """A submitted resource is pending; the organizer of the contributor's university (in
    Russian, their language) and the admin are told with a Review button; the organizer of
    another university is not; the contributor is not told of their own."""
    await world(db)
    view = await complete(db)
    sent = await bank.submit(db, COACH, ADMINS, view.id, i18n=I18N, button_data="rb:m:1", now=NOW)
    assert sent.resource.state is State.PENDING and sent.resource.submitted_at == NOW
    told = await deliveries(db, sent.broadcast_id)
    assert [chat for chat, _, _ in told] == sorted([ORG0, ADMIN_ID])
    texts = {chat: text for chat, text, _ in told}
    assert "Новый ресурс на модерацию" in texts[ORG0] and "Цифровая грамотность" in texts[ORG0]
    assert all(
        buttons == [{"label": "Рассмотреть", "data": "rb:m:1"}]
        for c, _, buttons in told
        if c == ORG0
    )


async def test_a_forged_approve_from_anyone_but_a_moderator_is_refused(db):
    """A student, a coach (even the contributor) and the organizer of another university are
    refused; nothing changes; the organizer of the resource's university approves; a second
    approve (a double tap, or another moderator) is refused as decided already."""
    await world(db)
    view = await complete(db)
    await bank.submit(db, COACH, ADMINS, view.id, i18n=I18N)
    for actor, key in (
        (STUDENT, "errors.not_allowed"),
        (COACH, "errors.not_allowed"),
        (OTHER_COACH, "errors.not_allowed"),
        (ORG1, "bank.not_your_university"),
    ):
        with pytest.raises(PermissionDenied) as refused:
            await bank.approve(db, actor, ADMINS, view.id, i18n=I18N)
        assert refused.value.key == key, actor
        with pytest.raises(PermissionDenied):
            await bank.reject(db, actor, ADMINS, view.id, "no", i18n=I18N)
    assert (await bank.get(db, COACH, view.id)).state is State.PENDING
    done = await bank.approve(db, ORG0, ADMINS, view.id, i18n=I18N, now=NOW)
    assert done.resource.state is State.APPROVED and done.resource.approved_at == NOW
    told = await deliveries(db, done.broadcast_id)
    assert [chat for chat, _, _ in told] == [COACH]
    assert "approved" in told[0][1] or "мақұлданды" in told[0][1]
    with pytest.raises(InvalidInput) as refused:
        await bank.approve(db, ADMIN_ID, ADMINS, view.id, i18n=I18N)
    assert refused.value.key == "bank.not_pending"


async def test_the_queue_holds_what_each_moderator_may_decide(db):
    """Organizers see their university's pending resources (with the contributor's name), the
    admin sees all; students are refused the queue."""
    await world(db)
    first = await complete(db)
    second = await complete(db, OTHER_COACH)
    for actor, view in ((COACH, first), (OTHER_COACH, second)):
        await bank.submit(db, actor, ADMINS, view.id, i18n=I18N)
    assert [v.id for v in await bank.moderation_queue(db, ORG0, ADMINS)] == [first.id]
    assert [v.id for v in await bank.moderation_queue(db, ORG1, ADMINS)] == [second.id]
    queue = await bank.moderation_queue(db, ADMIN_ID, ADMINS)
    assert [v.id for v in queue] == [first.id, second.id]
    assert queue[0].contributor_name == f"U{COACH}"
    with pytest.raises(PermissionDenied):
        await bank.moderation_queue(db, STUDENT, ADMINS)


async def test_changes_asked_go_back_to_the_contributor_who_submits_again(db):
    """Asking for changes needs a comment; the contributor is told it with an Edit button,
    edits the resource at its preview and submits again; then it is approved."""
    await world(db)
    view = await complete(db)
    await bank.submit(db, COACH, ADMINS, view.id, i18n=I18N)
    with pytest.raises(InvalidInput) as refused:
        await bank.ask_changes(db, ORG0, ADMINS, view.id, "  ", i18n=I18N)
    assert refused.value.key == "bank.comment_required"
    asked = await bank.ask_changes(
        db, ORG0, ADMINS, view.id, "Add an English description", i18n=I18N, button_data="rb:e:1"
    )
    assert asked.resource.state is State.CHANGES
    assert asked.resource.moderation_comment == "Add an English description"
    ((chat, text, buttons),) = await deliveries(db, asked.broadcast_id)
    assert chat == COACH and "Add an English description" in text
    assert buttons == [{"label": "Edit", "data": "rb:e:1"}]
    assert [d.id for d in await bank.my_drafts(db, COACH)] == [view.id]
    edited = await bank.set_field(db, COACH, ADMINS, view.id, "description", "[en] Now in English")
    assert edited.step == "preview"
    again = await bank.submit(db, COACH, ADMINS, view.id, i18n=I18N)
    assert again.resource.state is State.PENDING
    assert (await bank.approve(db, ORG0, ADMINS, view.id, i18n=I18N)).resource.state is (
        State.APPROVED
    )


async def test_a_rejected_resource_stays_hidden_from_others(db):
    """A rejection needs a comment and is told to the contributor; others cannot open the
    resource or find it in the list; its contributor still sees it."""
    unis = await world(db)
    view = await complete(db)
    await bank.submit(db, COACH, ADMINS, view.id, i18n=I18N)
    with pytest.raises(InvalidInput):
        await bank.reject(db, ORG0, ADMINS, view.id, "", i18n=I18N)
    done = await bank.reject(db, ORG0, ADMINS, view.id, "Not openly licensed", i18n=I18N)
    ((chat, text, buttons),) = await deliveries(db, done.broadcast_id)
    assert chat == COACH and "Not openly licensed" in text and buttons == []
    for actor in (STUDENT, OTHER_COACH):
        with pytest.raises(NotFound):
            await bank.get(db, actor, view.code)
        with pytest.raises(NotFound):
            await bank.open_resource(db, actor, view.id)
    assert (await bank.browse(db, STUDENT, university_id=unis[0].id)).total == 0
    assert (await bank.get(db, COACH, view.code)).state is State.REJECTED


# --- finding, using, rating --------------------------------------------------------------------


async def test_only_approved_resources_are_listed_newest_first_with_filters_and_pages(db):
    """Pending ones are not listed; approved ones newest first; filters by discipline, kind,
    language and university; pages of 2 with the total; a page past the end is the last."""
    unis = await world(db)
    disciplines = await bank.disciplines(db)
    pending = await complete(db)
    await bank.submit(db, COACH, ADMINS, pending.id, i18n=I18N)
    made = []
    for n, (kind, languages, discipline) in enumerate(
        [
            (Kind.TEXTBOOK, "kk", disciplines[0].id),
            (Kind.VIDEO, "ru, en", disciplines[1].id),
            (Kind.TEST, "kk, en", disciplines[0].id),
        ]
    ):
        view = await complete(db, kind=kind, languages=languages, discipline=discipline)
        await bank.submit(db, COACH, ADMINS, view.id, i18n=I18N)
        await bank.approve(db, ORG0, ADMINS, view.id, i18n=I18N, now=NOW + timedelta(hours=n))
        made.append(view.id)
    mine = unis[0].id
    page = await bank.browse(db, STUDENT, university_id=mine, per_page=2)
    assert (page.total, page.pages, [v.id for v in page.items]) == (3, 2, made[::-1][:2])
    last = await bank.browse(db, STUDENT, university_id=mine, per_page=2, page=9)
    assert (last.page, [v.id for v in last.items]) == (1, [made[0]])
    by_kind = await bank.browse(db, STUDENT, university_id=mine, kind="video")
    assert [v.id for v in by_kind.items] == [made[1]]
    in_kazakh = await bank.browse(db, STUDENT, university_id=mine, language="kk")
    assert [v.id for v in in_kazakh.items] == [made[2], made[0]]
    by_discipline = await bank.browse(db, STUDENT, discipline_id=disciplines[1].id)
    assert made[1] in [v.id for v in by_discipline.items]
    assert pending.id not in [v.id for v in (await bank.browse(db, STUDENT, per_page=50)).items]
    elsewhere = await bank.browse(db, STUDENT, university_id=unis[1].id)
    assert elsewhere.total == 0 and elsewhere.items == [] and elsewhere.pages == 1


async def test_the_shipped_resources_are_in_the_bank(db):
    """The default content's resources are approved and listed: links, described in kk/ru/en."""
    page = await bank.browse(db, 1, per_page=50)
    shipped = [v for v in page.items if v.university_id is None]
    assert len(shipped) >= 5
    for view in shipped:
        assert view.url and view.url.startswith("https://") and not view.has_file
        assert set(view.title) == set(view.description) == {"kk", "ru", "en"}
        assert view.license and view.discipline_name


async def test_opening_counts_one_use_per_person(db):
    """Opening gives the file_id and link; the first opening records a use, later ones only
    count in `opened`; another person's is a second use; a moderator opening a pending
    resource records nothing."""
    await world(db)
    view = await approved(db)
    opened = await bank.open_resource(db, STUDENT, view.id, now=NOW)
    assert opened.file_id == PDF.file_id and opened.used_by_me and opened.uses == 1
    again = await bank.open_resource(db, STUDENT, view.id, now=NOW + timedelta(days=1))
    assert again.uses == 1
    other = await bank.open_resource(db, OTHER_COACH, view.id)
    assert other.uses == 2
    async with db() as session:
        use = await session.scalar(select(ResourceUse).where(ResourceUse.resource_id == view.id))
        assert (use.opened, use.first_used_at, use.last_used_at) == (
            2,
            NOW,
            NOW + timedelta(days=1),
        )
    pending = await complete(db)
    await bank.submit(db, COACH, ADMINS, pending.id, i18n=I18N)
    seen = await bank.open_resource(db, ORG0, pending.id, admin_ids=ADMINS)
    assert seen.uses == 0 and seen.file_id == PDF.file_id
    async with db() as session:
        assert (
            await session.scalar(select(func.count()).where(ResourceUse.resource_id == pending.id))
            == 0
        )


async def test_rating_needs_a_use_and_a_second_rating_replaces_the_first(db):
    """Rating a resource not opened is refused (bank.rate_unused); 0 and 6 are refused; the
    second rating of a person replaces the first (one rating, the new comment); the mean is
    over people: (2 + 5) / 2."""
    await world(db)
    view = await approved(db)
    with pytest.raises(InvalidInput) as refused:
        await bank.rate(db, STUDENT, view.id, 5)
    assert refused.value.key == "bank.rate_unused"
    await bank.open_resource(db, STUDENT, view.id)
    for wrong in (0, 6, True):
        with pytest.raises(InvalidInput) as refused:
            await bank.rate(db, STUDENT, view.id, wrong)
        assert refused.value.key == "bank.bad_rating"
    first = await bank.rate(db, STUDENT, view.id, 4, "Useful")
    assert (first.ratings, first.rating_mean, first.my_rating, first.my_comment) == (
        1,
        4.0,
        4,
        "Useful",
    )
    second = await bank.rate(db, STUDENT, view.id, 2)
    assert (second.ratings, second.rating_mean, second.my_rating, second.my_comment) == (
        1,
        2.0,
        2,
        None,
    )
    await bank.open_resource(db, OTHER_COACH, view.id)
    both = await bank.rate(db, OTHER_COACH, view.id, 5)
    assert (both.ratings, both.rating_mean) == (2, 3.5)
    assert (await bank.get(db, STUDENT, view.id)).my_rating == 2


async def test_a_resource_is_found_by_its_code_and_unknown_codes_are_not(db):
    """`get` by code (a deep link) finds an approved resource for anyone; an unknown code and
    a draft someone else owns are not found."""
    await world(db)
    view = await approved(db)
    assert (await bank.get(db, STUDENT, view.code.upper())).id == view.id
    with pytest.raises(NotFound):
        await bank.get(db, STUDENT, "nosuchcode")
    draft = await bank.start_draft(db, COACH, ADMINS)
    with pytest.raises(NotFound):
        await bank.get(db, STUDENT, draft.code)


async def test_discarding_a_draft_deletes_only_ones_own_draft(db):
    """A draft is discarded by its contributor; someone else's discard is refused."""
    await world(db)
    draft = await bank.start_draft(db, COACH, ADMINS)
    with pytest.raises(PermissionDenied):
        await bank.discard_draft(db, OTHER_COACH, draft.id)
    await bank.discard_draft(db, COACH, draft.id)
    async with db() as session:
        assert await session.get(Resource, draft.id) is None
        assert await session.scalar(select(func.count(Discipline.id))) > 0
