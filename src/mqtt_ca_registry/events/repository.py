"""All SQL about events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mqtt_ca_registry.models import Event


class EventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _filtered(
        self,
        instance_id: str,
        types: Sequence[str],
        since: datetime | None,
        until: datetime | None,
    ) -> Any:
        query = select(Event).where(Event.instance_id == instance_id)
        if types:
            query = query.where(Event.type.in_(types))
        if since is not None:
            query = query.where(Event.occurred_at >= since)
        if until is not None:
            query = query.where(Event.occurred_at < until)
        return query

    async def page(
        self,
        instance_id: str,
        *,
        types: Sequence[str],
        since: datetime | None,
        until: datetime | None,
        before_id: int | None,
        limit: int,
    ) -> Sequence[Event]:
        """Newest first; ``before_id`` continues after the previous page's last event."""
        query = self._filtered(instance_id, types, since, until)
        if before_id is not None:
            query = query.where(Event.id < before_id)
        query = query.order_by(Event.id.desc()).limit(limit)
        return (await self.session.scalars(query)).all()

    async def count(
        self,
        instance_id: str,
        *,
        types: Sequence[str],
        since: datetime | None,
        until: datetime | None,
    ) -> int:
        inner = self._filtered(instance_id, types, since, until).with_only_columns(Event.id)
        return (await self.session.scalar(select(func.count()).select_from(inner.subquery()))) or 0

    async def any_for(self, instance_id: str) -> bool:
        found = await self.session.scalar(
            select(Event.id).where(Event.instance_id == instance_id).limit(1)
        )
        return found is not None
