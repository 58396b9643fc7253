"""Instance rules: ids, editions, and the edition gate every certificate operation passes."""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass

from mqtt_ca_registry.clock import Clock
from mqtt_ca_registry.db.unit_of_work import Work
from mqtt_ca_registry.errors import (
    ConflictError,
    ErrorCode,
    ForbiddenError,
    NotFoundError,
    Remedy,
)
from mqtt_ca_registry.events.recorder import EventType, new_event
from mqtt_ca_registry.events.repository import EventRepository
from mqtt_ca_registry.instances.repository import InstanceRepository
from mqtt_ca_registry.instances.schemas import InstanceCreate
from mqtt_ca_registry.models import Edition, Instance

_ID_ALPHABET = string.ascii_lowercase + string.digits
_CERTIFICATE_EDITIONS = frozenset({Edition.ENTERPRISE_PLATINUM})


def generate_instance_id() -> str:
    """``mqtt-cn-`` and 10 random lowercase letters or digits, like the real service's ids."""
    return "mqtt-cn-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))


def certificates_allowed(edition: str) -> bool:
    """Whether CA and device certificates can be managed on an instance of this edition
    (docs/rules.md: Platinum only). The one statement of that rule."""
    return edition in _CERTIFICATE_EDITIONS


def instance_not_found(instance_id: str) -> NotFoundError:
    return NotFoundError(
        ErrorCode.INSTANCE_NOT_FOUND,
        f"Instance {instance_id!r} does not exist.",
        field="instance_id",
        remedy=Remedy.LIST_INSTANCES,
    )


def check_certificates_allowed(instance_id: str, edition: str) -> None:
    """Raise the documented error unless certificates can be managed on this instance."""
    if not certificates_allowed(edition):
        raise ForbiddenError(
            ErrorCode.INSTANCE_EDITION_NOT_SUPPORTED,
            f"Instance {instance_id!r} is {edition}; CA and device certificates can be managed "
            "only on enterprise_platinum instances (emulator code).",
            field="instance_id",
        )


@dataclass(frozen=True)
class InstancePage:
    """Instances in id order; ``has_more`` when more follow the last one."""

    items: Sequence[Instance]
    total: int
    has_more: bool


class InstanceService:
    def __init__(self, work: Work, clock: Clock) -> None:
        self.instances = InstanceRepository(work)
        self.events = EventRepository(work)
        self.clock = clock

    async def create(self, data: InstanceCreate) -> Instance:
        instance_id = data.instance_id or generate_instance_id()
        if await self.instances.get(instance_id) is not None:
            raise _already_exists(instance_id)
        instance = Instance(
            instance_id=instance_id,
            name=data.name,
            edition=data.edition.value,
            region_id=data.region_id,
            tags=dict(data.tags),
            created_at=self.clock.now(),
        )
        if not await self.instances.add(instance):  # a concurrent create of the same id won
            raise _already_exists(instance_id)
        await self.events.add(
            new_event(
                EventType.INSTANCE_CREATED,
                instance_id,
                occurred_at=self.clock.now(),
                details={"edition": instance.edition, "name": instance.name},
            )
        )
        return instance

    async def get(self, instance_id: str) -> Instance:
        instance = await self.instances.get(instance_id)
        if instance is None:
            raise instance_not_found(instance_id)
        return instance

    async def get_for_certificates(self, instance_id: str) -> Instance:
        """The instance, if certificates can be managed on it."""
        instance = await self.get(instance_id)
        check_certificates_allowed(instance_id, instance.edition)
        return instance

    async def list(self, *, after: str | None, limit: int) -> InstancePage:
        """A page of instances in id order, after the id ``after`` (None: from the first)."""
        rows = await self.instances.page(after=after, limit=limit + 1)
        total = await self.instances.count()
        return InstancePage(items=rows[:limit], total=total, has_more=len(rows) > limit)

    async def all(self) -> Sequence[Instance]:
        """Every instance, in id order (ListInstances has no pagination)."""
        return await self.instances.all()

    async def delete(self, instance_id: str) -> None:
        await self.get(instance_id)
        await self.instances.delete(instance_id)
        await self.events.add(
            new_event(EventType.INSTANCE_DELETED, instance_id, occurred_at=self.clock.now())
        )


def _already_exists(instance_id: str) -> ConflictError:
    return ConflictError(
        ErrorCode.INSTANCE_ALREADY_EXISTS,
        f"Instance {instance_id!r} already exists; choose another instance_id or omit it.",
        field="instance_id",
    )
