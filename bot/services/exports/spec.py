"""What an export is made of: tables of typed variables, and the codebook that explains them.

Every dataset is one or more `Table`s. A table names its variables up front (label in kk, ru
and en, type, measurement level, value labels, missing-value codes, how a derived variable was
computed) and then yields its rows in chunks, so a writer can stream it and the codebook can be
written from the same description the data was written with.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["string", "integer", "float", "datetime"]
Measure = Literal["nominal", "ordinal", "scale"]
Labels = dict[str, str]  # language -> text

# Why a cell is empty. In rows a reason travels as a `Missing` object, never as a number a
# participant could have typed; SPSS files get it as a user-missing value (which SPSS leaves out
# of every statistic: -1, -2, -3, or -333333333, -666666666, -999999999 for variables that
# can hold small negative numbers); the other formats leave the cell empty.
SKIPPED = -1
NOT_SHOWN = -2
NOT_REACHED = -3
MISSING_CODES: dict[int, Labels] = {
    SKIPPED: {
        "kk": "өткізіп жіберілді: міндетті емес сұрақ жауапсыз қалды",
        "ru": "пропущен: необязательный вопрос оставлен без ответа",
        "en": "skipped: an optional question the participant chose not to answer",
    },
    NOT_SHOWN: {
        "kk": "көрсетілмеді: шарт бойынша жасырылды немесе бұл нұсқада жоқ",
        "ru": "не показан: скрыт условием или отсутствует в этой версии",
        "en": "not shown: hidden by a condition, or not part of this version",
    },
    NOT_REACHED: {
        "kk": "жетпеді: қатысушы сауалнаманы аяқтамады",
        "ru": "не дошёл: участник не закончил опрос",
        "en": "not reached: the attempt was not finished",
    },
}


@dataclass(frozen=True, slots=True)
class Missing:
    """An empty cell and the reason for it (SKIPPED, NOT_SHOWN or NOT_REACHED)."""

    reason: int


MISSING = {code: Missing(code) for code in MISSING_CODES}
BIG_MISSING = 333_333_333  # the factor for variables whose own values may be -1, -2 or -3


@dataclass(frozen=True)
class Variable:
    """One column of a table, with everything the codebook says about it."""

    name: str
    label: Labels
    kind: Kind = "string"
    measure: Measure = "nominal"
    # Value -> its label per language (SPSS value labels; the codebook lists them too).
    values: dict[Any, Labels] = field(default_factory=dict)
    # Whether cells may hold `Missing` reasons (numeric item and derived variables).
    coded_missing: bool = False
    derived: str | None = None  # how a derived variable was computed
    negative: bool = False  # its own values may be negative: use the big missing codes
    free_text: bool = False  # typed by participants (CSV guards it against formulas)

    def title(self, language: str) -> str:
        """The label in `language` (English when missing)."""
        return self.label.get(language) or self.label.get("en") or self.name

    def missing_codes(self) -> dict[int, int]:
        """Reason -> the SPSS user-missing value of this variable (empty: none)."""
        if not self.coded_missing:
            return {}
        factor = BIG_MISSING if self.negative else 1
        return {reason: reason * factor for reason in MISSING_CODES}


Chunks = Iterator[list[list[Any]]]


@dataclass
class Table:
    """A named table: its variables and a function that yields its rows in chunks.

    Rows hold `None` for an empty cell, or a `Missing` reason where the variable has
    `coded_missing` (SPSS writes it as a user-missing value, the other writers as empty).
    """

    name: str
    title: Labels
    variables: list[Variable]
    rows: Callable[[], Chunks]
    notes: list[str] = field(default_factory=list)
    # The same chunks as lists of columns, for writers that work column by column (CSV,
    # Parquet) when the table is built that way: it saves turning rows around twice.
    column_chunks: Callable[[], Iterator[list[Sequence[Any]]]] | None = None

    @property
    def columns(self) -> list[str]:
        """The variable names in order."""
        return [v.name for v in self.variables]


def codebook(tables: list[Table], meta: dict[str, Any]) -> dict[str, Any]:
    """The codebook of an export: every table's variables with labels in kk, ru and en."""
    return {
        **meta,
        "missing_codes": {
            str(code): labels
            | {
                "note": "SPSS: user-missing (x 333333333 for variables marked 'negative'); "
                "CSV, XLSX, Parquet: empty cell"
            }
            for code, labels in MISSING_CODES.items()
        },
        "tables": [
            {
                "name": table.name,
                "title": table.title,
                "notes": table.notes,
                "variables": [
                    {
                        "name": v.name,
                        "label": v.label,
                        "type": v.kind,
                        "measure": v.measure,
                        "value_labels": {str(k): labels for k, labels in v.values.items()},
                        "missing_codes": sorted(v.missing_codes().values()),
                        "derived": v.derived,
                    }
                    for v in table.variables
                ],
            }
            for table in tables
        ],
    }


def codebook_json(tables: list[Table], meta: dict[str, Any]) -> str:
    """The codebook as indented JSON (UTF-8 text, Cyrillic kept as is)."""
    return json.dumps(codebook(tables, meta), indent=2, ensure_ascii=False, default=str)


def codebook_rows(tables: list[Table], language: str) -> Iterator[list[str]]:
    """The codebook flattened for a spreadsheet: one row per variable."""
    yield [
        "table",
        "variable",
        "label_kk",
        "label_ru",
        "label_en",
        "type",
        "measure",
        "value_labels",
        "missing_codes",
        "derived",
    ]
    for table in tables:
        for v in table.variables:
            values = "; ".join(
                f"{k} = {labels.get(language) or labels.get('en', '')}"
                for k, labels in v.values.items()
            )
            missing = "; ".join(
                f"{code} = {MISSING_CODES[reason][language]}"
                for reason, code in sorted(v.missing_codes().items())
            )
            yield [
                table.name,
                v.name,
                v.label.get("kk", ""),
                v.label.get("ru", ""),
                v.label.get("en", ""),
                v.kind,
                v.measure,
                values,
                missing,
                v.derived or "",
            ]
