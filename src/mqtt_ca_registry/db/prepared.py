"""Statements compiled once, run in one driver round trip: the authenticate hot path.

A statement built with SQLAlchemy Core is compiled once per dialect (SQL text, positional
parameter order, the column types' bind and result conversions). Each call then costs one
driver round trip, and the ORM session, statement cache-key generation, result objects and the
pool's checkout, ping and reset, which cost several times the query itself, are skipped
(bench/, item 1).

Where the statements run, per database (:class:`HotPath`, one per :class:`Database`):

* **SQLite**: two connections of the process's own, each on its own thread (:class:`SqliteThread`):
  a reader (``query_only``) and a writer. The event loop never runs SQLite: a call is one hop to
  that thread and back, however many statements it holds, and a wait for the database's lock
  (``busy_timeout``) blocks only that thread. In-process writers queue on the writer thread
  instead of polling SQLite's lock against each other, and the writes queued at the same time
  commit together.
* **PostgreSQL**: a small asyncpg pool of its own (the engine's pool pings on every checkout and
  wraps each statement in BEGIN/COMMIT: three round trips for one).

Driver errors come out as SQLAlchemy's, so the front ends answer as for any other query:
``IntegrityError`` for a constraint, ``OperationalError`` (503) when the database is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
import asyncpg.exceptions as _pg  # type: ignore[import-untyped]
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from mqtt_ca_registry.db.engine import SQLITE_BUSY_TIMEOUT_MS

Row = tuple[Any, ...]
T = TypeVar("T")
_Convert = Callable[[Any], Any] | None


class Prepared:
    """One Core statement compiled for one dialect, with its value conversions."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.sql = str(compiled)
        binds = compiled.binds
        self._params: list[tuple[str, _Convert]] = [
            (name, binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in (compiled.positiontup or [])
        ]
        columns = getattr(statement, "exported_columns", ())
        self._results: list[_Convert] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ]

    def arguments(self, values: dict[str, Any]) -> list[Any]:
        return [
            convert(values[name]) if convert is not None else values[name]
            for name, convert in self._params
        ]

    def row(self, raw: Sequence[Any]) -> Row:
        if not self._results:
            return tuple(raw)
        return tuple(
            convert(value) if convert is not None else value
            for convert, value in zip(self._results, raw, strict=True)
        )


class StatementSet:
    """Statements built once per dialect by ``build(dialect)`` and kept for the process."""

    def __init__(self, build: Callable[[Dialect], dict[str, ClauseElement]]) -> None:
        self._build = build
        self._by_dialect: dict[str, dict[str, Prepared]] = {}

    def for_dialect(self, dialect: Dialect) -> dict[str, Prepared]:
        prepared = self._by_dialect.get(dialect.name)
        if prepared is None:
            prepared = {k: Prepared(v, dialect) for k, v in self._build(dialect).items()}
            self._by_dialect[dialect.name] = prepared
        return prepared


