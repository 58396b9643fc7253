"""Instance rules: ids, editions, and the edition gate every certificate operation passes."""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mqtt_ca_registry.api.pagination import Page, decode_cursor, encode_cursor
from mqtt_ca_registry.ca_certificates.repository import CaRepository
from mqtt_ca_registry.clock import Clock
from mqtt_ca_registry.errors import (
    ConflictError,
    ErrorCode,
    ForbiddenError,
    NotFoundError,
    Remedy,
)
from mqtt_ca_registry.events.recorder import EventType, record
from mqtt_ca_registry.instances.repository import InstanceRepository
from mqtt_ca_registry.instances.schemas import InstanceCreate, InstanceOut
from mqtt_ca_registry.models import Edition, Instance

_ID_ALPHABET = string.ascii_lowercase + string.digits
CERTIFICATE_EDITIONS = frozenset({Edition.ENTERPRISE_PLATINUM})


def generate_instance_id() -> str:
    """``mqtt-cn-`` and 10 random lowercase letters or digits, like the real service's ids."""
    return "mqtt-cn-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))


def to_out(instance: Instance) -> InstanceOut:
    edition = Edition(instance.edition)
    return InstanceOut(
        instance_id=instance.instance_id,
        name=instance.name,
        edition=edition,
        instance_type=edition.instance_type,
        region_id=instance.region_id,
        tags=dict(instance.tags or {}),
        created_at=instance.created_at,
    )


@dataclass
class InstanceService:
    session: AsyncSession
    clock: Clock

    @property
    def repository(self) -> InstanceRepository:
        return InstanceRepository(self.session)

    async def create(self, data: InstanceCreate) -> Instance:
        instance_id = data.instance_id or generate_instance_id()
        if await self.repository.get(instance_id) is not None:
            raise _already_exists(instance_id)
        instance = Instance(
            instance_id=instance_id,
            name=data.name,
            edition=data.edition.value,
            region_id=data.region_id,
            tags=dict(data.tags),
            created_at=self.clock.now(),
        )
        try:
            async with self.session.begin_nested():
                await self.repository.add(instance)
        except IntegrityError as exc:  # a concurrent create of the same id won
            raise _already_exists(instance_id) from exc
        await record(
            self.session,
            self.clock,
            EventType.INSTANCE_CREATED,
            instance_id,
            details={"edition": instance.edition, "name": instance.name},
        )
        return instance

    async def get(self, instance_id: str) -> Instance:
        instance = await self.repository.get(instance_id)
        if instance is None:
            raise NotFoundError(
                ErrorCode.INSTANCE_NOT_FOUND,
                f"Instance {instance_id!r} does not exist.",
                field="instance_id",
                remedy=Remedy.LIST_INSTANCES,
            )
        return instance

    async def get_for_certificates(self, instance_id: str) -> Instance:
        """The instance, if certificates can be managed on it (docs/rules.md: Platinum only)."""
        instance = await self.get(instance_id)
        if instance.edition not in CERTIFICATE_EDITIONS:
            raise ForbiddenError(
                ErrorCode.INSTANCE_EDITION_NOT_SUPPORTED,
                f"Instance {instance_id!r} is {instance.edition}; CA and device certificates can "
                "be managed only on enterprise_platinum instances (emulator code).",
                field="instance_id",
            )
        return instance

    async def list(self, *, page_size: int, cursor: str | None) -> Page[InstanceOut]:
        after = decode_cursor(cursor, "instances")
        if after is not None and not isinstance(after, str):
            after = str(after)
        rows = await self.repository.page(after=after, limit=page_size + 1)
        items = [to_out(i) for i in rows[:page_size]]
        next_cursor = (
            encode_cursor("instances", items[-1].instance_id) if len(rows) > page_size else None
        )
        return Page(items=items, next_cursor=next_cursor, total=await self.repository.count())

    async def all(self) -> Sequence[Instance]:
        """Every instance, in id order (ListInstances has no pagination)."""
        return await self.repository.all()

    async def delete(self, instance_id: str) -> None:
        await self.get(instance_id)
        bound = await self.repository.delete(instance_id)
        await CaRepository(self.session).delete_certificates_if_unbound(bound)
        await record(self.session, self.clock, EventType.INSTANCE_DELETED, instance_id)


def _already_exists(instance_id: str) -> ConflictError:
    return ConflictError(
        ErrorCode.INSTANCE_ALREADY_EXISTS,
        f"Instance {instance_id!r} already exists; choose another instance_id or omit it.",
        field="instance_id",
    )
