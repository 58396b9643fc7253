"""Recording events from services, inside the caller's transaction."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mqtt_ca_registry.api.request_context import current_actor, current_request_id
from mqtt_ca_registry.clock import Clock
from mqtt_ca_registry.models import Event


class EventType(StrEnum):
    INSTANCE_CREATED = "instance.created"
    INSTANCE_DELETED = "instance.deleted"
    REGISTRATION_CODE_ISSUED = "registration_code.issued"
    CA_REGISTERED = "ca.registered"
    CA_ACTIVATED = "ca.activated"
    CA_DEACTIVATED = "ca.deactivated"
    CA_DELETED = "ca.deleted"
    DEVICE_AUTO_REGISTERED = "device.auto_registered"
    DEVICE_REGISTERED = "device.registered"
    DEVICE_ACTIVATED = "device.activated"
    DEVICE_DEACTIVATED = "device.deactivated"
    DEVICE_DELETED = "device.deleted"
    AUTHENTICATION_REJECTED = "authentication.rejected"


async def record(
    session: AsyncSession,
    clock: Clock,
    type_: EventType,
    instance_id: str,
    *,
    outcome: str = "success",
    ca_sn: str | None = None,
    device_sn: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add one event to the session; it commits or rolls back with the change it describes."""
    session.add(
        Event(
            instance_id=instance_id,
            type=type_.value,
            occurred_at=clock.now(),
            actor=current_actor(),
            request_id=current_request_id(),
            outcome=outcome,
            ca_sn=ca_sn,
            device_sn=device_sn,
            details=details or {},
        )
    )