class SqliteSteps:
    """Statements run back to back on a SQLite connection, on its thread (see ``SqliteThread``)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def fetch(self, statement: Prepared, **values: Any) -> list[Row]:
        cursor = self.connection.execute(statement.sql, statement.arguments(values))
        return [statement.row(r) for r in cursor.fetchall()]

    def fetch_one(self, statement: Prepared, **values: Any) -> Row | None:
        rows = self.fetch(statement, **values)
        return rows[0] if rows else None


class SqliteThread:
    """One SQLite connection living on one thread of its own; ``call`` is one hop there.

    Calls queue up; the thread takes every call waiting, runs them in order and hands all the
    results back to the event loop at once. Under load that is one thread switch, and one
    wake-up of the loop, for many calls: each switch costs far more (the GIL changing hands)
    than the few microseconds SQLite takes for a statement.
    """

    def __init__(self, path: str, pragmas: Sequence[str], name: str) -> None:
        self._path = path
        self._pragmas = pragmas
        self._name = name
        self._connection: sqlite3.Connection | None = None
        self._jobs: deque[_Job] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._flushing: set[asyncio.AbstractEventLoop] = set()
        self._closing = False

    async def call(self, work: Callable[[SqliteSteps], T], *, transaction: bool = False) -> T:
        """Run ``work`` on the thread. With ``transaction``, it runs in a savepoint of its own
        inside a write transaction that the writes queued beside it share (group commit), and
        returns once that transaction has committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        with self._lock:
            if self._closing:
                raise OperationalError(None, None, sqlite3.ProgrammingError("database closed"))
            self._jobs.append(_Job(work, transaction, future, loop))
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
                self._thread.start()
            if loop not in self._flushing:
                # Wake the thread once per turn of the event loop, not once per call: the
                # calls queued in this turn then go to the thread as one batch.
                self._flushing.add(loop)
                loop.call_soon(self._flush, loop)
        try:
            result: T = await future
        except sqlite3.IntegrityError as error:
            raise IntegrityError(None, None, error) from error
        except sqlite3.Error as error:  # locked past busy_timeout, I/O error, file gone
            raise OperationalError(None, None, error) from error
        return result

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            self._flushing.discard(loop)
            self._wake.notify()

    def _serve(self) -> None:
        while True:
            with self._lock:
                while not self._jobs and not self._closing:
                    self._wake.wait()
                batch = list(self._jobs)
                self._jobs.clear()
            if not batch:  # closing, and nothing left to do
                if self._connection is not None:
                    self._connection.close()
                    self._connection = None
                return
            reads = [job for job in batch if not job.transaction]
            writes = [job for job in batch if job.transaction]
            outcomes = [self._outcome(job, self._run_read) for job in reads]
            if writes:
                outcomes += self._run_writes(writes)
            by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
            for job, outcome in zip(reads + writes, outcomes, strict=True):
                by_loop.setdefault(job.loop, []).append(outcome)
            for loop, delivered in by_loop.items():
                with contextlib.suppress(RuntimeError):  # that loop has closed: nobody waits
                    loop.call_soon_threadsafe(_deliver, delivered)

    def _open(self) -> sqlite3.Connection:
        connection = self._connection
        if connection is None:
            connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            for pragma in self._pragmas:
                connection.execute(pragma)
            self._connection = connection
        return connection

    @staticmethod
    def _outcome(job: _Job, run: Callable[[_Job], Any]) -> _Outcome:
        try:
            return (job.future, True, run(job))
        except Exception as error:  # delivered to the caller, raised there
            return (job.future, False, error)

    def _run_read(self, job: _Job) -> Any:
        return job.work(SqliteSteps(self._open()))

    def _run_writes(self, jobs: list[_Job]) -> list[_Outcome]:
        """Every queued write in one transaction (group commit), each in a savepoint of its own.

        A write that fails is rolled back to its savepoint alone; the others commit. Results
        are handed back only after COMMIT, so a caller never sees a write that did not last; if
        BEGIN or COMMIT fails, every write of the group gets that error and none is kept.
        """
        try:
            connection = self._open()
            connection.execute("BEGIN IMMEDIATE")
        except Exception as error:
            return [(job.future, False, error) for job in jobs]
        steps = SqliteSteps(connection)
        outcomes: list[_Outcome] = []
        try:
            for job in jobs:
                connection.execute("SAVEPOINT job")
                try:
                    outcomes.append((job.future, True, job.work(steps)))
                except Exception as error:
                    connection.execute("ROLLBACK TO job")
                    outcomes.append((job.future, False, error))
                connection.execute("RELEASE job")
            connection.execute("COMMIT")
        except Exception as error:
            with contextlib.suppress(sqlite3.Error):
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
            return [(job.future, False, error) for job in jobs]
        return outcomes

    async def close(self) -> None:
        """Finish the calls already queued, close the connection and end the thread."""
        with self._lock:
            self._closing = True
            thread = self._thread
            self._wake.notify()
        if thread is not None:
            await asyncio.get_running_loop().run_in_executor(None, thread.join)


_Outcome = tuple["asyncio.Future[Any]", bool, Any]  # the caller's future, ok?, value or error


@dataclass(frozen=True)
class _Job:
    work: Callable[[SqliteSteps], Any]
    transaction: bool
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


def _deliver(outcomes: list[_Outcome]) -> None:
    for future, ok, value in outcomes:
        if future.done():  # the caller was cancelled
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


