"""The PostgreSQL connections of compiled statements: a small asyncpg pool of their own.

SQLAlchemy's pool pings on every checkout and wraps each statement in BEGIN/COMMIT: three round
trips for one. Here a statement is one round trip.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
import asyncpg.exceptions as _pg  # type: ignore[import-untyped]
from sqlalchemy.exc import IntegrityError, OperationalError

from mqtt_ca_registry.db.statements import Prepared

R = TypeVar("R", bound=tuple[Any, ...])


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


async def _json_codecs(connection: Any) -> None:
    """JSON columns as SQLAlchemy's asyncpg dialect sets them up: its bind processor sends
    JSON text, and the driver decodes what it reads (the dialect has no result processor)."""
    for type_name in ("json", "jsonb"):
        await connection.set_type_codec(
            type_name, encoder=str, decoder=json.loads, schema="pg_catalog", format="text"
        )


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
            self._dsn,
            min_size=0,
            max_size=POSTGRES_POOL_SIZE,
            init=_json_codecs,
            reset=_keep_session,
        )
        if self._pool is not None and self._loop is loop:  # another call made one meanwhile
            await pool.close()
            return self._pool
        if self._pool is not None:  # made on another (finished) loop: unusable on this one
            self._pool.terminate()
        self._pool, self._loop = pool, loop
        return pool

    async def fetch(self, statement: Prepared[R], **values: Any) -> list[R]:
        try:
            pool = await self._get()
            async with pool.acquire() as connection:
                raw = await connection.fetch(statement.sql, *statement.arguments(values))
        except _pg.IntegrityConstraintViolationError as error:
            raise IntegrityError(None, None, error) from error
        except POSTGRES_UNAVAILABLE as error:
            raise OperationalError(None, None, error) from error
        return [statement.row(r) for r in raw]

    async def fetch_one(self, statement: Prepared[R], **values: Any) -> R | None:
        rows = await self.fetch(statement, **values)
        return rows[0] if rows else None

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            if self._loop is asyncio.get_running_loop():
                await pool.close()
            else:
                pool.terminate()
