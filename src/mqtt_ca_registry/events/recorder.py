"""What an audit event is: its types, and the values every path records one with."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from mqtt_ca_registry.request_context import current_actor, current_request_id


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


class NewEvent(NamedTuple):
    """The values an event's row is inserted with: every column but its id."""

    instance_id: str
    type: str
    occurred_at: datetime
    actor: str
    request_id: str | None
    outcome: str
    ca_sn: str | None
    device_sn: str | None
    details: dict[str, Any]


def new_event(
    type_: EventType,
    instance_id: str,
    *,
    occurred_at: datetime,
    outcome: str = "success",
    ca_sn: str | None = None,
    device_sn: str | None = None,
    details: dict[str, Any] | None = None,
) -> NewEvent:
    """An audit event of the current request (its actor and request id): the one place an
    event's values are made, for every path that records one."""
    return NewEvent(
        instance_id=instance_id,
        type=type_.value,
        occurred_at=occurred_at,
        actor=current_actor(),
        request_id=current_request_id(),
        outcome=outcome,
        ca_sn=ca_sn,
        device_sn=device_sn,
        details=details or {},
    )
