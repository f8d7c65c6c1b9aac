"""Loading packs: all or nothing, versions never rewritten, uploads only by organizers."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.services import PermissionDenied, users
from bot.services import content as svc
from bot.services.roles import Role, ensure_role
from models import Instrument

EXAMPLE = Path(__file__).resolve().parents[1] / "content" / "example_pack.yaml"
ADMINS = frozenset({1})


def _write(folder: Path, name: str, data: dict) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


async def _versions(db, code):
    async with db() as session:
        rows = await session.execute(
            select(Instrument.version, Instrument.definition)
            .where(Instrument.code == code)
            .order_by(Instrument.version)
        )
        return rows.all()


async def test_load_once_then_unchanged_then_new_version(db, tmp_path):
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    path = _write(tmp_path, "pack.yaml", data)
    first = await svc.load_path(db, path)
    assert first.ok and [(x.code, x.version, x.status) for x in first.loaded] == [
        ("example_test", 1, "created")
    ]
    again = await svc.load_path(db, path)
    assert [x.status for x in again.loaded] == ["unchanged"]
    data["questions"][1]["text"]["en"] = "What is a learning management system?"
    _write(tmp_path, "pack.yaml", data)
    changed = await svc.load_path(db, path)
    assert [(x.version, x.status) for x in changed.loaded] == [(2, "new_version")]
    versions = await _versions(db, "example_test")
    # Version 1 is exactly as it was: answers given to it keep their wording.
    assert versions[0][1]["questions"][1]["text"]["en"] == "What is an LMS?"
    assert versions[1][1]["questions"][1]["text"]["en"].startswith("What is a learning")


async def test_one_bad_pack_refuses_the_whole_batch(db, tmp_path):
    good = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    bad = dict(good, code="broken_pack")
    bad["questions"] = [dict(good["questions"][1], type="slider")]
    _write(tmp_path, "a_good.yaml", good)
    _write(tmp_path, "b_bad.yaml", bad)
    outcome = await svc.load_path(db, tmp_path)
    assert not outcome.ok and outcome.loaded == []
    assert any("unknown question type 'slider'" in str(e) for e in outcome.errors)
    assert await _versions(db, "example_test") == []


async def test_a_pair_partner_must_exist(db, tmp_path):
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["pair"] = {"role": "pre", "with": "nowhere_post"}
    outcome = await svc.load_path(db, _write(tmp_path, "p.yaml", data))
    assert not outcome.ok
    assert "no instrument 'nowhere_post' is loaded or given" in str(outcome.errors[0])


async def test_uploads_are_for_organizers_and_admins(db):
    data = EXAMPLE.read_bytes()
    await users.seen(
        db, 5, first_name="s", username=None, telegram_language=None, admin_ids=ADMINS
    )
    with pytest.raises(PermissionDenied):
        await svc.load_upload(db, 5, ADMINS, data, "example.yaml")
    await ensure_role(db, 6, Role.ORGANIZER)
    outcome = await svc.load_upload(db, 6, ADMINS, data, "example.yaml")
    assert outcome.ok and outcome.loaded[0].status == "created"
    broken = await svc.load_upload(db, 6, ADMINS, b"code: [unclosed", "x.yaml")
    assert not broken.ok and "not valid YAML" in str(broken.errors[0])
    binary = await svc.load_upload(db, 6, ADMINS, b"\xff\xfe\x00", "x.yaml")
    assert "not UTF-8" in str(binary.errors[0])


async def test_default_content_loads_only_into_an_empty_database(db, tmp_path):
    async with db.begin() as session:
        await session.execute(Instrument.__table__.delete())
    _write(tmp_path, "pack.yaml", yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")))
    outcome = await svc.load_defaults_if_empty(db, tmp_path)
    assert outcome is not None and outcome.ok
    assert await svc.load_defaults_if_empty(db, tmp_path) is None
    assert ("example_test", 1, "test") in await svc.latest_versions(db)


async def test_uploads_with_yaml_aliases_are_refused(db):
    await ensure_role(db, 6, Role.ORGANIZER)
    bomb = b"a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n"
    outcome = await svc.load_upload(db, 6, ADMINS, bomb, "bomb.yaml")
    assert not outcome.ok and "anchors and aliases" in str(outcome.errors[0])


async def test_a_pair_loaded_together_keeps_its_question_types(db, tmp_path):
    """Two halves of a pair in one batch, q1 a choice in one and a number in the other."""
    head = "kind: survey\nversion: 1\ntitle: {kk: T, ru: T, en: T}\n"
    pre = (
        head + "code: zz_pre\npair: {role: pre, with: zz_post}\nquestions:\n"
        "  - type: single\n    code: q1\n    text: {kk: Q, ru: Q, en: Q}\n    options:\n"
        "      - {code: a, text: {kk: A, ru: A, en: A}}\n"
        "      - {code: b, text: {kk: B, ru: B, en: B}}\n"
    )
    post = (
        head + "code: zz_post\npair: {role: post, with: zz_pre}\nquestions:\n"
        "  - type: number\n    code: q1\n    text: {kk: Q, ru: Q, en: Q}\n"
    )
    (tmp_path / "a_pre.yaml").write_text(pre, encoding="utf-8")
    (tmp_path / "b_post.yaml").write_text(post, encoding="utf-8")
    outcome = await svc.load_path(db, tmp_path)
    assert not outcome.ok and not outcome.loaded
    reasons = [e.reason for e in outcome.errors]
    assert any("loaded with it" in r and "needs a new code" in r for r in reasons), reasons
