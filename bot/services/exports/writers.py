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

from bot.services.exports.spec import MISSING_CODES, Missing, Table, codebook_rows

FORMATS = ("csv", "xlsx", "parquet", "sav")
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit (1,048,576) less the header row
Progress = Callable[[int], None]


def _prepared(table: Table, spss: bool = False) -> Iterator[list[list[Any]]]:
    """The table's chunks with every `Missing` reason made a cell this format can hold.

    SPSS gets the variable's user-missing value; the other formats an empty cell. Times arrive
    as `YYYY-MM-DD HH:MM:SS` text in UTC (see `common.utc_text`), which CSV writes as is and
    the typed formats convert column by column.
    """
    coded = [
        (i, v.missing_codes() if spss else dict.fromkeys(MISSING_CODES))
        for i, v in enumerate(table.variables)
        if v.coded_missing
    ]
    for chunk in table.rows():
        if coded:
            for row in chunk:
                for i, codes in coded:
                    value = row[i]
                    if type(value) is Missing:
                        row[i] = codes[value.reason]
        yield chunk


# A cell Excel would run as a formula (or a DDE command) when it opens a CSV file.
_FORMULA_START = ("=", "+", "@", "\t", "\r", "-")


def _guard(text: Any) -> Any:
    """Participants' text made inert for spreadsheets: a leading ' before a formula start.

    A minus followed by a number stays as it is (negative numbers are common and harmless).
    """
    if type(text) is str and text.startswith(_FORMULA_START):
        if text[0] == "-":
            try:
                float(text)
            except ValueError:
                return "'" + text
            return text
        return "'" + text
    return text


def write_csv(table: Table, out: Path, progress: Progress) -> int:
    """One table as CSV in UTF-8 with a BOM, so Excel shows Kazakh and Russian text."""
    count = 0
    with out.open("w", encoding="utf-8", newline="") as fh:
        fh.write("\ufeff")  # the BOM, once: the utf-8-sig codec costs a Python call per row
        writer = csv.writer(fh)
        writer.writerow(table.columns)
        guarded = [i for i, v in enumerate(table.variables) if v.free_text]
        if table.column_chunks is not None and not any(v.coded_missing for v in table.variables):
            for columns in table.column_chunks():
                for i in guarded:
                    columns[i] = [_guard(text) for text in columns[i]]
                writer.writerows(zip(*columns, strict=True))
                count += len(columns[0])
                progress(count)
            return count
        for chunk in _prepared(table):
            if guarded:
                for row in chunk:
                    for i in guarded:
                        row[i] = _guard(row[i])
            writer.writerows(chunk)
            count += len(chunk)
            progress(count)
    return count


def write_parquet(table: Table, out: Path, progress: Progress) -> int:
    """One table as Parquet, a row group per chunk, with typed columns."""
    import pyarrow as pa  # noqa: PLC0415 - loaded on first use
    import pyarrow.parquet as pq  # noqa: PLC0415 - loaded on first use

    types = {
        "string": pa.string(),
        "integer": pa.int64(),
        "float": pa.float64(),
        "datetime": pa.timestamp("s", tz="UTC"),  # the text is UTC; say so in the file
    }
    UTC_TIME = types["datetime"]
    schema = pa.schema([(v.name, types[v.kind]) for v in table.variables])
    strings = [v.kind == "string" for v in table.variables]
    times = [v.kind == "datetime" for v in table.variables]
    count = 0

    def chunks() -> Iterator[list[Any]]:
        if table.column_chunks is not None and not any(v.coded_missing for v in table.variables):
            yield from table.column_chunks()
            return
        for chunk in _prepared(table):
            yield list(zip(*chunk, strict=True))

    with pq.ParquetWriter(out, schema) as writer:
        for columns in chunks():
            arrays = [
                pa.array(column, type=pa.string()).cast(pa.timestamp("s")).cast(UTC_TIME)
                if times[i]
                else _text_array(column)
                if strings[i]
                else pa.array(column, type=schema.field(i).type)
                for i, column in enumerate(columns)
            ]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            count += len(columns[0])
            progress(count)
        if count == 0:
            writer.write_table(schema.empty_table())
    return count


def _text_array(column: tuple[Any, ...]) -> Any:
    """A string column for Arrow; values are text already, except now and then a number."""
    import pyarrow as pa  # noqa: PLC0415 - loaded on first use

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
    import xlsxwriter  # noqa: PLC0415 - loaded on first use

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
        for chunk in _prepared(table):
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
    """One table as an SPSS .sav: variable and value labels, measures, user-missing values.

    pyreadstat writes a whole DataFrame, so this holds the table in memory: its values are
    gathered column by column and each column is converted as its list is dropped, so the
    table is never held twice. Parquet suits the largest exports better.
    """
    import pandas as pd  # noqa: PLC0415 - loaded on first use
    import pyreadstat  # noqa: PLC0415 - loaded on first use

    columns: list[list[Any]] = [[] for _ in table.variables]
    count = 0
    for chunk in _prepared(table, spss=True):
        for values, cells in zip(columns, zip(*chunk, strict=True), strict=True):
            values.extend(cells)
        count += len(chunk)
        progress(count)
    data: dict[str, Any] = {}
    for v in table.variables:
        values = columns.pop(0)
        if v.kind in ("integer", "float"):
            data[v.name] = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
        elif v.kind == "datetime":
            data[v.name] = pd.to_datetime(pd.Series(values, dtype=object))
        else:
            data[v.name] = pd.Series(["" if x is None else str(x) for x in values], dtype=object)
        del values
    frame = pd.DataFrame(data, columns=table.columns)
    del data
    value_labels: dict[str, dict[float, str]] = {}
    for v in table.variables:
        if v.kind not in ("integer", "float"):
            continue
        labels = {
            float(k): (names.get(language) or names.get("en", ""))[:120]
            for k, names in v.values.items()
        }
        for reason, code in v.missing_codes().items():
            labels[float(code)] = MISSING_CODES[reason][language][:120]
        if labels:
            value_labels[v.name] = labels
    pyreadstat.write_sav(
        frame,
        str(out),
        column_labels=[v.title(language)[:250] for v in table.variables],
        variable_value_labels=value_labels,
        missing_ranges={
            v.name: [float(code) for code in sorted(v.missing_codes().values())]
            for v in table.variables
            if v.coded_missing
        },
        variable_measure={
            v.name: "scale" if v.kind == "datetime" else v.measure for v in table.variables
        },
    )
    return count
