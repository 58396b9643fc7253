"""The database handle an app owns: its engine, its compiled-statement dispatch, its units of
work."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from mqtt_ca_registry.db.dispatch import Dispatch
from mqtt_ca_registry.db.engine import SQLITE_IMMEDIATE, create_engine
from mqtt_ca_registry.db.postgres_pool import POSTGRES_UNAVAILABLE
from mqtt_ca_registry.db.unit_of_work import UnitOfWork


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

    async def open_session(self, *, write: bool) -> AsyncSession:
        """A session for one unit of work (:mod:`.unit_of_work` commits or rolls it back).

        ``write=True`` takes SQLite's write lock when the transaction starts, so concurrent
        writers queue on busy_timeout instead of failing mid-transaction.
        """
        session = self.sessionmaker()
        if write and self.is_sqlite:
            try:
                await session.connection(execution_options={SQLITE_IMMEDIATE: True})
            except BaseException:
                await session.close()
                raise
        return session

    def unit_of_work(self, *, write: bool = False) -> UnitOfWork:
        """A unit of work over this database: ``async with`` it; it commits if the block
        succeeds and rolls back if it raises."""
        return UnitOfWork(self, write=write)

    async def dispose(self) -> None:
        await self.dispatch.close()
        await self.engine.dispose()
