"""The contest's datasets: one row per entry, and one per review and criterion.

`contest_entries` has every submitted or withdrawn entry (drafts are not entries yet): its
code, title, description and link, its authors, their universities and countries, when it was
submitted (and whether late), its files (names, count, bytes), and the jury's verdict: the mean
score of each criterion over the submitted reviews (each on its own 0..max scale), the entry's
final score (0..100), its mean z-score when the contest standardises, and its rank. The scores
are those of the leaderboard: `bot.services.contest_scoring` on the contest's submitted reviews,
over the whole contest whatever the filters (a filtered export shows the contest's ranks, not a
ranking of the rows it kept). Until the results are released they are provisional
(`results_released` says which).

`contest_reviews` has one row per allocated review and criterion: the entry, the juror, the
criterion with its maximum and weight, the score, the review's weighted score (submitted
reviews only), when it was submitted, and the juror's comment. A pending review's scores are
the ones saved so far.

PSEUDONYMITY. Authors and jurors are the keyed hash of `common.pseudonym`, the same code a person
has in every dataset; identified exports (admins only, checked by the service) add their
Telegram ids, first names and usernames. Titles, descriptions and comments are free text kept
in both: they are the entrants' and jurors' work, not identities by design (authors read the
comments unsigned when the contest shows feedback), and the CSV writer makes them inert for
spreadsheets.

Filters: university, country and the organizer's scope apply to the entry's authors (an entry
is kept when one of its authors matches: a team may span universities); the period applies to
the day the entry was submitted (a withdrawn entry never submitted has no such day and is left
out of a filtered period). Campaign, wave and instrument filters belong to survey attempts and
are ignored here (the codebook says so).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from bot.services.contest import ContestView, view
from bot.services.contest_entries import EntryState
from bot.services.contest_jury import ReviewState, scoring_criteria
from bot.services.contest_scoring import ReviewScore, Scoring, aggregate, review_score
from bot.services.exports import common as c
from bot.services.exports.spec import Chunks, Labels, Table, Variable
from models import Contest, ContestEntry, EntryAuthor, EntryFile, Juror, Review, University, User

CHUNK = 2000
LISTED = (EntryState.SUBMITTED.value, EntryState.WITHDRAWN.value)
SEP = ";"
NOTE = (
    "Campaign, wave and instrument filters apply to survey attempts and are ignored here; the "
    "university and country filters keep the entries with at least one author there; the "
    "period filter applies to the day the entry was submitted."
)
SCORES_NOTE = (
    "Scores come from the submitted reviews only, computed over the whole contest as the "
    "leaderboard does (bot/services/contest_scoring.py): a review's weighted score is "
    "100 * sum(w_c * s_c / max_c) / sum(w_c) (0..100); an entry's score is the mean over its "
    "reviews; when the contest standardises, each juror's scores become z-scores first and the "
    "mean z-score ranks; ranks are competition ranks (1, 2, 2, 4). Until results_released is 1 "
    "they are provisional."
)
JURORS_NOTE = (
    "Jurors are pseudonymous like every participant; blind review hid the authors from the "
    "jurors, not the jurors from the organizers."
)
ENTRY_STATES: dict[Any, Labels] = {
    "submitted": {"kk": "жіберілді", "ru": "подана", "en": "submitted"},
    "withdrawn": {"kk": "кері алынды", "ru": "отозвана", "en": "withdrawn"},
}
REVIEW_STATES: dict[Any, Labels] = {
    "pending": {"kk": "күтілуде", "ru": "ожидает", "en": "pending"},
    "submitted": {"kk": "жіберілді", "ru": "отправлена", "en": "submitted"},
}
YES_NO: dict[Any, Labels] = {
    0: {"kk": "жоқ", "ru": "нет", "en": "no"},
    1: {"kk": "иә", "ru": "да", "en": "yes"},
}

CONTEST = c._v("contest", "Contest code", "Код конкурса", "Байқау коды")
ENTRY_CODE = c._v(
    "entry_code",
    "Entry code (the author's receipt; the folder in the entries' ZIP)",
    "Код работы (из квитанции автора; папка в ZIP-архиве работ)",
    "Жұмыс коды (автордың түбіртегінен; жұмыстар ZIP-архивіндегі бума)",
)


def _time(name: str, en: str, ru: str, kk: str) -> Variable:
    return c._v(name, en, ru, kk, kind="datetime")


def _count(name: str, en: str, ru: str, kk: str, derived: str | None = None) -> Variable:
    return c._v(name, en, ru, kk, kind="integer", measure="scale", derived=derived)


def _flag(name: str, en: str, ru: str, kk: str, derived: str | None = None) -> Variable:
    return c._v(name, en, ru, kk, kind="integer", values=dict(YES_NO), derived=derived)


AUTHOR_IDENTITY = [
    c._v(
        "author_telegram_ids",
        f"Telegram user ids of the authors, separated by '{SEP}' (as in 'authors')",
        f"Telegram id авторов через '{SEP}' (в порядке 'authors')",
        f"Авторлардың Telegram id-лері, '{SEP}' арқылы ('authors' ретімен)",
    ),
    c._v(
        "author_names",
        f"First names of the authors in Telegram, separated by '{SEP}'",
        f"Имена авторов в Telegram, через '{SEP}'",
        f"Авторлардың Telegram-дағы аттары, '{SEP}' арқылы",
        free_text=True,
    ),
    c._v(
        "author_usernames",
        f"Telegram usernames of the authors, separated by '{SEP}'",
        f"Имена пользователей авторов в Telegram, через '{SEP}'",
        f"Авторлардың Telegram username-дері, '{SEP}' арқылы",
        free_text=True,
    ),
]
JUROR_IDENTITY = [
    c._v(
        "juror_telegram_id",
        "Juror's Telegram user id",
        "Telegram id члена жюри",
        "Қазының Telegram id-і",
    ),
    c._v(
        "juror_first_name",
        "Juror's first name in Telegram",
        "Имя члена жюри в Telegram",
        "Қазының Telegram-дағы аты",
        free_text=True,
    ),
    c._v(
        "juror_username",
        "Juror's Telegram username",
        "Имя пользователя члена жюри в Telegram",
        "Қазының Telegram username-і",
        free_text=True,
    ),
]


# --- reading ---------------------------------------------------------------------------------


@dataclass
class _Contest:
    """A contest as the datasets need it: its view and, once computed, its scores."""

    view: ContestView
    released: bool
    scoring: Scoring | None = None
    criterion_means: dict[int, dict[str, float]] = field(default_factory=dict)
    pending: dict[int, int] = field(default_factory=dict)  # entry -> pending reviews


def _contests(session: Session) -> dict[int, _Contest]:
    """Every contest by id, in the order they were created."""
    found: dict[int, _Contest] = {}
    for row in session.scalars(select(Contest).order_by(Contest.id)):
        found[row.id] = _Contest(view(row), row.released_at is not None)
    return found


@dataclass(frozen=True)
class _CriterionColumn:
    """A criterion's column in `contest_entries`: one per code over every contest."""

    code: str
    name: str
    labels: Labels
    contests: tuple[str, ...]


