"""SQLite through aiosqlite, its short statements run on the event loop's own thread.

WHY. aiosqlite runs the `sqlite3` connection in a thread of its own and every call crosses to
it and back: a queue put, a thread wake-up, the GIL handed over, the answer sent back through
`call_soon_threadsafe` and the loop's self-pipe. SQLAlchemy's stock adapter made four crossings
per statement (cursor, execute, fetch, close); this module's first version made one. On the
survey workload a statement is an indexed SELECT or a one-row INSERT, tens of microseconds in
SQLite itself, and a py-spy profile of 50 students answering at once still showed the loop's
thread and aiosqlite's fighting for the GIL: the crossings cost far more than the work. So a
statement, a commit and a rollback now run directly on the calling (event loop) thread, and
aiosqlite's thread is kept for what must not run there (below). What SQLAlchemy sees is the
same: the rows, `description`, `rowcount`, `lastrowid`, sqlite3's own exceptions.

ONE USER AT A TIME. The connection is opened with `check_same_thread=False` (forced in
`_Dbapi.connect`), so both threads may use it, never at once: every use of the `sqlite3`
connection from either thread (statements, commit, rollback, the isolation level, functions,
close) takes the adapter connection's `_execute_mutex` first. Work sent to aiosqlite's thread
keeps the mutex until the thread has finished it, even when the awaiting task is cancelled
meanwhile (the mutex is released by the thread future's callback, not by the task), so no
inline statement can start while the thread still runs one. `close` still goes through
aiosqlite (it stops the thread), under the mutex too.

LOCKS: NEVER WAIT ON THE LOOP. Another process may hold SQLite's write lock (`python -m bot
export`, a backup, a second bot by mistake); waiting for it in SQLite's busy handler on the
loop's thread would freeze every user for up to the busy timeout. So the connection's SQLite
busy timeout is 0 at all times, and the adapter keeps the configured one (`_busy_ms`: sqlite3's
`timeout=` connect argument, or `PRAGMA busy_timeout=N` sent through it as `bot.db` does, which
the adapter records and then sets back to 0: reading `PRAGMA busy_timeout` shows 0). An inline
statement or commit that fails with SQLITE_BUSY ("database is locked") is run again, the same
call, in aiosqlite's thread with the real timeout set for that call only (and 0 again after),
which waits as every statement did before. Why running it again is correct:

- BUSY comes from taking a lock, and SQLite takes its locks before the statement changes
  anything: a read takes its read lock (WAL: a read mark) when it starts; the first write of a
  transaction takes the write lock in its first opcode (`OP_Transaction`). pysqlite's implicit
  `BEGIN` before that first INSERT/UPDATE/DELETE succeeds (a deferred BEGIN takes no lock), so
  after BUSY the connection is in a transaction with no change and holds no lock: when BUSY
  comes at the upgrade of a connection that held nothing, `sqlite3BtreeBeginTrans` releases the
  read lock it took for the attempt (which is also why the busy handler may retry it at all).
  The retry finds the transaction open (no second BEGIN), starts a fresh snapshot and waits
  for the lock. Checked in `tests/test_sqlite_driver.py` against a real lock.
- A write after a read in the same transaction (which needs an explicit BEGIN: pysqlite
  begins just before the first write, and SQLAlchemy sends no BEGIN on SQLite) fails with
  BUSY without the busy handler ever being called, whatever the timeout (its snapshot is
  held): the retry fails the same way, exactly as the statement did before this change.
- COMMIT: in WAL mode the committing connection already holds the write lock, so COMMIT does
  not meet BUSY; in rollback-journal mode it may (readers hold SHARED) and then, as SQLite
  documents, "the transaction remains active and the COMMIT can be retried later".
- SQLite documents that after some errors it may roll back the whole transaction. A retry
  that followed that would commit a part of a transaction; so an inline failure is retried
  only when the connection was not in a transaction before it or still is after it, and is
  raised as it is otherwise (the caller rolls back, as for any error).

HEAVY WORK: THE RULE. The large reads of the bot do not come here: exports and the analysis
read through a synchronous engine of their own in a worker thread (`bot.services.exports.
in_thread`). What remains on this engine is three kinds of work:

1. Reads are inline under a time budget (`READ_BUDGET`, 2 ms): a SQLite progress handler,
   called every `PROGRESS_STEPS` virtual machine instructions (and so never by a short
   statement), interrupts a read that has run longer, and the read is run again in aiosqlite's
   thread. A read-only statement that SQLite interrupts changes nothing and leaves the
   transaction alone (`sqlite3VdbeHalt` rolls back only statements that wrote); "read" is told
   from the SQL (SELECT, or WITH without INSERT/UPDATE/DELETE/REPLACE) and anything else is
   never interrupted, since interrupting a write rolls back the whole transaction. So a
   statistics page, a campaign's chart or an audience count that reads thousands of rows
   costs the loop at most about 2 ms, without anyone having to mark it.
2. Writes run inline to the end. A write of many rows is marked by its caller with
   `sqlite_driver.in_thread()` (a context variable, read in the adapter's async `_run`, which
   SQLAlchemy's greenlet bridge runs in the awaiting task's context; a no-op on other
   databases): a broadcast's fan-out to its audience (`INSERT ... SELECT`) and the pruning of
   handled updates. A write that is not marked and takes longer than `SLOW` is logged with the
   beginning of its SQL, so the next one to mark shows up in the log.
3. Many short statements in a row (a duty queueing 5,000 lessons, a loop of small updates)
   hold the loop as long as they run, since an inline statement never suspends the task. So
   the adapter gives the loop back (`await asyncio.sleep(0)`) before a statement once the loop
   has been held for `SLICE` (2 ms) since the first inline statement that found it free: a
   `call_soon` callback ends that stretch whenever the loop gets control back, so a task that
   awaits anything in between (Telegram, the pool, a thread) is never made to yield.

CHECKPOINTS. In WAL mode SQLite copies the log back into the database file from within the
COMMIT that takes the log past 1,000 pages, with two fsyncs: inline, 32 of 5,016 commits of
`bench/sqlite_inline.py`'s transactions took over 1 ms, the longest 16 ms (measured). So
the adapter turns SQLite's automatic checkpoint off on its connection, and every
`CHECKPOINT_EVERY` (100) commits that wrote, the commit goes to aiosqlite's thread and runs a
passive checkpoint (`PRAGMA wal_checkpoint(PASSIVE)`, which waits for nobody) right after it,
in the same call: the connection is in no transaction then (a checkpoint fails with "database
table is locked" inside one, as a separate task run between two statements of another
transaction did). The committing update waits for it as it waited for the checkpoint inside
its COMMIT before; the loop does not. The last connection to close checkpoints, as always.

Server-side cursors (`AsyncConnection.stream`, which nothing here uses on SQLite) are still
aiosqlite's own, in its thread: only their statement takes the mutex, and they meet a lock at
once (SQLite's wait is 0). Use them only under review of this module.

`INLINE = False` (a module flag, for `bench/sqlite_inline.py`) sends everything to aiosqlite's
thread as before.

It leans on internals, pinned by `tests/test_sqlite_driver.py`: aiosqlite's
`Connection._execute(function)` (run a function in the connection's thread), its
`_connection` and `_running` attributes, and the adapter classes of
`sqlalchemy.dialects.sqlite.aiosqlite`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

__all__ = ["in_thread", "module"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

INLINE = True  # False: every call goes to aiosqlite's thread (the benchmark's switch)
READ_BUDGET = 0.002  # seconds an inline read may run before it is moved to the thread
SLICE = 0.002  # seconds of inline work after which the loop is given back before a statement
PROGRESS_STEPS = 1000  # SQLite VM instructions between two looks at the read's clock
SLOW = 0.05  # an inline write longer than this is logged
CHECKPOINT_EVERY = 100  # write commits between two WAL checkpoints (in the thread)

_THREAD: ContextVar[bool] = ContextVar("sqlite_in_thread", default=False)

_BUSY_PRAGMA = re.compile(r"\s*PRAGMA\s+(?:main\.)?busy_timeout\s*=\s*(\d+)\s*;?\s*\Z", re.I)
_WRITES = re.compile(r"\b(?:INSERT|UPDATE|DELETE|REPLACE)\b", re.I)

# (description, rows, rowcount, lastrowid) of one statement.
_Outcome = tuple[Any, list[Any], int, int | None]


@contextlib.contextmanager
def in_thread() -> Iterator[None]:
    """Run the SQLite statements awaited inside this block in aiosqlite's thread.

    For known heavy writes (many rows): the loop keeps serving everyone meanwhile. Statements
    keep their order and their transaction; only the thread they run in changes.
    """
    token = _THREAD.set(True)
    try:
        yield
    finally:
        _THREAD.reset(token)


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """Execute one statement on a fresh cursor and read all of it."""
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


def _commit(connection: sqlite3.Connection) -> bool:
    """Commit; whether a write was committed (pysqlite opens a transaction only to write)."""
    wrote = connection.in_transaction
    connection.commit()
    return wrote


def _commit_and_checkpoint(connection: sqlite3.Connection) -> bool:
    """`_commit`, then a passive WAL checkpoint (in the thread; see the docstring)."""
    wrote = _commit(connection)
    try:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    except sqlite3.Error as error:  # committed all the same: the next checkpoint catches up
        logger.warning("SQLite WAL checkpoint failed: %r", error)
    return wrote


def _no_automatic_checkpoint(connection: sqlite3.Connection) -> None:
    connection.execute("PRAGMA wal_autocheckpoint=0").fetchall()


def _rollback(connection: sqlite3.Connection) -> None:
    connection.rollback()


def _set_isolation_level(connection: sqlite3.Connection, value: Any) -> None:
    connection.isolation_level = value


def _waiting(
    connection: aiosqlite.Connection, busy_ms: int, fn: Callable[..., T], *args: Any
) -> T:
    """In aiosqlite's thread: `fn` with the configured busy timeout, then 0 again."""
    sqlite = connection._conn
    sqlite.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
    try:
        return fn(sqlite, *args)
    finally:
        with contextlib.suppress(sqlite3.Error):  # a broken connection: the error is fn's
            sqlite.execute("PRAGMA busy_timeout=0")


