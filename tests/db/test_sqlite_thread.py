"""The hot path's SQLite threads: off the event loop, and group commit that isolates failures."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from mqtt_ca_registry.db.sqlite_threads import SqliteSteps, SqliteThread


@pytest.fixture
def path(tmp_path: Path) -> str:
    file = tmp_path / "hot.db"
    with sqlite3.connect(file) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT)")
        connection.execute("INSERT INTO t VALUES (7, 'already here')")
    return str(file)


def _rows(path: str) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as connection:
        return list(connection.execute("SELECT id, note FROM t ORDER BY id"))


async def test_work_runs_on_its_own_thread_not_the_loop(path: str) -> None:
    thread = SqliteThread(path, (), "test-reader")
    try:

        def where(steps: SqliteSteps) -> tuple[int, int]:
            count = steps.connection.execute("SELECT count(*) FROM t").fetchone()[0]
            return threading.get_ident(), count

        ident, count = await thread.call(where)
        assert ident != threading.get_ident()
        assert count == 1
    finally:
        await thread.close()


async def test_writes_queued_together_commit_together_and_a_failure_stays_alone(
    path: str,
) -> None:
    writer = SqliteThread(path, ("PRAGMA foreign_keys=ON",), "test-writer")

    def insert(n: int) -> object:
        def work(steps: SqliteSteps) -> int:
            steps.connection.execute("INSERT INTO t VALUES (?, ?)", (n, f"row {n}"))
            return n

        return work

    try:
        # 1..12 at once: 7 collides with the existing row; every other write must last.
        outcomes = await asyncio.gather(
            *(writer.call(insert(n), transaction=True) for n in range(1, 13)),  # type: ignore[arg-type]
            return_exceptions=True,
        )
    finally:
        await writer.close()
    assert [o for o in outcomes if not isinstance(o, BaseException)] == [
        n for n in range(1, 13) if n != 7
    ]
    assert isinstance(outcomes[6], IntegrityError)
    assert _rows(path) == [(n, "already here" if n == 7 else f"row {n}") for n in range(1, 13)]


async def test_a_write_that_raises_leaves_nothing_behind(path: str) -> None:
    writer = SqliteThread(path, (), "test-writer")

    def half_done(steps: SqliteSteps) -> None:
        steps.connection.execute("INSERT INTO t VALUES (1, 'half')")
        raise ValueError("changed my mind")

    try:
        with pytest.raises(ValueError, match="changed my mind"):
            await writer.call(half_done, transaction=True)
    finally:
        await writer.close()
    assert _rows(path) == [(7, "already here")]


async def test_a_missing_database_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    thread = SqliteThread(str(tmp_path / "no" / "such" / "dir.db"), (), "test-reader")
    try:
        with pytest.raises(OperationalError):
            await thread.call(lambda steps: steps.connection.execute("SELECT 1").fetchall())
    finally:
        await thread.close()


async def test_closed_thread_refuses_new_calls(path: str) -> None:
    thread = SqliteThread(path, (), "test-reader")
    await thread.call(lambda steps: None)
    await thread.close()
    with pytest.raises(OperationalError):
        await thread.call(lambda steps: None)
