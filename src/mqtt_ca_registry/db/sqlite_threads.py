"""SQLite connections that live on threads of their own, so the event loop never runs SQLite.

Each :class:`SqliteThread` owns one ``sqlite3`` connection; a call is one hop to that thread and
back, however many statements it holds, and a wait for the database's lock (``busy_timeout``)
blocks only that thread. Calls queue up, and the thread takes every call waiting at once: under
load that is one thread switch and one wake-up of the event loop for many calls. On the writer,
the writes queued together commit together (group commit), each in a savepoint of its own.

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

from sqlalchemy.exc import IntegrityError, OperationalError

from mqtt_ca_registry.db.engine import SQLITE_BUSY_TIMEOUT_MS
from mqtt_ca_registry.db.statements import Prepared

R = TypeVar("R", bound=tuple[Any, ...])
T = TypeVar("T")


class SqliteSteps:
    """Statements run back to back on a SQLite connection, on its thread (see ``SqliteThread``)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def fetch(self, statement: Prepared[R], **values: Any) -> list[R]:
        cursor = self.connection.execute(statement.sql, statement.arguments(values))
        return [statement.row(r) for r in cursor.fetchall()]

    def fetch_one(self, statement: Prepared[R], **values: Any) -> R | None:
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
