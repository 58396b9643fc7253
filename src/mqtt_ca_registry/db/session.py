"""The database handle an app owns, and the per-request session dependencies."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from mqtt_ca_registry.db.dispatch import Dispatch
from mqtt_ca_registry.db.engine import SQLITE_IMMEDIATE, create_engine
from mqtt_ca_registry.db.postgres_pool import POSTGRES_UNAVAILABLE


def is_database_unavailable(error: BaseException) -> bool:
    """True for failures that mean "cannot reach the database now", not a bug of ours."""
    if isinstance(error, OperationalError):
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        # The driver's own error, as SQLAlchemy's asyncpg adapter chains it (e.g. the database
        # was dropped: InvalidCatalogNameError arrives as a plain DBAPIError).
        cause: BaseException | None = error.orig
        for _ in range(3):
            if cause is None:
                break
            if isinstance(cause, POSTGRES_UNAVAILABLE):
                return True
            cause = cause.__cause__
        return False
    return isinstance(error, OSError | TimeoutError)


class Database:
    """An engine and its session factory. One per app (and so one per worker process)."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.engine: AsyncEngine = create_engine(database_url)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # Where compiled statements run: the authenticate hot path's own connections.
        self.dispatch = Dispatch(database_url, self.engine.dialect)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def session(self, *, write: bool = False) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits if the block succeeds, rolls back if it raises.

        ``write=True`` takes SQLite's write lock when the transaction starts, so concurrent
        writers queue on busy_timeout instead of failing mid-transaction.
        """
        async with self.sessionmaker() as session:
            if write and self.is_sqlite:
                await session.connection(execution_options={SQLITE_IMMEDIATE: True})
            try:
                yield session
                await session.commit()
            except BaseException:
                # On a dead connection the rollback fails too; the original error is the news.
                with contextlib.suppress(Exception):
                    await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.dispatch.close()
        await self.engine.dispose()


def database_of(request: Request) -> Database:
    db: Database = request.app.state.database
    return db


# Dependencies are ``async def``: FastAPI runs a plain ``def`` one on a worker thread, a hop that
# costs more than what it does.
async def get_database(request: Request) -> Database:
    return database_of(request)


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with database_of(request).session() as session:
        yield session


async def _write_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with database_of(request).session(write=True) as session:
        yield session


# scope="function": commit before the response is sent, so a failed commit is what the client
# sees; a 2xx always means the change is durable.
ReadSessionDep = Annotated[AsyncSession, Depends(_read_session, scope="function")]
WriteSessionDep = Annotated[AsyncSession, Depends(_write_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(get_database)]