def _criterion_columns(contests: Iterable[_Contest]) -> list[_CriterionColumn]:
    """One column per criterion code, in the order the rubrics list them (first contest first).

    The same code in two contests shares its column (its label says which contests); a code
    in one contest is labelled with its title and maximum.
    """
    seen: dict[str, list[tuple[ContestView, Any]]] = {}
    for contest in contests:
        for criterion in contest.view.criteria:
            seen.setdefault(criterion.code, []).append((contest.view, criterion))
    columns = []
    for code, uses in seen.items():
        owners = tuple(dict.fromkeys(v.code for v, _ in uses))
        if len(uses) == 1:
            _, criterion = uses[0]
            top = criterion.max
            labels = {
                "kk": f"«{criterion.title_in('kk')}» бойынша орташа балл (0–{top})",
                "ru": f"Средний балл по критерию «{criterion.title_in('ru')}» (0–{top})",
                "en": f"Mean score on '{criterion.title_in('en')}' (0 to {top})",
            }
        else:
            labels = {
                "kk": f"{code} критерийі бойынша орташа балл (0-ден байқаудағы ең жоғарыға дейін)",
                "ru": f"Средний балл по критерию {code} (от 0 до максимума в конкурсе)",
                "en": f"Mean score on criterion {code} (0 to its maximum in the contest)",
            }
        columns.append(_CriterionColumn(code, f"score_{code}", labels, owners))
    return columns


