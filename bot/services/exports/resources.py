"""The resource bank's datasets: `resources` (one row per resource) and `resource_use`.

`resources` describes every resource past its draft (pending, changes asked, approved,
rejected): its code and state, its title in kk, ru and en, discipline, kind, languages, level,
license, the authors as the contributor typed them, the university it is credited to, the
contributor, whether it has a file (its type and size) and/or a link, when it was submitted and
approved, and its figures over the whole bank: people who used it, of them people of other
universities, ratings and their mean. `resource_use` has one row per person and resource they
opened (and one per rating without a use, should one ever exist; drafts' rows are left out):
the person, their university and country, the resource and its university, whether the two
universities are the same, when they first and last opened it, how many times, their rating
and whether they commented.

PSEUDONYMITY. Users are the keyed hash of `common.pseudonym`, the same code a person has in every
dataset; identified exports (admins only, checked by the service) add Telegram ids, first names
and usernames, as elsewhere. Two choices differ from the events' datasets, both because the bank
is public and its metadata names people:
- The contributor of a resource is a code of its own, `C` + a keyed hash under a different
  label (`contributor:<id>`): stable across resources (one person's contributions can be
  counted together) but not the `participant` code of the other datasets. `authors` is kept as
  typed (the resource's public attribution, like a book's authors), and the contributor is
  usually among them: with the participant code, reading the authors would name that person's
  survey answers, course progress and attendance in every other export.
- A rating's comment text is in identified exports only; pseudonymous ones say whether there
  was one (`commented`). A comment is short, addressed to colleagues in a bank everyone reads,
  and often signed or naming people; one comment matched to its author would name their code in
  every dataset. (An event's feedback, read by its coach only, is kept as survey answers are.)

Filters: in `resources`, university, country and the organizer's scope apply to the resource's
university; in `resource_use`, to the person's (as for the events' and the course's datasets).
The period applies to the day the resource was submitted (approved, for one stored without a
submission time) in `resources`, and to the day of the first use in `resource_use`. Campaign,
wave and instrument filters belong to survey attempts and are ignored here (the codebook says
so).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, select
from sqlalchemy.orm import Session, aliased

from bot.services.exports import common as c
from bot.services.exports.spec import Chunks, Labels, Table, Variable
from models import Discipline, Resource, ResourceRating, ResourceUse, University, User

CHUNK = 5000
BATCH = 500  # resources whose figures are read in one query
SEP = ";"
LANGUAGES = ("kk", "ru", "en")
NOTE = (
    "Campaign, wave and instrument filters apply to survey attempts and are ignored here; the "
    "university and country filters apply to {who}; the period filter applies to {when}."
)
FIGURES_NOTE = (
    "uses, uses_other_universities, ratings_n and rating_mean count the whole bank, whatever "
    "the filters."
)
CONTRIBUTOR_NOTE = (
    "The contributor is a code of its own (C...), not the participant code (P...) of the other "
    "datasets: 'authors' is the resource's public attribution as typed and usually names the "
    "contributor, so the participant code here would name their data in every other export."
)
COMMENT_NOTE = (
    "A rating's comment text is in identified exports only (admins); pseudonymous exports say "
    "whether there was one (commented): comments in the bank are read by everyone, often "
    "signed, and one matched to its author would name their code in every dataset."
)
STATES: dict[Any, Labels] = {
    "pending": {"kk": "модерацияда", "ru": "на модерации", "en": "pending moderation"},
    "changes": {"kk": "өзгерту сұралды", "ru": "запрошены правки", "en": "changes asked"},
    "approved": {"kk": "мақұлданды", "ru": "одобрен", "en": "approved"},
    "rejected": {"kk": "қабылданбады", "ru": "отклонён", "en": "rejected"},
}
KINDS: dict[Any, Labels] = {
    "textbook": {"kk": "оқулық", "ru": "учебник", "en": "textbook"},
    "method": {
        "kk": "әдістемелік материал",
        "ru": "методический материал",
        "en": "methodological material",
    },
    "lesson_plan": {"kk": "сабақ жоспары", "ru": "план урока", "en": "lesson plan"},
    "video": {"kk": "бейнесабақ", "ru": "видеоурок", "en": "video lesson"},
    "presentation": {"kk": "презентация", "ru": "презентация", "en": "presentation"},
    "test": {"kk": "тест", "ru": "тест", "en": "test"},
    "software": {
        "kk": "бағдарлама немесе платформа",
        "ru": "программа или платформа",
        "en": "software or platform",
    },
    "dataset": {"kk": "деректер жиыны", "ru": "набор данных", "en": "dataset"},
    "other": {"kk": "басқа", "ru": "другое", "en": "other"},
}
LEVELS: dict[Any, Labels] = {
    "bachelor": {"kk": "бакалавриат", "ru": "бакалавриат", "en": "bachelor"},
    "master": {"kk": "магистратура", "ru": "магистратура", "en": "master"},
    "school": {"kk": "мектеп практикасы", "ru": "школьная практика", "en": "school practice"},
}
YES_NO: dict[Any, Labels] = {
    0: {"kk": "жоқ", "ru": "нет", "en": "no"},
    1: {"kk": "иә", "ru": "да", "en": "yes"},
}
RATINGS: dict[Any, Labels] = {
    1: {"kk": "1 — өте нашар", "ru": "1 — очень плохо", "en": "1 — very poor"},
    2: {"kk": "2", "ru": "2", "en": "2"},
    3: {"kk": "3", "ru": "3", "en": "3"},
    4: {"kk": "4", "ru": "4", "en": "4"},
    5: {"kk": "5 — өте жақсы", "ru": "5 — отлично", "en": "5 — excellent"},
}


def _time(name: str, en: str, ru: str, kk: str) -> Variable:
    return c._v(name, en, ru, kk, kind="datetime")


def _count(name: str, en: str, ru: str, kk: str, derived: str | None = None) -> Variable:
    return c._v(name, en, ru, kk, kind="integer", measure="scale", derived=derived)


def _flag(name: str, en: str, ru: str, kk: str, derived: str | None = None) -> Variable:
    return c._v(name, en, ru, kk, kind="integer", values=dict(YES_NO), derived=derived)


RESOURCE = c._v("resource", "Resource id", "Номер ресурса", "Ресурс нөмірі", kind="integer")
RESOURCE_CODE = c._v(
    "resource_code",
    "Resource code (the deep link ?start=r-<code>)",
    "Код ресурса (ссылка ?start=r-<код>)",
    "Ресурс коды (?start=r-<код> сілтемесі)",
)
RESOURCE_UNIVERSITY = c._v(
    "resource_university",
    "Code of the university the resource is credited to",
    "Код университета, которому принадлежит ресурс",
    "Ресурс тиесілі университеттің коды",
)
OTHER_USES = (
    "people whose university is set and differs from the resource's university (people "
    "without a university, and every use of a resource without one, are not counted)"
)
CONTRIBUTOR_DERIVED = (
    "'C' + the first 15 hex digits of HMAC-SHA256(PSEUDONYM_KEY, 'contributor:' + internal id)"
)
CONTRIBUTOR_IDENTITY = [
    c._v(
        "contributor_telegram_id",
        "Contributor's Telegram user id",
        "Telegram id автора публикации",
        "Жариялаушының Telegram id-і",
    ),
    c._v(
        "contributor_first_name",
        "Contributor's first name in Telegram",
        "Имя автора публикации в Telegram",
        "Жариялаушының Telegram-дағы аты",
        free_text=True,
    ),
    c._v(
        "contributor_username",
        "Contributor's Telegram username",
        "Имя пользователя автора публикации в Telegram",
        "Жариялаушының Telegram username-і",
        free_text=True,
    ),
]


def contributor_code(key: str, user_id: int) -> str:
    """The contributor's code in `resources`: keyed like `pseudonym`, under its own label.

    Stable for one person across resources and exports under one key, but not their
    participant code (see the module's docstring for why).
    """
    digest = hmac.new(key.encode(), f"contributor:{user_id}".encode(), hashlib.sha256)
    return "C" + digest.hexdigest()[:15]


def _text(texts: Any, language: str) -> str:
    """The text in `language`, else the one typed for every language ("*"), else empty."""
    found = dict(texts or {})
    return str(found.get(language) or found.get("*") or "")


def _joined(values: Any) -> str:
    return SEP.join(str(v) for v in values or [] if v)


def place_filter(stmt: Select[Any], filters: c.Filters, university: Any) -> Select[Any]:
    """Narrow a statement to the filters' university, country and scope, on `university`."""
    if filters.university is not None:
        stmt = stmt.where(university.code == filters.university)
    if filters.scope is not None:
        stmt = stmt.where(university.code.in_(filters.scope))  # (): nothing at all
    if filters.country is not None:
        stmt = stmt.where(university.country == filters.country)
    return stmt


def period_filter(stmt: Select[Any], filters: c.Filters, column: Any) -> Select[Any]:
    """Narrow a statement to the filters' period, on the day of `column` (UTC)."""
    if filters.since is not None:
        stmt = stmt.where(column >= c.day_start(filters.since))
    if filters.until is not None:
        stmt = stmt.where(column < c.day_start(filters.until + timedelta(days=1)))
    return stmt


def _submitted() -> ColumnElement[Any]:
    """When the resource was submitted; its approval, for one stored with no submission time."""
    return func.coalesce(Resource.submitted_at, Resource.approved_at)


# --- resources ---------------------------------------------------------------------------------


def resources_table(session: Session, filters: c.Filters, opts: c.Options) -> Table:
    """One row per resource past its draft, with its metadata and figures."""
    language = opts.label_language
    variables = [
        RESOURCE,
        RESOURCE_CODE,
        c._v(
            "state",
            "Moderation state: pending, changes, approved or rejected",
            "Состояние модерации: pending, changes, approved или rejected",
            "Модерация күйі: pending, changes, approved немесе rejected",
            values=dict(STATES),
        ),
        *(
            c._v(
                f"title_{lang}",
                f"Title in {lang} (empty: not described in {lang})",
                f"Название на {lang} (пусто: нет описания на {lang})",
                f"Атауы, {lang} (бос: {lang} тілінде сипатталмаған)",
                free_text=True,
            )
            for lang in LANGUAGES
        ),
        c._v("discipline", "Discipline code", "Код дисциплины", "Пән коды"),
        c._v(
            "discipline_name",
            f"Discipline name ({language})",
            f"Название дисциплины ({language})",
            f"Пән атауы ({language})",
        ),
        c._v("kind", "Kind of resource", "Вид ресурса", "Ресурс түрі", values=dict(KINDS)),
        c._v(
            "languages",
            f"Languages of the resource itself (kk, ru, en, ...), separated by '{SEP}'",
            f"Языки самого ресурса (kk, ru, en, ...), через '{SEP}'",
            f"Ресурстың өз тілдері (kk, ru, en, ...), '{SEP}' арқылы",
        ),
        c._v("level", "Level", "Уровень", "Деңгей", values=dict(LEVELS)),
        c._v(
            "license",
            "License (CC BY, CC BY-SA, CC BY-NC, CC BY-NC-SA, CC0, all rights reserved)",
            "Лицензия (CC BY, CC BY-SA, CC BY-NC, CC BY-NC-SA, CC0, all rights reserved)",
            "Лицензия (CC BY, CC BY-SA, CC BY-NC, CC BY-NC-SA, CC0, all rights reserved)",
        ),
        c._v(
            "authors",
            "Authors, as the contributor typed them (the resource's attribution)",
            "Авторы, как их указал автор публикации (атрибуция ресурса)",
            "Авторлар, жариялаушы жазғандай (ресурстың авторлығы)",
            free_text=True,
        ),
        c._v(
            "university",
            "Code of the university the resource is credited to",
            "Код университета, которому принадлежит ресурс",
            "Ресурс тиесілі университеттің коды",
        ),
        c._v(
            "country",
            "That university's country (ISO 3166-1 alpha-2)",
            "Страна этого университета (ISO 3166-1)",
            "Сол университеттің елі (ISO 3166-1)",
        ),
        c._v(
            "contributor",
            "Contributor code (keyed hash of its own: not the participant code of other "
            "datasets; empty: the account was deleted)",
            "Код автора публикации (свой хеш с ключом, не код участника других наборов; "
            "пусто: аккаунт удалён)",
            "Жариялаушы коды (өз кілтімен хэш, басқа жиындардағы қатысушы коды емес; бос: "
            "аккаунт жойылған)",
            derived=CONTRIBUTOR_DERIVED,
        ),
        *(CONTRIBUTOR_IDENTITY if opts.identified else []),
        _flag(
            "has_file",
            "Has a file (1) or not (0)",
            "Есть файл (1) или нет (0)",
            "Файлы бар (1) немесе жоқ (0)",
        ),
        c._v(
            "file_type",
            "File type (MIME, as Telegram reported it)",
            "Тип файла (MIME, по данным Telegram)",
            "Файл түрі (MIME, Telegram деректері бойынша)",
        ),
        _count(
            "file_size",
            "File size (bytes, as Telegram reported it)",
            "Размер файла (байт, по данным Telegram)",
            "Файл көлемі (байт, Telegram деректері бойынша)",
        ),
        c._v("link", "Link (URL)", "Ссылка (URL)", "Сілтеме (URL)", free_text=True),
        _time("submitted_at", "Submitted (UTC)", "Отправлен (UTC)", "Жіберілді (UTC)"),
        _time("approved_at", "Approved (UTC)", "Одобрен (UTC)", "Мақұлданды (UTC)"),
        _count(
            "uses",
            "People who opened it (each counted once)",
            "Людей, открывших его (каждый один раз)",
            "Оны ашқан адамдар (әрқайсысы бір рет)",
        ),
        _count(
            "uses_other_universities",
            "Of them, people of other universities",
            "Из них людей из других университетов",
            "Олардың ішінде басқа университеттердің адамдары",
            derived=OTHER_USES,
        ),
        _count("ratings_n", "Ratings given", "Получено оценок", "Берілген бағалар"),
        c._v(
            "rating_mean",
            "Mean rating (1-5)",
            "Средняя оценка (1-5)",
            "Орташа баға (1-5)",
            kind="float",
            measure="scale",
            derived="mean of the ratings (one per person, the latest they gave)",
        ),
    ]
    person = aliased(User)

    def rows() -> Chunks:
        columns: tuple[Any, ...] = (
            Resource.id,
            Resource.code,
            Resource.state,
            Resource.title,
            Discipline.code,
            Discipline.name,
            Resource.kind,
            Resource.languages,
            Resource.level,
            Resource.license,
            Resource.authors,
            University.code,
            University.country,
            Resource.contributor_id,
            person.telegram_id,
            person.first_name,
            person.username,
            Resource.file_id,
            Resource.mime_type,
            Resource.file_size,
            Resource.url,
            Resource.submitted_at,
            Resource.approved_at,
        )
        stmt: Select[Any] = (
            select(*columns)
            .select_from(Resource)
            .outerjoin(Discipline, Discipline.id == Resource.discipline_id)
            .outerjoin(University, University.id == Resource.university_id)
            .outerjoin(person, person.id == Resource.contributor_id)
            .where(Resource.state != "draft")
        )
        stmt = place_filter(period_filter(stmt, filters, _submitted()), filters, University)
        found = session.execute(stmt.order_by(_submitted(), Resource.id)).all()
        codes: dict[int, str] = {}
        chunk: list[list[Any]] = []
        for start in range(0, len(found), BATCH):
            batch = found[start : start + BATCH]
            figures = _figures(session, [row[0] for row in batch])
            for row in batch:
                (resource_id, code, state, title, discipline, names, kind, languages) = row[:8]
                level, license_, authors, uni, country, contributor_id = row[8:14]
                telegram, first, username, file_id, mime, size, url, submitted, approved = row[14:]
                contributor = ""
                if contributor_id is not None:
                    contributor = codes.get(contributor_id) or codes.setdefault(
                        contributor_id, contributor_code(opts.key, contributor_id)
                    )
                identity = [telegram, first or "", username or ""] if opts.identified else []
                got = figures.get(resource_id, {})
                n = got.get("ratings", 0)
                chunk.append(
                    [
                        resource_id,
                        code,
                        state,
                        *(_text(title, lang) for lang in LANGUAGES),
                        discipline or "",
                        _text(names, language) or _text(names, "en"),
                        kind or "",
                        _joined(languages),
                        level or "",
                        license_ or "",
                        authors or "",
                        uni or "",
                        country or "",
                        contributor,
                        *identity,
                        1 if file_id else 0,
                        mime or "",
                        size,
                        url or "",
                        c.utc_text(submitted),
                        c.utc_text(approved),
                        got.get("uses", 0),
                        got.get("other", 0),
                        n,
                        got.get("rating_sum", 0) / n if n else None,
                    ]
                )
                if len(chunk) >= CHUNK:
                    yield chunk
                    chunk = []
        if chunk:
            yield chunk

    return Table(
        "resources",
        {
            "kk": "Ресурстар банкі: әр ресурсқа бір жол, көрсеткіштерімен",
            "ru": "Банк ресурсов: одна строка на ресурс, с показателями",
            "en": "Resource bank: one row per resource, with its figures",
        },
        variables,
        rows,
        notes=[
            NOTE.format(
                who="the university the resource is credited to",
                when="the day it was submitted (approved, if stored without a submission time)",
            ),
            FIGURES_NOTE,
            CONTRIBUTOR_NOTE,
        ],
    )


def _figures(session: Session, resource_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per resource: people who used it, of them of other universities, ratings and their sum."""
    other = and_(
        User.university_id.is_not(None),
        Resource.university_id.is_not(None),
        User.university_id != Resource.university_id,
    )
    uses = (
        select(
            ResourceUse.resource_id,
            func.count(),
            func.coalesce(func.sum(case((other, 1), else_=0)), 0),
        )
        .join(Resource, Resource.id == ResourceUse.resource_id)
        .join(User, User.id == ResourceUse.user_id)
        .where(ResourceUse.resource_id.in_(resource_ids))
        .group_by(ResourceUse.resource_id)
    )
    found: dict[int, dict[str, int]] = {}
    for resource_id, n, others in session.execute(uses):
        found.setdefault(resource_id, {}).update(uses=int(n), other=int(others))
    ratings = (
        select(ResourceRating.resource_id, func.count(), func.sum(ResourceRating.rating))
        .where(ResourceRating.resource_id.in_(resource_ids))
        .group_by(ResourceRating.resource_id)
    )
    for resource_id, n, total in session.execute(ratings):
        found.setdefault(resource_id, {}).update(ratings=int(n), rating_sum=int(total or 0))
    return found


# --- resource_use ------------------------------------------------------------------------------


def use_table(session: Session, filters: c.Filters, opts: c.Options) -> Table:
    """One row per person and resource: their uses, their rating, whether they commented."""
    variables = [
        *c.person_columns(opts.identified),
        RESOURCE,
        RESOURCE_CODE,
        RESOURCE_UNIVERSITY,
        _flag(
            "same_university",
            "The person's university is the resource's (1) or another (0); empty: either "
            "is unknown",
            "Университет человека совпадает с университетом ресурса (1) или нет (0); пусто: "
            "один из них неизвестен",
            "Адамның университеті ресурстікімен бірдей (1) немесе басқа (0); бос: біреуі белгісіз",
            derived="1 if university == resource_university, 0 if both are set and differ",
        ),
        _time(
            "first_used_at",
            "First opened (UTC)",
            "Впервые открыт (UTC)",
            "Алғаш ашылды (UTC)",
        ),
        _time(
            "last_used_at",
            "Last opened (UTC)",
            "Последний раз открыт (UTC)",
            "Соңғы рет ашылды (UTC)",
        ),
        _count(
            "times_opened",
            "Times this person opened it (0: rated without a recorded use)",
            "Сколько раз этот человек его открыл (0: оценил без записанного использования)",
            "Осы адам оны неше рет ашты (0: жазылған қолданыссыз бағалады)",
        ),
        c._v(
            "rating",
            "Rating, 1 (very poor) to 5 (excellent); empty: not rated",
            "Оценка, от 1 (очень плохо) до 5 (отлично); пусто: не оценил",
            "Баға, 1 (өте нашар) мен 5 (өте жақсы) аралығында; бос: бағаламаған",
            kind="integer",
            measure="ordinal",
            values=dict(RATINGS),
        ),
        _time(
            "rated_at",
            "Rated (UTC; the latest change)",
            "Оценил (UTC; последнее изменение)",
            "Бағалады (UTC; соңғы өзгеріс)",
        ),
        _flag(
            "commented",
            "Wrote a comment with the rating (1) or not (0)",
            "Оставил комментарий к оценке (1) или нет (0)",
            "Бағаға пікір жазды (1) немесе жоқ (0)",
            derived="1 if the rating has a non-empty comment",
        ),
        *(
            [
                c._v(
                    "comment",
                    "Comment with the rating (identified exports only)",
                    "Комментарий к оценке (только в идентифицированных выгрузках)",
                    "Бағаға пікір (тек сәйкестендірілген экспорттарда)",
                    free_text=True,
                )
            ]
            if opts.identified
            else []
        ),
    ]
    resource_university = aliased(University)

    def uses() -> Select[Any]:
        stmt: Select[Any] = (
            select(
                *c.person_select(),
                Resource.id,
                Resource.code,
                resource_university.code,
                User.university_id,
                Resource.university_id,
                ResourceUse.first_used_at,
                ResourceUse.last_used_at,
                ResourceUse.opened,
                ResourceRating.rating,
                ResourceRating.updated_at,
                ResourceRating.comment,
            )
            .select_from(ResourceUse)
            .join(Resource, Resource.id == ResourceUse.resource_id)
            .join(User, User.id == ResourceUse.user_id)
            .outerjoin(University, University.id == User.university_id)
            .outerjoin(resource_university, resource_university.id == Resource.university_id)
            .outerjoin(
                ResourceRating,
                and_(
                    ResourceRating.resource_id == ResourceUse.resource_id,
                    ResourceRating.user_id == ResourceUse.user_id,
                ),
            )
            .where(Resource.state != "draft")
        )
        stmt = place_filter(
            period_filter(stmt, filters, ResourceUse.first_used_at), filters, University
        )
        return stmt.order_by(ResourceUse.first_used_at, ResourceUse.id)

    def unused_ratings() -> Select[Any]:
        """Ratings without a use row: the service never makes one; kept should it happen."""
        used = exists().where(
            ResourceUse.resource_id == ResourceRating.resource_id,
            ResourceUse.user_id == ResourceRating.user_id,
        )
        stmt: Select[Any] = (
            select(
                *c.person_select(),
                Resource.id,
                Resource.code,
                resource_university.code,
                User.university_id,
                Resource.university_id,
                ResourceRating.rating,
                ResourceRating.updated_at,
                ResourceRating.comment,
            )
            .select_from(ResourceRating)
            .join(Resource, Resource.id == ResourceRating.resource_id)
            .join(User, User.id == ResourceRating.user_id)
            .outerjoin(University, University.id == User.university_id)
            .outerjoin(resource_university, resource_university.id == Resource.university_id)
            .where(~used, Resource.state != "draft")
        )
        stmt = place_filter(stmt, filters, University)
        if filters.since is not None or filters.until is not None:
            stmt = period_filter(stmt, filters, ResourceRating.created_at)
        return stmt.order_by(ResourceRating.created_at, ResourceRating.id)

    def row(
        person: list[Any],
        head: tuple[Any, ...],
        used: tuple[Any, ...],
        rated: tuple[Any, ...],
    ) -> list[Any]:
        resource_id, code, resource_uni, user_uni_id, resource_uni_id = head
        first, last, opened = used
        rating, rated_at, comment = rated
        same = (
            None
            if user_uni_id is None or resource_uni_id is None
            else int(user_uni_id == resource_uni_id)
        )
        return [
            *person,
            resource_id,
            code,
            resource_uni or "",
            same,
            c.utc_text(first),
            c.utc_text(last),
            opened,
            rating,
            c.utc_text(rated_at) if rating is not None else None,
            1 if (comment or "").strip() else 0,
            *([comment or ""] if opts.identified else []),
        ]

    def rows() -> Chunks:
        codes: dict[int, str] = {}
        chunk: list[list[Any]] = []
        for found in session.execute(uses().execution_options(yield_per=CHUNK)):
            person = c.person_values(opts, codes, *found[:7])
            chunk.append(row(person, tuple(found[7:12]), tuple(found[12:15]), tuple(found[15:])))
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
        for found in session.execute(unused_ratings()):
            person = c.person_values(opts, codes, *found[:7])
            chunk.append(row(person, tuple(found[7:12]), (None, None, 0), tuple(found[12:])))
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    return Table(
        "resource_use",
        {
            "kk": "Ресурстар банкі: адам мен ресурс бойынша қолданыс және бағалар",
            "ru": "Банк ресурсов: использование и оценки по людям и ресурсам",
            "en": "Resource bank: uses and ratings by person and resource",
        },
        variables,
        rows,
        notes=[
            NOTE.format(
                who="the person's university",
                when="the day of the person's first use (for a rating without a use, the day "
                "it was first given)",
            ),
            COMMENT_NOTE,
        ],
    )
