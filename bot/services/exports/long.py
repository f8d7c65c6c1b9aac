"""The long answers table, the source of truth: one row per stored answer."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Select, String, Text, cast, func, type_coerce
from sqlalchemy.orm import Session

from bot.content.engine import Compiled
from bot.services.exports import common as c
from bot.services.exports.spec import Chunks, Table, Variable
from bot.services.surveys import compiled
from models import Answer, Attempt, Campaign, Instrument

CHUNK = 20_000  # rows per chunk written (a Parquet row group)
FETCH = 500  # rows per fetch from the database
ANSWER_CACHE = 200_000  # distinct (instrument, item, stored value) kept decoded
RAW_TEXT = String()  # read a column's stored text as is (no JSON or datetime processing)

ITEM = c._v(
    "item",
    "Item code (each matrix statement has its own)",
    "Код вопроса (у каждого утверждения матрицы свой)",
    "Сұрақ коды (матрицаның әр тұжырымының өз коды бар)",
)
ANSWER_CODE = c._v(
    "answer_code",
    "Option code(s) (';'-separated for multiple choice; for a ranking in order, most "
    "preferred first) or the typed value; empty: skipped",
    "Код(ы) варианта (через ';' при множественном выборе; для ранжирования по порядку, самый "
    "предпочтительный первым) или введённое значение; пусто: пропущен",
    "Нұсқа коды (көп таңдауда ';' арқылы; ранжирлеуде ретімен, ең қалаулысы бірінші) немесе "
    "енгізілген мән; бос: өткізілді",
    free_text=True,
)
VALUE = c._v(
    "value",
    "Numeric value: Likert point (reversed for reverse-scored items), test points, or the number",
    "Числовое значение: балл Лайкерта (обращён для обратных вопросов), баллы теста или число",
    "Сандық мән: Лайкерт ұпайы (кері сұрақтарда кері), тест ұпайы немесе сан",
    kind="float",
    measure="scale",
    derived="Likert: the point, or (points + 1 - point) for reverse-scored items; test "
    "single choice: the points of a correct option, else 0; test multiple choice: "
    "points * max(0, (correct ticked - wrong ticked) / correct options); number: the number",
)
ANSWERED = c._v(
    "answered_at", "Answered (UTC)", "Время ответа (UTC)", "Жауап уақыты (UTC)", kind="datetime"
)


def answer_label(label_language: str) -> Variable:
    """The answer's text in the chosen language."""
    return c._v(
        "answer_label",
        f"The answer's text in {label_language}",
        f"Текст ответа на языке {label_language}",
        f"Жауап мәтіні ({label_language})",
        free_text=True,
    )


def label(pack: Compiled, item_code: str, value: Any, language: str) -> str:
    """The text of an answer in `language` (options by their text, others as typed)."""
    item = pack.by_code.get(item_code)
    if item is None or value is None:
        return ""
    if item.kind == "single":
        option = item.option(str(value))
        return option.text.get(language) if option else str(value)
    if item.kind == "multiple":
        return "; ".join(o.text.get(language) for o in item.options if o.code in value)
    if item.kind == "ranking":
        return " > ".join(
            (o.text.get(language) if (o := item.option(str(code))) else str(code))
            for code in value
        )
    return str(value)