def _place(stmt: Select[Any], filters: c.Filters) -> Select[Any]:
    """Keep entries with an author in the filters' university, country and scope, and period."""
    if filters.university is not None or filters.scope is not None or filters.country:
        author = (
            select(EntryAuthor.id)
            .join(User, User.id == EntryAuthor.user_id)
            .join(University, University.id == User.university_id)
            .where(EntryAuthor.entry_id == ContestEntry.id)
        )
        if filters.university is not None:
            author = author.where(University.code == filters.university)
        if filters.scope is not None:
            author = author.where(University.code.in_(filters.scope))  # (): nothing at all
        if filters.country is not None:
            author = author.where(University.country == filters.country)
        stmt = stmt.where(exists(author))
    if filters.since is not None:
        stmt = stmt.where(ContestEntry.submitted_at >= c.day_start(filters.since))
    if filters.until is not None:
        stmt = stmt.where(
            ContestEntry.submitted_at < c.day_start(filters.until + timedelta(days=1))
        )
    return stmt


def _entries(session: Session, filters: c.Filters) -> list[ContestEntry]:
    """The submitted and withdrawn entries the filters keep, contest by contest, by submission."""
    stmt = select(ContestEntry).where(ContestEntry.state.in_(LISTED))
    stmt = _place(stmt, filters).order_by(
        ContestEntry.contest_id, ContestEntry.submitted_at, ContestEntry.id
    )
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class _Person:
    """An author or juror: their internal id, Telegram identity and place."""

    user_id: int
    telegram_id: int
    first_name: str
    username: str
    university: str
    country: str


def _authors(session: Session, entry_ids: list[int]) -> dict[int, list[_Person]]:
    """Per entry, its authors: the owner first, then co-authors in the order they joined."""
    found: dict[int, list[_Person]] = defaultdict(list)
    for start in range(0, len(entry_ids), 500):
        rows = session.execute(
            select(
                EntryAuthor.entry_id,
                User.id,
                User.telegram_id,
                User.first_name,
                User.username,
                University.code,
                University.country,
            )
            .join(User, User.id == EntryAuthor.user_id)
            .outerjoin(University, University.id == User.university_id)
            .where(EntryAuthor.entry_id.in_(entry_ids[start : start + 500]))
            .order_by(
                EntryAuthor.entry_id,
                EntryAuthor.owner.desc(),
                EntryAuthor.joined_at,
                EntryAuthor.id,
            )
        )
        for entry, user, telegram, first, username, university, country in rows:
            found[entry].append(
                _Person(
                    user, telegram, first or "", username or "", university or "", country or ""
                )
            )
    return found


def _files(session: Session, entry_ids: list[int]) -> dict[int, list[EntryFile]]:
    """Per entry, its files in their order."""
    found: dict[int, list[EntryFile]] = defaultdict(list)
    for start in range(0, len(entry_ids), 500):
        rows = session.scalars(
            select(EntryFile)
            .where(EntryFile.entry_id.in_(entry_ids[start : start + 500]))
            .order_by(EntryFile.entry_id, EntryFile.position, EntryFile.id)
        )
        for row in rows:
            found[row.entry_id].append(row)
    return found


