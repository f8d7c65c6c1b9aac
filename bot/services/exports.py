"""Research exports: the long answers table, pseudonymous, streamed in chunks to CSV.

The long format is the source of truth: one row per stored answer, with the participant's
pseudonymous code (a keyed hash, never a Telegram id, name or username), university, country,
interface language, instrument code and version, campaign and wave, item code, the answer's
code, its label in a chosen language, its numeric value, and when it was given. Rows are read
from the database in chunks and appended to the file, so the whole dataset is never held in
memory twice.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from bot.content.engine import Compiled
from bot.db import Sessionmaker
from bot.services import InvalidInput
from bot.services.broadcasts import sender_scope
from bot.services.roles import Role, require
from bot.services.surveys import compiled
from models import Answer, Attempt, Campaign, Instrument, University, User

CHUNK = 5000
ZIP_OVER = 45 * 1024 * 1024  # Telegram bots upload at most 50 MB
COLUMNS = (
    "participant",
    "university",
    "country",
    "language",
    "instrument",
    "instrument_version",
    "campaign",
    "wave",
    "attempt",
    "attempt_state",
    "item",
    "answer_code",
    "answer_label",
    "value",
    "answered_at",
)


def pseudonym(key: str, user_id: int) -> str:
    """The participant's research code: a keyed hash of their internal id.

    Without the key nobody can go back to the person; deleting one's data and registering
    again gives a new code, so a deletion also breaks the link to earlier answers.
    """
    digest = hmac.new(key.encode(), f"user:{user_id}".encode(), hashlib.sha256).hexdigest()
    return "P" + digest[:15]


@dataclass(frozen=True)
class Filters:
    """Which answers to export."""

    campaign_id: int | None = None
    wave: str | None = None
    university: str | None = None  # university code
    country: str | None = None


def _label(pack: Compiled, item_code: str, value: Any, language: str) -> str:
    item = pack.by_code.get(item_code)
    if item is None or value is None:
        return ""
    if item.kind == "single":
        option = item.option(str(value))
        return option.text.get(language) if option else str(value)
    if item.kind == "multiple":
        return "; ".join(o.text.get(language) for o in item.options if o.code in value)
    return str(value)


def _code(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def answer_rows(
    session: Session, key: str, filters: Filters, label_language: str = "en"
) -> Iterator[list[list[Any]]]:
    """The long answers table in chunks of rows (a synchronous session: run it in a thread)."""
    stmt = (
        select(
            Answer,
            Attempt,
            Campaign.wave,
            Campaign.id,
            Instrument,
            User.id,
            User.language,
            University.code,
            University.country,
        )
        .join(Attempt, Attempt.id == Answer.attempt_id)
        .join(Campaign, Campaign.id == Attempt.campaign_id)
        .join(Instrument, Instrument.id == Attempt.instrument_id)
        .join(User, User.id == Attempt.user_id)
        .outerjoin(University, University.id == User.university_id)
        .order_by(Answer.id)
        .execution_options(yield_per=CHUNK)
    )
    if filters.campaign_id is not None:
        stmt = stmt.where(Campaign.id == filters.campaign_id)
    if filters.wave is not None:
        stmt = stmt.where(Campaign.wave == filters.wave)
    if filters.university is not None:
        stmt = stmt.where(University.code == filters.university)
    if filters.country is not None:
        stmt = stmt.where(University.country == filters.country)
    chunk: list[list[Any]] = []
    codes: dict[int, str] = {}
    for (
        answer,
        attempt,
        wave,
        campaign_id,
        instrument,
        user_id,
        language,
        uni,
        country,
    ) in session.execute(stmt):
        pack = compiled(instrument)
        code = codes.get(user_id) or codes.setdefault(user_id, pseudonym(key, user_id))
        chunk.append(
            [
                code,
                uni or "",
                country or "",
                language or "",
                instrument.code,
                instrument.version,
                campaign_id,
                wave,
                attempt.id,
                attempt.state,
                answer.item_code,
                _code(answer.value),
                _label(pack, answer.item_code, answer.value, label_language),
                "" if answer.numeric is None else answer.numeric,
                answer.answered_at.isoformat(),
            ]
        )
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def write_csv(chunks: Iterator[list[list[Any]]], out: Path) -> int:
    """Write chunks to a CSV file, UTF-8 with a BOM so Excel shows Kazakh and Russian."""
    count = 0
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for chunk in chunks:
            writer.writerows(chunk)
            count += len(chunk)
    return count


# Column types for the typed formats (Parquet); CSV and XLSX carry the same values.
_ARROW_TYPES = {
    "instrument_version": "int64",
    "campaign": "int64",
    "attempt": "int64",
    "value": "float64",
}
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit (1,048,576) less the header row


def write_parquet(chunks: Iterator[list[list[Any]]], out: Path) -> int:
    """Write chunks to Parquet one row group at a time (typed columns, constant memory)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [(name, pa.type_for_alias(_ARROW_TYPES.get(name, "string"))) for name in COLUMNS]
    )
    count = 0
    with pq.ParquetWriter(out, schema) as writer:
        for chunk in chunks:
            columns = list(zip(*chunk, strict=True))
            arrays = [
                pa.array([None if v == "" else v for v in column], type=schema.field(i).type)
                if schema.field(i).type != pa.string()
                else pa.array([str(v) for v in column], type=pa.string())
                for i, column in enumerate(columns)
            ]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            count += len(chunk)
    return count