def code(value: Any) -> str:
    """The stored answer as text: option codes joined by ';', or the value itself.

    A whole number is written without a decimal point whichever way the database returned
    it (SQLite gives 7 for a stored 7.0, PostgreSQL 7.0).
    """
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _column_chunks(session: Session, stmt: Select[Any]) -> Iterator[list[list[Any]]]:
    """The result of `stmt` as lists of columns, CHUNK rows at a time.

    Rows are fetched FETCH at a time and turned into columns at once: a column list holds
    plain strings and numbers, which the garbage collector does not track, while every row
    tuple is tracked. Holding CHUNK row tuples alive made the collector rescan them over and
    over, a third of the export's time. On SQLite these are the driver's own tuples (every
    selected column is stored the way the export writes it, so SQLAlchemy's per-row result
    processing is skipped; a buffered, streamed SQLAlchemy result would have read ahead of the
    raw cursor); elsewhere, a server-side cursor read in partitions.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        result = connection.execute(stmt)
        cursor = result.cursor
        parts: Iterator[Sequence[Any]] = iter(lambda: cursor.fetchmany(FETCH), [])
    else:
        result = connection.execution_options(yield_per=FETCH).execute(stmt)
        parts = result.partitions()
    columns: list[list[Any]] = []
    try:
        for part in parts:
            if not columns:
                columns = [[] for _ in part[0]]
            for column, values in zip(columns, zip(*part, strict=True), strict=True):
                column.extend(values)
            if len(columns[0]) >= CHUNK:
                yield columns
                columns = []
        if columns:
            yield columns
    finally:
        result.close()


def table(session: Session, filters: c.Filters, opts: c.Options) -> Table:
    """The long answers table for `filters`."""
    variables = [
        *c.attempt_columns(opts.identified, c.STATE),
        ITEM,
        ANSWER_CODE,
        answer_label(opts.label_language),
        VALUE,
        ANSWERED,
    ]

    def columns() -> Iterator[list[Sequence[Any]]]:
        # Two queries: the attempts (a few thousand rows, everything a row shares with its
        # attempt, worked out once) and the answers (only their own five columns, JSON values
        # and times as the database stores them). Then a column at a time: a million answers
        # would otherwise spend most of their time in per-row Python. Values repeat (option
        # codes, Likert points), so an answer's code and label are worked out once per
        # instrument, item and stored text; shared cells are the same string objects, which
        # Arrow also converts faster.
        sqlite = session.get_bind().dialect.name == "sqlite"
        instruments: dict[int, tuple[str, int, Compiled]] = {}
        codes: dict[int, str] = {}
        heads: dict[int, tuple[Any, ...]] = {}
        attempts = c.attempt_filter(
            c.joined(
                Attempt.id,
                *c.person_select(),
                Instrument.id,
                Campaign.id,
                Campaign.wave,
                Attempt.state,
            ),
            session,
            filters,
        )

        def add_heads(stmt: Select[Any]) -> None:
            for aid, *person, iid, cid, wave, state in session.execute(stmt):
                known = instruments.get(iid)
                if known is None:
                    instrument = session.get_one(Instrument, iid)
                    known = (instrument.code, instrument.version, compiled(instrument))
                    instruments[iid] = known
                values = c.person_values(opts, codes, *person)
                heads[aid] = (*values, known[0], known[1], cid, wave, aid, state, iid)

        add_heads(attempts)
        stmt = c.joined(
            Attempt.id,
            Answer.item_code,
            # The stored JSON as text: SQLite hands it over as is; PostgreSQL's driver would
            # decode it, so it is cast there.
            type_coerce(Answer.value, RAW_TEXT) if sqlite else cast(Answer.value, Text),
            Answer.numeric,
            # SQLite stores UTC text: cut to seconds there, not in Python.
            func.substr(type_coerce(Answer.answered_at, RAW_TEXT), 1, 19)
            if sqlite
            else Answer.answered_at,
        ).join(Answer, Answer.attempt_id == Attempt.id)
        stmt = c.attempt_filter(stmt, session, filters).order_by(Answer.id)
        language = opts.label_language
        answers: dict[str, tuple[str, str]] = {}

        def decode(iid: int, item_code: str, raw: Any) -> tuple[str, str]:
            value = json.loads(raw) if isinstance(raw, str) else raw
            found = (code(value), label(instruments[iid][2], item_code, value, language))
            if len(answers) < ANSWER_CACHE:
                # Keyed by text, not by a tuple: strings are not tracked by the collector.
                answers[f"{iid}\x00{item_code}\x00{raw}"] = found
            return found

        known_text = answers.get
        for aid, item, raw, numeric, answered_at in _column_chunks(session, stmt):
            late = set(aid) - heads.keys()
            if late:  # attempts started while the export ran (the queries are two snapshots)
                add_heads(attempts.where(Attempt.id.in_(late)))
            shared = list(zip(*map(heads.__getitem__, aid), strict=True))
            iid = shared.pop()
            texts = [
                known_text(f"{i}\x00{it}\x00{r}") or decode(i, it, r)
                for i, it, r in zip(iid, item, raw, strict=True)
            ]
            answer_codes, labels = zip(*texts, strict=True)
            yield [
                *shared,
                item,
                answer_codes,
                labels,
                numeric,
                answered_at
                if type(answered_at[0]) is str
                else [c.utc_text(a) for a in answered_at],
            ]

    def rows() -> Chunks:
        for chunk in columns():
            yield [list(row) for row in zip(*chunk, strict=True)]

    return Table(
        "answers",
        {"kk": "Жауаптар (ұзын)", "ru": "Ответы (длинный формат)", "en": "Answers (long)"},
        variables,
        rows,
        column_chunks=columns,
    )
