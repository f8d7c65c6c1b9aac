"""The long answers table, the source of truth: one row per stored answer."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Select, String, type_coerce
from sqlalchemy.orm import Session

from bot.content.engine import Compiled
from bot.services.exports import common as c
from bot.services.exports.spec import Chunks, Table, Variable
from bot.services.surveys import compiled
from models import Answer, Attempt, Campaign, Instrument

CHUNK = 5000
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
    "Option code(s) (';'-separated for multiple choice) or the typed value; empty: skipped",
    "Код(ы) варианта (через ';' при множественном выборе) или введённое значение; пусто: пропущен",
    "Нұсқа коды (көп таңдауда ';' арқылы) немесе енгізілген мән; бос: өткізілді",
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
    return str(value)


def code(value: Any) -> str:
    """The stored answer as text: option codes joined by ';', or the value itself."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def _chunks(session: Session, stmt: Select[Any]) -> Iterator[Sequence[Any]]:
    """The rows of `stmt`, CHUNK at a time.

    On SQLite, the driver's own row tuples: every selected column is one whose stored form is
    what the export writes, and SQLAlchemy's per-row result processing cost as much as reading
    the rows. (sqlite3 steps through the result as it is fetched; a buffered, streamed
    SQLAlchemy result would have read ahead of the raw cursor.) Elsewhere, a server-side cursor
    read in partitions.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield from connection.execution_options(yield_per=CHUNK).execute(stmt).partitions()
        return
    result = connection.execute(stmt)
    cursor = result.cursor
    try:
        while part := cursor.fetchmany(CHUNK):
            yield part
    finally:
        result.close()


def table(session: Session, filters: c.Filters, opts: c.Options) -> Table:
    """The long answers table for `filters`."""
    variables = [
        *c.person_columns(opts.identified),
        c.INSTRUMENT,
        c.VERSION,
        c.CAMPAIGN,
        c.WAVE,
        c.ATTEMPT,
        c.STATE,
        ITEM,
        ANSWER_CODE,
        answer_label(opts.label_language),
        VALUE,
        ANSWERED,
    ]

    def rows() -> Chunks:
        # Core rows, JSON values and times as the database stores them: a million answers
        # would otherwise spend most of their time building ORM rows, decoding JSON and
        # parsing datetimes. Values repeat (option codes, Likert points), so an answer's code
        # and label are worked out once per instrument, item and stored text.
        stmt = c.joined(
            *c.person_select(),
            Instrument.id,
            Campaign.id,
            Campaign.wave,
            Attempt.id,
            Attempt.state,
            Answer.item_code,
            type_coerce(Answer.value, RAW_TEXT),
            Answer.numeric,
            type_coerce(Answer.answered_at, RAW_TEXT),
        ).join(Answer, Answer.attempt_id == Attempt.id)
        stmt = c.attempt_filter(stmt, session, filters).order_by(Answer.id)
        instruments: dict[int, tuple[str, int, Compiled]] = {}
        codes: dict[int, str] = {}
        language = opts.label_language
        answers: dict[tuple[int, str, Any], tuple[str, str]] = {}
        heads: dict[int, list[Any]] = {}
        head: list[Any] = []
        head_of = -1
        for part in _chunks(session, stmt):
            chunk: list[list[Any]] = []
            for row in part:
                if row[10] != head_of:  # another attempt: the columns it shares by all rows
                    head_of = row[10]
                    found = heads.get(head_of)
                    if found is None:
                        iid = row[7]
                        known = instruments.get(iid)
                        if known is None:
                            instrument = session.get_one(Instrument, iid)
                            known = (instrument.code, instrument.version, compiled(instrument))
                            instruments[iid] = known
                        person = c.person_values(opts, codes, *row[:7])
                        found = [*person, known[0], known[1], row[8], row[9], row[10], row[11]]
                        if len(heads) >= ANSWER_CACHE:
                            heads.clear()
                        heads[head_of] = found
                    head = found
                item_code, raw, numeric, answered_at = row[12:]
                key = (row[7], item_code, raw)
                shown = answers.get(key)
                if shown is None:
                    value = json.loads(raw) if isinstance(raw, str) else raw
                    shown = (
                        code(value),
                        label(instruments[row[7]][2], item_code, value, language),
                    )
                    if len(answers) < ANSWER_CACHE:
                        answers[key] = shown
                at = answered_at[:19] if type(answered_at) is str else c.utc_text(answered_at)
                chunk.append([*head, item_code, *shown, numeric, at])
            yield chunk

    return Table(
        "answers",
        {"kk": "Жауаптар (ұзын)", "ru": "Ответы (длинный формат)", "en": "Answers (long)"},
        variables,
        rows,
    )