def score_contest(session: Session, contest: _Contest) -> None:
    """The contest's scores from its submitted reviews, as the leaderboard computes them.

    Every submitted entry of the contest takes part (whatever the export's filters); a review
    that does not fit the rubric (scored under another one) is left out, as on the leaderboard.
    """
    shown = contest.view
    entries = list(
        session.scalars(
            select(ContestEntry.id)
            .where(
                ContestEntry.contest_id == shown.id,
                ContestEntry.state == EntryState.SUBMITTED.value,
            )
            .order_by(ContestEntry.id)
        )
    )
    criteria = scoring_criteria(shown)
    scored: list[ReviewScore] = []
    sums: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    pending: dict[int, int] = defaultdict(int)
    rows = session.execute(
        select(Review.entry_id, Review.juror_id, Review.state, Review.scores)
        .where(Review.contest_id == shown.id)
        .order_by(Review.id)
    )
    for entry, juror, state, scores in rows:
        if state != ReviewState.SUBMITTED.value:
            pending[entry] += 1
            continue
        try:
            value = review_score(dict(scores or {}), criteria)
        except ValueError:
            continue
        scored.append(ReviewScore(entry, juror, value))
        for criterion in shown.criteria:
            got = (scores or {}).get(criterion.code)
            if got is not None:
                sums[entry][criterion.code].append(float(got))
    contest.scoring = aggregate(entries, scored, standardise_scores=shown.standardise)
    contest.criterion_means = {
        entry: {code: sum(v) / len(v) for code, v in by_code.items()}
        for entry, by_code in sums.items()
    }
    contest.pending = dict(pending)


def _joined(values: Iterable[str]) -> str:
    return SEP.join(values)


def _distinct(values: Iterable[str]) -> list[str]:
    return [v for v in dict.fromkeys(values) if v]


# --- contest_entries ---------------------------------------------------------------------------


