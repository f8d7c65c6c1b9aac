"""Universities: the seeded consortium list and the admin's changes to it."""

from __future__ import annotations

import pytest

from bot.services import InvalidInput, PermissionDenied
from bot.services import universities as svc
from tests import factories

ADMINS = frozenset({1})


async def test_consortium_is_seeded_in_three_countries_and_three_languages(db):
    unis = await svc.list_universities(db)
    assert len(unis) == 6
    assert [u.country for u in unis] == ["KZ", "KZ", "KZ", "KZ", "RU", "UZ"]
    assert unis[0].name("en") == "M.Kh. Dulaty Taraz Regional University"
    assert all(u.name("kk") and u.name("ru") and u.name("en") for u in unis)
    assert "Низами" in unis[-1].name("ru")


async def test_admin_adds_hides_and_shows(db):
    await factories.admin(db, 1, ADMINS, onboarded=False, first_name="A")
    added = await svc.add_university(db, 1, ADMINS, "kz | Abai University | Университет Абая")
    assert added.country == "KZ" and added.name("ru") == "Университет Абая"
    assert added.name("kk") == "Abai University"
    hidden = await svc.set_active(db, 1, ADMINS, added.id, False)
    assert not hidden.active
    # Setting, not toggling: the same request twice leaves it hidden.
    assert not (await svc.set_active(db, 1, ADMINS, added.id, False)).active
    assert added.id not in {u.id for u in await svc.list_universities(db)}
    assert added.id in {u.id for u in await svc.list_universities(db, include_hidden=True)}
    assert (await svc.set_active(db, 1, ADMINS, added.id, True)).active


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Abai University", "universities.add_format"),
        ("KAZ | Abai", "universities.bad_country"),
        ("US | Abai", "universities.bad_country"),
        ("KZ | " + "x" * 201, "universities.name_too_long"),
        ("KZ |  ", "universities.add_format"),
        ("KZ | M.Kh. Dulaty Taraz Regional University", "universities.duplicate"),
    ],
)
async def test_bad_descriptions_are_refused(db, text, key):
    await factories.admin(db, 1, ADMINS, onboarded=False, first_name="A")
    with pytest.raises(InvalidInput) as exc:
        await svc.add_university(db, 1, ADMINS, text)
    assert exc.value.key == key
    assert len(await svc.list_universities(db, include_hidden=True)) == 6


async def test_non_admin_cannot_change_universities(db):
    await factories.person(db, 5, ADMINS, first_name="S")
    with pytest.raises(PermissionDenied):
        await svc.add_university(db, 5, ADMINS, "KZ | New")
    with pytest.raises(PermissionDenied):
        await svc.set_active(db, 5, ADMINS, 1, False)


async def test_names_typed_with_control_or_invisible_characters(db):
    """A NUL in a typed university name failed on PostgreSQL only; a name of zero-width
    characters was accepted as a name. Now the NUL is removed and the blank name refused."""
    await factories.admin(db, 1, ADMINS, onboarded=False, first_name="A")
    added = await svc.add_university(db, 1, ADMINS, "KZ | Abai\x00 University | \u200b | Абай\x1b")
    assert added.names == {"en": "Abai University", "ru": "Abai University", "kk": "Абай"}
    with pytest.raises(InvalidInput) as exc:
        await svc.add_university(db, 1, ADMINS, "KZ | \u200b\u2060\ufeff")
    assert exc.value.key == "universities.add_format"
    assert len(await svc.list_universities(db, include_hidden=True)) == 7
