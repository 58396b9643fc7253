"""All SQL about events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mqtt_ca_registry.db.unit_of_work import Repository, query
from mqtt_ca_registry.events.recorder import NewEvent
from mqtt_ca_registry.models import Event


def _filtered(
    instance_id: str, types: Sequence[str], since: datetime | None, until: datetime | None
) -> Any:
    statement = select(Event).where(Event.instance_id == instance_id)
    if types:
        statement = statement.where(Event.type.in_(types))
    if since is not None:
        statement = statement.where(Event.occurred_at >= since)
    if until is not None:
        statement = statement.where(Event.occurred_at < until)
    return statement


class EventRepository(Repository):
    @query
    def add(self, session: Session, event: NewEvent) -> None:
        """Record an event in the unit of work: it commits or rolls back with the change."""
        session.add(Event(**event._asdict()))

    @query
    def page(
        self,
        session: Session,
        instance_id: str,
        *,
        types: Sequence[str],
        since: datetime | None,
        until: datetime | None,
        before_id: int | None,
        limit: int,
    ) -> Sequence[Event]:
        """Newest first; ``before_id`` continues after the previous page's last event."""
        statement = _filtered(instance_id, types, since, until)
        if before_id is not None:
            statement = statement.where(Event.id < before_id)
        statement = statement.order_by(Event.id.desc()).limit(limit)
        return session.scalars(statement).all()

    @query
    def count(
        self,
        session: Session,
        instance_id: str,
        *,
        types: Sequence[str],
        since: datetime | None,
        until: datetime | None,
    ) -> int:
        inner = _filtered(instance_id, types, since, until).with_only_columns(Event.id)
        return session.scalar(select(func.count()).select_from(inner.subquery())) or 0

    @query
    def any_for(self, session: Session, instance_id: str) -> bool:
        found = session.scalar(select(Event.id).where(Event.instance_id == instance_id).limit(1))
        return found is not None