def entries_table(session: Session, filters: c.Filters, opts: c.Options) -> Table:
    """One row per submitted or withdrawn entry, with its authors, files and scores."""
    contests = _contests(session)
    criteria = _criterion_columns(contests.values())
    variables = [
        CONTEST,
        ENTRY_CODE,
        c._v(
            "entry_state",
            "Entry state: submitted or withdrawn",
            "Состояние работы: submitted или withdrawn",
            "Жұмыс күйі: submitted немесе withdrawn",
            values=dict(ENTRY_STATES),
        ),
        c._v("title", "Entry title", "Название работы", "Жұмыс атауы", free_text=True),
        c._v(
            "description",
            "Entry description",
            "Описание работы",
            "Жұмыс сипаттамасы",
            free_text=True,
        ),
        c._v("link", "Entry link", "Ссылка работы", "Жұмыс сілтемесі", free_text=True),
        _count(
            "authors_n",
            "Number of authors (the owner and co-authors)",
            "Число авторов (владелец и соавторы)",
            "Авторлар саны (иесі мен қосалқы авторлар)",
        ),
        c._v(
            "authors",
            f"Author codes (keyed hash, as 'participant' elsewhere), owner first, separated "
            f"by '{SEP}'",
            f"Коды авторов (хеш с ключом, как 'participant' в других наборах), владелец "
            f"первым, через '{SEP}'",
            f"Авторлар кодтары (кілтпен хэш, басқа жиындардағы 'participant' сияқты), иесі "
            f"бірінші, '{SEP}' арқылы",
            derived="'P' + the first 15 hex digits of HMAC-SHA256(PSEUDONYM_KEY, 'user:' + "
            "internal id), for each author",
        ),
        *(AUTHOR_IDENTITY if opts.identified else []),
        c._v(
            "universities",
            f"University codes of the authors, each once, separated by '{SEP}'",
            f"Коды университетов авторов, каждый один раз, через '{SEP}'",
            f"Авторлар университеттерінің кодтары, әрқайсысы бір рет, '{SEP}' арқылы",
        ),
        c._v(
            "countries",
            f"Countries of the authors (ISO 3166-1 alpha-2), each once, separated by '{SEP}'",
            f"Страны авторов (ISO 3166-1), каждая один раз, через '{SEP}'",
            f"Авторлардың елдері (ISO 3166-1), әрқайсысы бір рет, '{SEP}' арқылы",
        ),
        _time("submitted_at", "Submitted (UTC)", "Подана (UTC)", "Жіберілді (UTC)"),
        _flag(
            "late",
            "Submitted after the deadline, before the late cut-off (1) or on time (0)",
            "Подана после срока, до крайнего срока для опоздавших (1) или вовремя (0)",
            "Мерзімнен кейін, кешіккендердің соңғы мерзіміне дейін жіберілді (1) немесе "
            "уақытында (0)",
        ),
        _time("withdrawn_at", "Withdrawn (UTC)", "Отозвана (UTC)", "Кері алынды (UTC)"),
        _count("files_n", "Number of files", "Число файлов", "Файлдар саны"),
        c._v(
            "files",
            f"File names in their order, separated by '{SEP}'",
            f"Имена файлов по порядку, через '{SEP}'",
            f"Файл атаулары ретімен, '{SEP}' арқылы",
            free_text=True,
        ),
        _count(
            "files_bytes",
            "Total size of the files (bytes, as Telegram reported them)",
            "Общий размер файлов (байт, по данным Telegram)",
            "Файлдардың жалпы көлемі (байт, Telegram деректері бойынша)",
        ),
        _count(
            "reviews_n",
            "Submitted reviews",
            "Отправленных рецензий",
            "Жіберілген сараптамалар",
        ),
        _count(
            "reviews_pending",
            "Allocated reviews not submitted",
            "Назначенных, но не отправленных рецензий",
            "Тағайындалған, бірақ жіберілмеген сараптамалар",
        ),
        *(
            c._v(
                column.name,
                column.labels["en"],
                column.labels["ru"],
                column.labels["kk"],
                kind="float",
                measure="scale",
                derived=f"mean of the submitted reviews' scores on {column.code} (contests: "
                f"{', '.join(column.contests)}); empty for entries of other contests",
            )
            for column in criteria
        ),
        c._v(
            "score",
            "Final score: mean of the reviews' weighted scores (0..100)",
            "Итоговый балл: среднее взвешенных баллов рецензий (0..100)",
            "Қорытынды балл: сараптамалардың салмақталған балдарының орташасы (0..100)",
            kind="float",
            measure="scale",
            derived="mean over the submitted reviews of 100 * sum(w_c * s_c / max_c) / sum(w_c)",
        ),
        c._v(
            "score_z",
            "Mean z-score over the reviews (contests that standardise; it ranks them)",
            "Средний z-балл по рецензиям (в конкурсах со стандартизацией; по нему ранг)",
            "Сараптамалар бойынша орташа z-балл (стандарттайтын байқауларда; орын соған сай)",
            kind="float",
            measure="scale",
            derived="each juror's weighted scores as z-scores over their own submitted reviews "
            "(sample SD; a juror without spread counts 0), averaged per entry",
        ),
        c._v(
            "rank",
            "Rank in the contest (1 = best; ties share a rank: 1, 2, 2, 4)",
            "Место в конкурсе (1 = лучшее; равные делят место: 1, 2, 2, 4)",
            "Байқаудағы орны (1 = ең үздік; теңдері орынды бөліседі: 1, 2, 2, 4)",
            kind="integer",
            measure="ordinal",
            derived="competition ranking of score_z when the contest standardises, else of score",
        ),
        _flag(
            "results_released",
            "Results released (1: final) or not yet (0: provisional)",
            "Результаты объявлены (1: окончательные) или нет (0: предварительные)",
            "Нәтижелер жарияланды (1: түпкілікті) немесе әлі жоқ (0: алдын ала)",
        ),
    ]

    def rows() -> Chunks:
        entries = _entries(session, filters)
        chunk: list[list[Any]] = []
        for start in range(0, len(entries), 500):
            batch = entries[start : start + 500]
            ids = [e.id for e in batch]
            authors = _authors(session, ids)
            files = _files(session, ids)
            for entry in batch:
                contest = contests[entry.contest_id]
                if contest.scoring is None:
                    score_contest(session, contest)
                assert contest.scoring is not None
                scored = next((s for s in contest.scoring.entries if s.entry == entry.id), None)
                people = authors.get(entry.id, [])
                identity = (
                    [
                        _joined(str(p.telegram_id) for p in people),
                        _joined(p.first_name for p in people),
                        _joined(p.username for p in people),
                    ]
                    if opts.identified
                    else []
                )
                own = files.get(entry.id, [])
                means = contest.criterion_means.get(entry.id, {})
                owned = {cr.code for cr in contest.view.criteria}
                chunk.append(
                    [
                        contest.view.code,
                        entry.code,
                        entry.state,
                        entry.title or "",
                        entry.description or "",
                        entry.link or "",
                        len(people),
                        _joined(c.pseudonym(opts.key, p.user_id) for p in people),
                        *identity,
                        _joined(_distinct(p.university for p in people)),
                        _joined(_distinct(p.country for p in people)),
                        c.utc_text(entry.submitted_at),
                        1 if entry.late else 0,
                        c.utc_text(entry.withdrawn_at),
                        len(own),
                        _joined(f.name for f in own),
                        sum(f.size or 0 for f in own),
                        scored.reviews if scored else 0,
                        contest.pending.get(entry.id, 0),
                        *(means.get(col.code) if col.code in owned else None for col in criteria),
                        scored.mean if scored else None,
                        scored.standardised if scored else None,
                        scored.rank if scored else None,
                        1 if contest.released else 0,
                    ]
                )
                if len(chunk) >= CHUNK:
                    yield chunk
                    chunk = []
        if chunk:
            yield chunk

    return Table(
        "contest_entries",
        {
            "kk": "Байқау жұмыстары: әр жұмысқа бір жол, авторларымен, файлдарымен, балдарымен",
            "ru": "Работы конкурса: одна строка на работу, с авторами, файлами и баллами",
            "en": "Contest entries: one row per entry, with its authors, files and scores",
        },
        variables,
        rows,
        notes=[NOTE, SCORES_NOTE],
    )


