"""SQLite through aiosqlite with one trip to the connection's thread per statement.

aiosqlite runs the `sqlite3` connection in a thread of its own; every call crosses to that
thread and back. SQLAlchemy's aiosqlite adapter makes four crossings per statement: open a
cursor, execute, fetch the rows, close the cursor. `bench/surveys.py --profile` put those
crossings (the queue, the wake-ups, the GIL passed back and forth) among the largest costs of
a survey answer: 8 statements and 35 crossings, all while holding the one SQLite connection
every other update waits for.

`module()` gives SQLAlchemy's own aiosqlite adapter (the DBAPI module object that
`create_async_engine(url, module=...)` takes) with one change: a cursor runs its statement,
reads its description, rows, row count and last row id, and closes, in one function in the
connection's thread. What SQLAlchemy sees is the same: the rows, `description`, `rowcount`,
`lastrowid` and sqlite3's own exceptions. Everything else (connecting, commit, rollback, the
isolation level, closing) is the adapter's, unchanged.

It leans on two internals: aiosqlite's `Connection._execute(function)` (run a function in the
connection's thread, the method behind all of aiosqlite's own calls) and the adapter classes
of `sqlalchemy.dialects.sqlite.aiosqlite`; `tests/test_sqlite_driver.py` pins both.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT

__all__ = ["module"]

# (description, rows, rowcount, lastrowid) of one statement, read in the connection's thread.
_Outcome = tuple[Any, list[Any], int, int | None]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """Execute one statement on a fresh cursor and read all of it (in the connection's thread)."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor with no aiosqlite cursor behind it: each statement is one call to the thread."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:
        # Not the adapter's __init__: it opens an aiosqlite cursor (a crossing) per cursor.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        """Rows are all read at once: nothing to size."""

    async def _async_soft_close(self) -> None:
        """Nothing is open in the thread once a statement has run."""

    def close(self) -> None:
        self._rows.clear()

    async def _call(self, operation: Any, parameters: Any, many: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            description, rows, rowcount, lastrowid = await connection._execute(
                _run, connection._conn, operation, parameters, many
            )
        self._description = description
        self._rows = collections.deque(rows)
        self._rowcount = rowcount
        self._lastrowid = lastrowid

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._call(operation, parameters, False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
        await self._call(operation, seq_of_parameters, True)


class _Connection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection adapter, with `_Cursor` for its cursors."""

    __slots__ = ()
    _cursor_cls = _Cursor


class _Dbapi(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite DBAPI adapter, connecting through `_Connection`."""

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        return _Connection(self, adapted._connection)


def module() -> Any:
    """The DBAPI module for `create_async_engine(..., module=module())` on SQLite."""
    return _Dbapi(aiosqlite, sqlite3)
