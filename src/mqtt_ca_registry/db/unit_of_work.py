"""A unit of work: the one transaction a service's repository calls share.

Services never open sessions or run SQL: a front end opens a unit of work (through
:class:`mqtt_ca_registry.backend.Backend`), the services it builds over it call repositories,
and the unit commits when the front end's block ends without an error, or rolls back.

A repository method is a plain synchronous SQLAlchemy function of a :class:`Session`, marked
with :func:`query`: each call is one :meth:`UnitOfWork.run`, run where the connection lives
(on PostgreSQL through ``AsyncSession.run_sync``).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from mqtt_ca_registry.db.session import Database

T = TypeVar("T")
P = ParamSpec("P")


class Work(Protocol):
    """Runs a function of a SQLAlchemy session inside one transaction."""

    async def run(self, work: Callable[[Session], T]) -> T: ...


class Repository:
    """Base of the repositories: the statements of one table (or two), over a unit of work."""

    def __init__(self, work: Work) -> None:
        self.work = work


R = TypeVar("R", bound=Repository)


def query(
    method: Callable[Concatenate[R, Session, P], T],
) -> Callable[Concatenate[R, P], Awaitable[T]]:
    """Make a repository method of a session an awaitable of its arguments (one
    :meth:`Work.run`)."""

    @functools.wraps(method)
    async def run(self: R, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.work.run(lambda session: method(self, session, *args, **kwargs))

    return run


class UnitOfWork:
    """One transaction, begun at the first repository call (a unit never used costs nothing)."""

    def __init__(self, database: Database, *, write: bool) -> None:
        self._database = database
        self._write = write
        self._session: AsyncSession | None = None

    async def run(self, work: Callable[[Session], T]) -> T:
        if self._session is None:
            self._session = await self._database.open_session(write=self._write)
        return await self._session.run_sync(work)

    async def __aenter__(self) -> UnitOfWork:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:
            if kind is None:
                await session.commit()
            else:
                # On a dead connection the rollback fails too; the original error is the news.
                with contextlib.suppress(Exception):
                    await session.rollback()
        finally:
            await session.close()