# asyncpg's errors that mean "the database cannot serve us now": 503, not a bug of ours.
POSTGRES_UNAVAILABLE = (
    _pg.PostgresConnectionError,  # class 08: connection exceptions
    _pg.InterfaceError,  # the connection is closed or broken
    _pg.OperatorInterventionError,  # class 57: shutting down, cannot connect now
    _pg.InsufficientResourcesError,  # class 53: too many connections, out of memory or disk
    _pg.InvalidCatalogNameError,  # the database was dropped
    OSError,
    TimeoutError,
)
# Each call holds a connection for one round trip: a few serve a worker at full load and keep
# the total (this plus the engine's pool, per worker) well inside max_connections.
POSTGRES_POOL_SIZE = 5


async def _keep_session(connection: Any) -> None:
    """Pool release without asyncpg's reset round trip (unlock advisory locks, UNLISTEN, RESET
    ALL): the hot path's statements take no lock, listen to nothing and set nothing."""


class PostgresPool:
    """The hot path's asyncpg pool (created on first use, on the loop that uses it)."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._pool: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _get(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._pool is not None and self._loop is loop:
            return self._pool
        pool = await asyncpg.create_pool(
            self._dsn, min_size=0, max_size=POSTGRES_POOL_SIZE, reset=_keep_session
        )
        if self._pool is not None and self._loop is loop:  # another call made one meanwhile
            await pool.close()
            return self._pool
        if self._pool is not None:  # made on another (finished) loop: unusable on this one
            self._pool.terminate()
        self._pool, self._loop = pool, loop
        return pool

    async def fetch(self, statement: Prepared, **values: Any) -> list[Row]:
        try:
            pool = await self._get()
            async with pool.acquire() as connection:
                raw = await connection.fetch(statement.sql, *statement.arguments(values))
        except _pg.IntegrityConstraintViolationError as error:
            raise IntegrityError(None, None, error) from error
        except POSTGRES_UNAVAILABLE as error:
            raise OperationalError(None, None, error) from error
        return [statement.row(r) for r in raw]

    async def fetch_one(self, statement: Prepared, **values: Any) -> Row | None:
        rows = await self.fetch(statement, **values)
        return rows[0] if rows else None

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            if self._loop is asyncio.get_running_loop():
                await pool.close()
            else:
                pool.terminate()


class HotPath:
    """Where one :class:`Database`'s hot-path statements run (see the module docstring)."""

    def __init__(self, database_url: str, dialect: Dialect) -> None:
        self.dialect = dialect
        url = make_url(database_url)
        self.sqlite_reader: SqliteThread | None = None
        self.sqlite_writer: SqliteThread | None = None
        self.postgres: PostgresPool | None = None
        if dialect.name == "sqlite":
            path = str(url.database or "")
            self.sqlite_reader = SqliteThread(path, ("PRAGMA query_only=ON",), "sqlite-reader")
            self.sqlite_writer = SqliteThread(
                path, ("PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL"), "sqlite-writer"
            )
        else:
            plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
            self.postgres = PostgresPool(plain)

    async def read(self, statement: Prepared, **values: Any) -> list[Row]:
        """One read statement, outside any transaction."""
        if self.sqlite_reader is not None:
            return await self.sqlite_reader.call(lambda steps: steps.fetch(statement, **values))
        assert self.postgres is not None
        return await self.postgres.fetch(statement, **values)

    async def read_one(self, statement: Prepared, **values: Any) -> Row | None:
        rows = await self.read(statement, **values)
        return rows[0] if rows else None

    async def write(self, statement: Prepared, **values: Any) -> list[Row]:
        """One write statement, committed on its own."""
        if self.sqlite_writer is not None:
            return await self.sqlite_writer.call(
                lambda steps: steps.fetch(statement, **values), transaction=True
            )
        assert self.postgres is not None
        return await self.postgres.fetch(statement, **values)

    async def close(self) -> None:
        for thread in (self.sqlite_reader, self.sqlite_writer):
            if thread is not None:
                await thread.close()
        if self.postgres is not None:
            await self.postgres.close()
