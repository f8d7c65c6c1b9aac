"""A `/start` deep link kept on the user until onboarding is complete (users service).

Tried: a payload no Telegram link can carry (empty, too long, spaces, Cyrillic); a second link
replacing the first; taking it while onboarding is unfinished (nothing taken, still kept);
taking it after the last step (given once, then cleared); a new session reading it back (as
after a restart); /delete_my_data taking it with the user.
"""

from __future__ import annotations

import pytest

from bot.services import InvalidInput, NotFound
from bot.services import users as user_service
from bot.services.universities import list_universities
from tests import factories

ADMINS = frozenset({1})


async def test_a_kept_link_is_taken_once_after_onboarding(db):
    """Kept while onboarding, replaced by a second, refused when malformed, taken once."""
    await factories.person(db, 700, ADMINS)
    for bad in ("", "c-" + "x" * 63, "c-a b", "c-курс", "c-a\nb"):
        with pytest.raises(InvalidInput) as caught:
            await user_service.remember_start(db, 700, bad, ADMINS)
        assert caught.value.key == "invites.unknown"
    profile = await user_service.remember_start(db, 700, "c-first", ADMINS)
    assert profile.pending_start == "c-first"
    profile = await user_service.remember_start(db, 700, "c-dlt_course", ADMINS)
    assert profile.pending_start == "c-dlt_course"
    assert await user_service.take_pending_start(db, 700, ADMINS) == (None, profile)
    await user_service.set_language(db, 700, "en", ADMINS)
    await user_service.set_consent(db, 700, True, ADMINS)
    universities = await list_universities(db)
    await user_service.set_university(db, 700, universities[0].id, ADMINS)
    profile = await user_service.get_profile(db, 700, ADMINS)  # a fresh read: a restart
    assert profile.pending_start == "c-dlt_course" and profile.next_step is not None
    assert (await user_service.take_pending_start(db, 700, ADMINS))[0] is None
    await user_service.set_group(db, 700, "G-1", ADMINS)
    payload, profile = await user_service.take_pending_start(db, 700, ADMINS)
    assert payload == "c-dlt_course" and profile.pending_start is None
    assert profile.next_step is None
    assert (await user_service.take_pending_start(db, 700, ADMINS))[0] is None
    assert (await user_service.get_profile(db, 700, ADMINS)).pending_start is None


async def test_deleting_the_user_deletes_the_kept_link(db):
    """/delete_my_data removes the row, and the link with it; a newcomer starts clean."""
    await factories.person(db, 701, ADMINS)
    await user_service.remember_start(db, 701, "c-dlt_course", ADMINS)
    assert await user_service.delete_user(db, 701)
    with pytest.raises(NotFound):
        await user_service.take_pending_start(db, 701, ADMINS)
    await factories.person(db, 701, ADMINS)
    assert (await user_service.get_profile(db, 701, ADMINS)).pending_start is None