def _is_busy(error: sqlite3.Error) -> bool:
    return (getattr(error, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY


def _is_read(operation: str, many: bool) -> bool:
    """A statement SQLite can interrupt without touching the transaction (see the docstring)."""
    if many:
        return False
    head = operation.lstrip()[:6].upper()
    if head == "SELECT":
        return True
    return head.startswith("WITH") and _WRITES.search(operation) is None


class _Retry(Exception):
    """The inline attempt changed nothing and is to be run in aiosqlite's thread."""


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor with no aiosqlite cursor behind it: a statement is one call, inline or not."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    _adapt_connection: _Connection

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
        """Nothing is left open once a statement has run."""

    def close(self) -> None:
        self._rows.clear()

    async def _call(self, operation: Any, parameters: Any, many: bool) -> None:
        connection = self._adapt_connection
        pragma = _BUSY_PRAGMA.match(operation)
        if pragma is not None:
            connection._busy_ms = int(pragma.group(1))
        description, rows, rowcount, lastrowid = await connection._run(
            _run,
            operation,
            parameters,
            many,
            read=_is_read(operation, many),
            busy_reset=pragma is not None,
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
    """SQLAlchemy's aiosqlite connection adapter, running its short work inline."""

    __slots__ = ("_busy_ms", "_deadline", "_interrupted", "_stretch", "_writes")
    _cursor_cls = _Cursor

    def __init__(self, dbapi: Any, connection: Any, busy_ms: int) -> None:
        super().__init__(dbapi, connection)
        self._busy_ms = busy_ms  # the busy timeout for work in the thread; SQLite's is 0
        self._deadline = 0.0  # when the inline read under way is to be interrupted
        self._interrupted = False  # the progress handler interrupted it
        self._stretch: float | None = None  # when the loop was last found free, if held since
        self._writes = 0  # write commits since the last checkpoint

    # --- the one way in -------------------------------------------------------------------

    async def _run(
        self,
        fn: Callable[..., T],
        *args: Any,
        read: bool = False,
        busy_reset: bool = False,
        yields: bool = True,
        thread: bool = False,
    ) -> T:
        """`fn(sqlite3_connection, *args)` inline, or in aiosqlite's thread (see the docstring).

        `read`: interruptible after `READ_BUDGET`. `busy_reset`: the call sets SQLite's busy
        timeout, to be 0 again after it. `yields`: may give the loop back first. `thread`:
        straight to the thread.
        """
        thread = thread or _THREAD.get() or not INLINE
        if yields and not thread and self._held_too_long():
            await asyncio.sleep(0)
        mutex = self._execute_mutex
        await mutex.acquire()
        handed = False
        try:
            sqlite = self._sqlite()
            if not thread:
                with contextlib.suppress(_Retry):
                    return self._inline(sqlite, fn, args, read, busy_reset)
            future = self._in_thread(fn, args)
            handed = True  # the mutex is the thread's: released when the thread is done
        finally:
            if not handed:
                mutex.release()
        return await asyncio.shield(future)

    def _sqlite(self) -> sqlite3.Connection:
        """The `sqlite3` connection; the errors of aiosqlite's `_execute` when closed."""
        connection = cast(aiosqlite.Connection, self._connection)
        sqlite = connection._connection
        if not connection._running or sqlite is None:
            raise ValueError("Connection closed")
        return sqlite

    def _inline(
        self,
        sqlite: sqlite3.Connection,
        fn: Callable[..., T],
        args: tuple[Any, ...],
        read: bool,
        busy_reset: bool,
    ) -> T:
        before = sqlite.in_transaction
        started = time.perf_counter()
        if read:
            self._deadline = started + READ_BUDGET
            self._interrupted = False
            sqlite.set_progress_handler(self._progress, PROGRESS_STEPS)
        try:
            result = fn(sqlite, *args)
        except sqlite3.OperationalError as error:
            moved = (read and self._interrupted) or _is_busy(error)
            # After some errors SQLite rolls the whole transaction back: never retry then.
            if moved and (not before or sqlite.in_transaction):
                raise _Retry from error
            raise
        finally:
            if read:
                sqlite.set_progress_handler(None, 0)
            if busy_reset:
                sqlite.execute("PRAGMA busy_timeout=0")
        if not read:
            elapsed = time.perf_counter() - started
            if elapsed > SLOW and fn is _run:
                logger.warning(
                    "SQLite held the event loop %.0f ms; a heavy write belongs in "
                    "sqlite_driver.in_thread(): %.80s",
                    elapsed * 1000,
                    args[0],
                )
        return result

    def _progress(self) -> int:
        """SQLite's progress handler during an inline read: non-zero interrupts it."""
        if time.perf_counter() < self._deadline:
            return 0
        self._interrupted = True
        return 1

    def _in_thread(self, fn: Callable[..., T], args: tuple[Any, ...]) -> asyncio.Future[T]:
        """Start `fn` in aiosqlite's thread; the (held) mutex is released when it is done."""
        connection = cast(aiosqlite.Connection, self._connection)
        future = asyncio.ensure_future(
            connection._execute(_waiting, connection, self._busy_ms, fn, *args)
        )
        mutex = self._execute_mutex

        def done(finished: asyncio.Future[T]) -> None:
            mutex.release()
            if not finished.cancelled():
                finished.exception()  # retrieved: an abandoned call must not warn

        future.add_done_callback(done)
        return future

    def _held_too_long(self) -> bool:
        """Whether inline work has held the loop for `SLICE` since it was last free."""
        now = time.perf_counter()
        if self._stretch is None:
            self._stretch = now
            asyncio.get_running_loop().call_soon(self._free)
            return False
        return now - self._stretch > SLICE

    def _free(self) -> None:
        """The loop has had control back: a new stretch starts at the next inline call."""
        self._stretch = None

    # --- what SQLAlchemy calls --------------------------------------------------------------

    def commit(self) -> None:
        connection = self._connection._connection
        if not connection:
            return
        # The commit that makes CHECKPOINT_EVERY writes goes to the thread and checkpoints
        # there, right after it, before anyone can open a transaction again.
        checkpoint = self._writes + 1 >= CHECKPOINT_EVERY and connection.in_transaction
        try:
            if checkpoint:
                wrote = await_(self._run(_commit_and_checkpoint, thread=True))
            else:
                wrote = await_(self._run(_commit))
        except Exception as error:  # noqa: BLE001  (mapped as the adapter maps them)
            self._handle_exception(error)
        if checkpoint:
            self._writes = 0
        elif wrote:
            self._writes += 1

    def rollback(self) -> None:
        connection = self._connection._connection
        if not connection:
            return
        # The pool rolls back every connection it takes back: outside a transaction (and
        # with nothing in the thread) that is nothing to do.
        if not self._execute_mutex.locked() and not connection.in_transaction:
            return
        try:
            await_(self._run(_rollback, yields=False))
        except Exception as error:  # noqa: BLE001  (mapped as the adapter maps them)
            self._handle_exception(error)

    @property
    def isolation_level(self) -> str | None:
        return cast(str | None, self._connection.isolation_level)

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        # sqlite3 commits when it is set to None: a call like a commit.
        try:
            await_(self._run(_set_isolation_level, value, yields=False))
        except Exception as error:  # noqa: BLE001  (mapped as the adapter maps them)
            self._handle_exception(error)

    def create_function(self, *args: Any, **kw: Any) -> None:
        def create(sqlite: sqlite3.Connection) -> None:
            sqlite.create_function(*args, **kw)

        try:
            await_(self._run(create, yields=False))
        except Exception as error:  # noqa: BLE001  (mapped as the adapter maps them)
            self._handle_exception(error)

    async def _close(self) -> None:
        """Close through aiosqlite (it stops the thread), once nothing else uses the connection."""
        async with self._execute_mutex:
            await self._connection.close()

    def close(self) -> None:
        try:
            await_(self._close())
        except ValueError:
            pass  # closed twice (older aiosqlite), as the adapter ignores it
        except Exception as error:  # noqa: BLE001  (mapped as the adapter maps them)
            self._handle_exception(error)

    async def _terminate_graceful_close(self) -> None:
        await self._close()


class _Dbapi(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite DBAPI adapter, connecting through `_Connection`."""

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        # Both threads use the connection (one at a time); SQLite's own wait is always 0.
        kw["check_same_thread"] = False
        busy_ms = int(float(kw.get("timeout", 5.0)) * 1000)  # sqlite3's default: 5 s
        kw["timeout"] = 0
        adapted = super().connect(*arg, **kw)
        connection = _Connection(self, adapted._connection, busy_ms)
        try:
            await_(connection._run(_no_automatic_checkpoint, yields=False))
        except Exception as error:  # noqa: BLE001  (mapped as the adapter maps them)
            connection.close()
            connection._handle_exception(error)
        return connection


def module() -> Any:
    """The DBAPI module for `create_async_engine(..., module=module())` on SQLite."""
    return _Dbapi(aiosqlite, sqlite3)