def write_xlsx(chunks: Iterator[list[list[Any]]], out: Path, label_language: str) -> int:
    """Write chunks to XLSX in write-only mode, with the codebook as its own sheet.

    Past Excel's row limit the rows go on in a new sheet.
    """
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("answers")
    sheet.append(COLUMNS)
    rows_in_sheet = 0
    count = 0
    for chunk in chunks:
        for row in chunk:
            if rows_in_sheet == XLSX_MAX_ROWS:
                sheet = book.create_sheet(f"answers_{count // XLSX_MAX_ROWS + 1}")
                sheet.append(COLUMNS)
                rows_in_sheet = 0
            sheet.append(row)
            rows_in_sheet += 1
            count += 1
    notes = book.create_sheet("codebook")
    notes.append(("column", "description"))
    for column, description in json.loads(codebook(label_language))["columns"].items():
        notes.append((column, description))
    book.save(out)
    return count


# SPSS measurement levels of the long table's columns.
_MEASURES = {
    "instrument_version": "ordinal",
    "campaign": "nominal",
    "attempt": "nominal",
    "value": "scale",
}


def write_sav(chunks: Iterator[list[list[Any]]], out: Path, label_language: str) -> int:
    """Write the rows to an SPSS .sav file with variable labels and measurement levels.

    pyreadstat writes a whole DataFrame, so this format holds the rows in memory once (the
    chunks are concatenated, never copied twice); use Parquet for the largest exports.
    """
    import pandas as pd
    import pyreadstat

    frames = [pd.DataFrame(chunk, columns=list(COLUMNS)) for chunk in chunks]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(COLUMNS))
    for column in ("instrument_version", "campaign", "attempt"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    frame["value"] = pd.to_numeric(frame["value"].replace("", None), errors="coerce")
    for column in COLUMNS:
        if column not in _MEASURES:
            frame[column] = frame[column].astype(str)
    labels = json.loads(codebook(label_language))["columns"]
    pyreadstat.write_sav(
        frame,
        str(out),
        column_labels=[labels[c][:250] for c in COLUMNS],
        variable_measure={c: _MEASURES.get(c, "nominal") for c in COLUMNS},
    )
    return len(frame)


def codebook(label_language: str = "en") -> str:
    """A short description of every column, as JSON next to the export."""
    descriptions = {
        "participant": "pseudonymous participant code: HMAC-SHA256 of the internal id under "
        "PSEUDONYM_KEY; no Telegram id, name or username",
        "university": "university code",
        "country": "ISO 3166-1 alpha-2",
        "language": "interface language of the participant (kk, ru, en)",
        "instrument": "instrument code",
        "instrument_version": "version the answer was given to",
        "campaign": "campaign id",
        "wave": "wave label (pre, post, ...)",
        "attempt": "attempt id",
        "attempt_state": "in_progress, submitted, expired, closed",
        "item": "item code (matrix items have their own codes)",
        "answer_code": "option code(s) (';'-separated for multiple choice) or the typed value; "
        "empty: skipped",
        "answer_label": f"the answer's text in {label_language}",
        "value": "numeric value: Likert point (reversed for reverse-scored items), test "
        "points, or the number; empty when not numeric",
        "answered_at": "UTC, ISO 8601",
    }
    return json.dumps(
        {"dataset": "answers (long)", "columns": descriptions}, indent=2, ensure_ascii=False
    )


async def export_answers(
    engine: AsyncEngine,
    key: str,
    filters: Filters,
    out: Path,
    label_language: str = "en",
    fmt: str = "csv",
) -> int:
    """Write the long answers table to `out` (csv, parquet or xlsx), codebook beside it.

    Returns:
        The number of answers written.
    """

    def write(connection: Connection) -> int:
        with Session(bind=connection) as session:
            chunks = answer_rows(session, key, filters, label_language)
            if fmt == "parquet":
                return write_parquet(chunks, out)
            if fmt == "xlsx":
                return write_xlsx(chunks, out, label_language)
            if fmt == "sav":
                return write_sav(chunks, out, label_language)
            return write_csv(chunks, out)

    async with engine.connect() as connection:
        count = await connection.run_sync(write)
    out.with_suffix(".codebook.json").write_text(codebook(label_language), encoding="utf-8")
    return count


async def exporter_scope(db: Sessionmaker, actor_id: int, admin_ids: frozenset[int]) -> str | None:
    """Check the actor may export; returns the university code they are limited to, if any.

    Raises:
        PermissionDenied: not an organizer or admin.
    """
    async with db() as session:
        user, roles = await require(session, actor_id, admin_ids, Role.ADMIN, Role.ORGANIZER)
        scope = await sender_scope(session, user, roles)
        if scope is None:
            return None
        university = await session.get(University, scope)
        return university.code if university is not None else None


async def export_file(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    key: str,
    campaign_id: int | None,
    fmt: str,
    label_language: str,
    folder: Path,
) -> tuple[Path, int]:
    """Export for an organizer in chat: their university's answers only, if they are scoped.

    Returns:
        The file written in `folder` (zipped with its codebook when over 45 MB, under
        Telegram's 50 MB upload limit) and the number of answers.
    """
    if fmt not in ("csv", "parquet", "xlsx", "sav"):
        raise InvalidInput("errors.stale_button")
    university = await exporter_scope(db, actor_id, admin_ids)
    filters = Filters(campaign_id=campaign_id, university=university)
    out = folder / f"ortaq-answers{'-c' + str(campaign_id) if campaign_id else ''}.{fmt}"
    engine = db.kw["bind"]
    count = await export_answers(engine, key, filters, out, label_language, fmt)
    if out.stat().st_size > ZIP_OVER:
        archive = out.with_suffix(out.suffix + ".zip")
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            bundle.write(out, out.name)
            codebook_path = out.with_suffix(".codebook.json")
            bundle.write(codebook_path, codebook_path.name)
        out = archive
    return out, count