# --- contest_reviews ---------------------------------------------------------------------------


def reviews_table(session: Session, filters: c.Filters, opts: c.Options) -> Table:
    """One row per allocated review and criterion of the contest's rubric."""
    language = opts.label_language
    contests = _contests(session)
    titles: dict[Any, Labels] = {}
    for contest in contests.values():
        for criterion in contest.view.criteria:
            titles.setdefault(
                criterion.code, {lang: criterion.title_in(lang) for lang in ("kk", "ru", "en")}
            )
    variables = [
        CONTEST,
        ENTRY_CODE,
        c._v(
            "juror",
            "Juror code (keyed hash, as 'participant' elsewhere; no Telegram id or name)",
            "Код члена жюри (хеш с ключом, как 'participant' в других наборах; без Telegram id "
            "и имени)",
            "Қазы коды (кілтпен хэш, басқа жиындардағы 'participant' сияқты; Telegram id мен "
            "атынсыз)",
            derived="'P' + the first 15 hex digits of HMAC-SHA256(PSEUDONYM_KEY, 'user:' + "
            "internal id)",
        ),
        *(JUROR_IDENTITY if opts.identified else []),
        c._v(
            "juror_university",
            "Juror's university code",
            "Код университета члена жюри",
            "Қазы университетінің коды",
        ),
        c._v(
            "juror_country",
            "Juror's country (ISO 3166-1 alpha-2)",
            "Страна члена жюри (ISO 3166-1)",
            "Қазының елі (ISO 3166-1)",
        ),
        c._v("review", "Review id", "Номер рецензии", "Сараптама нөмірі", kind="integer"),
        c._v(
            "review_state",
            "Review state: pending or submitted",
            "Состояние рецензии: pending или submitted",
            "Сараптама күйі: pending немесе submitted",
            values=dict(REVIEW_STATES),
        ),
        c._v(
            "criterion",
            "Criterion code",
            "Код критерия",
            "Критерий коды",
            values=titles,
        ),
        c._v(
            "criterion_title",
            f"Criterion title in {language}",
            f"Название критерия ({language})",
            f"Критерий атауы ({language})",
        ),
        c._v(
            "score",
            "Score given on the criterion (0..max; a pending review: as saved so far)",
            "Балл по критерию (0..max; у неотправленной рецензии: сохранённый пока)",
            "Критерий бойынша балл (0..max; жіберілмеген сараптамада: әзірге сақталғаны)",
            kind="float",
            measure="scale",
        ),
        c._v(
            "max",
            "The criterion's maximum score",
            "Максимальный балл критерия",
            "Критерийдің ең жоғары балы",
            kind="integer",
            measure="scale",
        ),
        c._v(
            "weight",
            "The criterion's weight",
            "Вес критерия",
            "Критерийдің салмағы",
            kind="float",
            measure="scale",
        ),
        c._v(
            "review_score",
            "The review's weighted score (0..100; submitted reviews)",
            "Взвешенный балл рецензии (0..100; отправленные рецензии)",
            "Сараптаманың салмақталған балы (0..100; жіберілген сараптамалар)",
            kind="float",
            measure="scale",
            derived="100 * sum(w_c * s_c / max_c) / sum(w_c) over the contest's criteria, the "
            "same on each of the review's rows",
        ),
        _time(
            "submitted_at",
            "Review submitted (UTC; the last time when revised)",
            "Рецензия отправлена (UTC; при пересмотре последний раз)",
            "Сараптама жіберілді (UTC; қайта қаралса, соңғы рет)",
        ),
        c._v(
            "comment",
            "Juror's comment (the same on each of the review's rows)",
            "Комментарий члена жюри (одинаковый во всех строках рецензии)",
            "Қазының пікірі (сараптаманың барлық жолында бірдей)",
            free_text=True,
        ),
    ]

    def rows() -> Chunks:
        entry_stmt = select(ContestEntry.id).where(ContestEntry.state.in_(LISTED))
        kept = _place(entry_stmt, filters).subquery()
        stmt = (
            select(
                Review.id,
                Review.contest_id,
                ContestEntry.code,
                User.id,
                User.telegram_id,
                User.first_name,
                User.username,
                University.code,
                University.country,
                Review.state,
                Review.scores,
                Review.submitted_at,
                Review.comment,
            )
            .join(ContestEntry, ContestEntry.id == Review.entry_id)
            .join(kept, kept.c.id == ContestEntry.id)
            .join(Juror, Juror.id == Review.juror_id)
            .join(User, User.id == Juror.user_id)
            .outerjoin(University, University.id == User.university_id)
            .order_by(Review.contest_id, ContestEntry.submitted_at, ContestEntry.id, Review.id)
        )
        codes: dict[int, str] = {}
        chunk: list[list[Any]] = []
        for row in session.execute(stmt.execution_options(yield_per=CHUNK)):
            (review, contest_id, entry, user, telegram, first, username) = row[:7]
            university, country, state, scores, submitted, comment = row[7:]
            contest = contests[contest_id].view
            code = codes.get(user)
            if code is None:
                code = codes[user] = c.pseudonym(opts.key, user)
            identity = [telegram, first or "", username or ""] if opts.identified else []
            given = dict(scores or {})
            weighted = None
            if state == ReviewState.SUBMITTED.value:
                try:
                    weighted = review_score(given, scoring_criteria(contest))
                except ValueError:
                    weighted = None  # scored under another rubric: not counted
            for criterion in contest.criteria:
                value = given.get(criterion.code)
                chunk.append(
                    [
                        contest.code,
                        entry,
                        code,
                        *identity,
                        university or "",
                        country or "",
                        review,
                        state,
                        criterion.code,
                        criterion.title_in(language),
                        None if value is None else float(value),
                        criterion.max,
                        criterion.weight,
                        weighted,
                        c.utc_text(submitted),
                        comment or "",
                    ]
                )
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    return Table(
        "contest_reviews",
        {
            "kk": "Байқау сараптамалары: әр сараптама мен критерийге бір жол",
            "ru": "Рецензии конкурса: одна строка на рецензию и критерий",
            "en": "Contest reviews: one row per review and criterion",
        },
        variables,
        rows,
        notes=[
            NOTE.replace("the entries", "the reviews of the entries"),
            JURORS_NOTE,
        ],
    )
