"""Writers: tables to CSV, XLSX, Parquet or SPSS, streaming chunk by chunk.

CSV and Parquet write one file per table; XLSX writes one workbook with a sheet per table and
a codebook sheet; SPSS writes one `.sav` per table with variable labels, value labels,
measurement levels and user-missing codes. Only the SPSS writer holds a table in memory (the
library writes whole data frames); the others keep one chunk at a time.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.services.exports.spec import MISSING_CODES, Table, codebook_rows

FORMATS = ("csv", "xlsx", "parquet", "sav")
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit (1,048,576) less the header row
Progress = Callable[[int], None]


def _prepared(table: Table, keep_missing: bool) -> Iterator[list[list[Any]]]:
    """The table's chunks with, unless kept, missing codes blanked.

    Times arrive as `YYYY-MM-DD HH:MM:SS` text in UTC (see `common.utc_text`), which CSV
    writes as is and the typed formats convert column by column.
    """
    coded = [] if keep_missing else [i for i, v in enumerate(table.variables) if v.coded_missing]
    for chunk in table.rows():
        if coded:
            for row in chunk:
                for i in coded:
                    value = row[i]
                    if isinstance(value, int | float) and value in MISSING_CODES:
                        row[i] = None
        yield chunk


def write_csv(table: Table, out: Path, progress: Progress) -> int:
    """One table as CSV in UTF-8 with a BOM, so Excel shows Kazakh and Russian text."""
    count = 0
    with out.open("w", encoding="utf-8", newline="") as fh:
        fh.write("\ufeff")  # the BOM, once: the utf-8-sig codec costs a Python call per row
        writer = csv.writer(fh)
        writer.writerow(table.columns)
        for chunk in _prepared(table, keep_missing=False):
            writer.writerows(chunk)
            count += len(chunk)
            progress(count)
    return count


def write_parquet(table: Table, out: Path, progress: Progress) -> int:
    """One table as Parquet, a row group per chunk, with typed columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {
        "string": pa.string(),
        "integer": pa.int64(),
        "float": pa.float64(),
        "datetime": pa.timestamp("s"),
    }
    schema = pa.schema([(v.name, types[v.kind]) for v in table.variables])
    strings = [v.kind == "string" for v in table.variables]
    times = [v.kind == "datetime" for v in table.variables]
    count = 0
    with pq.ParquetWriter(out, schema) as writer:
        for chunk in _prepared(table, keep_missing=False):
            columns = list(zip(*chunk, strict=True))
            arrays = [
                pa.array(column, type=pa.string()).cast(schema.field(i).type)
                if times[i]
                else _text_array(column)
                if strings[i]
                else pa.array(column, type=schema.field(i).type)
                for i, column in enumerate(columns)
            ]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            count += len(chunk)
            progress(count)
        if count == 0:
            writer.write_table(schema.empty_table())
    return count


def _text_array(column: tuple[Any, ...]) -> Any:
    """A string column for Arrow; values are text already, except now and then a number."""
    import pyarrow as pa

    try:
        return pa.array(column, type=pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([None if v is None else str(v) for v in column], type=pa.string())


def _sheet_name(name: str, part: int) -> str:
    return (name if part == 1 else f"{name}_{part}")[:31]


def write_xlsx(tables: list[Table], out: Path, language: str, progress: Progress) -> int:
    """All tables in one workbook, a sheet each, plus the codebook.

    XlsxWriter in constant-memory mode writes each row to disk as it comes (openpyxl's
    write-only mode was measured five times slower). Participants' text is never taken for a
    formula or a link. Past Excel's row limit a table goes on in a new sheet (`answers_2`, ...).
    """
    import xlsxwriter

    book = xlsxwriter.Workbook(
        str(out),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "default_date_format": "yyyy-mm-dd hh:mm:ss",
        },
    )
    count = 0
    for table in tables:
        times = [i for i, v in enumerate(table.variables) if v.kind == "datetime"]
        part = 1
        sheet = book.add_worksheet(_sheet_name(table.name, part))
        sheet.write_row(0, 0, table.columns)
        in_sheet = 0
        for chunk in _prepared(table, keep_missing=False):
            for row in chunk:
                if in_sheet == XLSX_MAX_ROWS:
                    part += 1
                    sheet = book.add_worksheet(_sheet_name(table.name, part))
                    sheet.write_row(0, 0, table.columns)
                    in_sheet = 0
                for i in times:  # real dates, so Excel can sort and filter by them
                    if row[i]:
                        row[i] = datetime.fromisoformat(row[i])
                in_sheet += 1
                sheet.write_row(in_sheet, 0, row)
            count += len(chunk)
            progress(count)
    notes = book.add_worksheet("codebook")
    for number, row in enumerate(codebook_rows(tables, language)):
        notes.write_row(number, 0, row)
    book.close()
    return count


def write_sav(table: Table, out: Path, language: str, progress: Progress) -> int:
    """One table as an SPSS .sav: variable and value labels, measures, user-missing codes.

    pyreadstat writes a whole DataFrame, so this holds the table in memory once (chunks are
    concatenated, never copied twice); Parquet suits the largest exports better.
    """
    import pandas as pd
    import pyreadstat

    frames = []
    count = 0
    for chunk in _prepared(table, keep_missing=True):
        frames.append(pd.DataFrame(chunk, columns=table.columns))
        count += len(chunk)
        progress(count)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=table.columns)
    del frames
    for v in table.variables:
        if v.kind in ("integer", "float"):
            frame[v.name] = pd.to_numeric(frame[v.name], errors="coerce").astype("float64")
        elif v.kind == "datetime":
            frame[v.name] = pd.to_datetime(frame[v.name])
        else:
            frame[v.name] = frame[v.name].map(lambda x: "" if x is None else str(x)).astype(object)
    pyreadstat.write_sav(
        frame,
        str(out),
        column_labels=[v.title(language)[:250] for v in table.variables],
        variable_value_labels={
            v.name: {
                float(k): (labels.get(language) or labels.get("en", ""))[:120]
                for k, labels in v.values.items()
            }
            for v in table.variables
            if v.values and v.kind in ("integer", "float")
        },
        missing_ranges={
            v.name: [float(code) for code in sorted(MISSING_CODES)]
            for v in table.variables
            if v.coded_missing
        },
        variable_measure={v.name: v.measure for v in table.variables},
    )
    return count
