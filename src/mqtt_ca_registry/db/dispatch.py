"""Where a compiled statement runs: SQLite's threads, or PostgreSQL's asyncpg pool.

* **SQLite**: two connections of the process's own, each on its own thread
  (:mod:`.sqlite_threads`): a reader (``query_only``) and the writer.
* **PostgreSQL**: a small asyncpg pool of its own (:mod:`.postgres_pool`).
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.engine import Dialect, make_url

from mqtt_ca_registry.db.postgres_pool import PostgresPool
from mqtt_ca_registry.db.sqlite_threads import SqliteThread
from mqtt_ca_registry.db.statements import Prepared

R = TypeVar("R", bound=tuple[Any, ...])


class Dispatch:
    """Where one :class:`Database`'s compiled statements run (see the module docstring)."""

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

    async def read(self, statement: Prepared[R], **values: Any) -> list[R]:
        """One read statement, outside any transaction."""
        if self.sqlite_reader is not None:
            return await self.sqlite_reader.call(lambda steps: steps.fetch(statement, **values))
        assert self.postgres is not None
        return await self.postgres.fetch(statement, **values)

    async def read_one(self, statement: Prepared[R], **values: Any) -> R | None:
        rows = await self.read(statement, **values)
        return rows[0] if rows else None

    async def write(self, statement: Prepared[R], **values: Any) -> list[R]:
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
