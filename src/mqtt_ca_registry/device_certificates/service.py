"""Device lifecycle and queries (docs/rules.md "Device lifecycle")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mqtt_ca_registry.ca_certificates.repository import CaRepository
from mqtt_ca_registry.ca_certificates.service import ca_not_found
from mqtt_ca_registry.clock import Clock
from mqtt_ca_registry.db.session import Database
from mqtt_ca_registry.device_certificates.connect_repository import ConnectRepository
from mqtt_ca_registry.device_certificates.repository import DeviceRepository, DeviceRow
from mqtt_ca_registry.device_certificates.schemas import DeviceDetail, DeviceOut
from mqtt_ca_registry.errors import (
    ConflictError,
    DomainError,
    ErrorCode,
    NotFoundError,
    Remedy,
)
from mqtt_ca_registry.events.recorder import EventType, record
from mqtt_ca_registry.instances.service import CERTIFICATE_EDITIONS, InstanceService
from mqtt_ca_registry.models import CaBinding, CaBindingStatus
from mqtt_ca_registry.pki.serials import canonical_sn


def device_out(row: DeviceRow) -> DeviceOut:
    return DeviceOut(**_device_fields(row))


def device_detail_out(row: DeviceRow, pem: str) -> DeviceDetail:
    return DeviceDetail(**_device_fields(row), certificate_pem=pem)


def _device_fields(row: DeviceRow) -> dict[str, Any]:
    return dict(
        device_sn=row.device_sn,
        ca_sn=row.ca_sn,
        device_name=row.device_name,
        status=row.status,
        fingerprint_sha256=row.fingerprint_sha256,
        subject=row.subject,
        not_before=row.not_before,
        not_after=row.not_after,
        registered_at=row.registered_at,
        last_authenticated_at=row.last_authenticated_at,
        instance_id=row.instance_id,
    )


async def device_detail(
    database: Database, clock: Clock, instance_id: str, ca_sn: str, device_sn: str
) -> tuple[DeviceRow, str]:
    """One device and its PEM: a single statement when it exists (the common case, and the
    describe call load tests make); otherwise the service's checks raise the documented error."""
    try:
        sns = canonical_sn(ca_sn, field="ca_sn"), canonical_sn(device_sn, field="device_sn")
    except DomainError:
        sns = None
    if sns is not None:
        found = await ConnectRepository(database.dispatch).detail(instance_id, *sns)
        if found is not None and found.edition in CERTIFICATE_EDITIONS:
            return found.device, found.certificate_pem
    async with database.session() as session:
        service = DeviceService(session, clock)
        row = await service.get(instance_id, ca_sn, device_sn)
        return row, await service.devices.pem(row.id)


@dataclass(frozen=True)
class DevicePage:
    items: list[DeviceRow]
    total: int
    has_more: bool


@dataclass
class DeviceService:
    session: AsyncSession
    clock: Clock

    @property
    def devices(self) -> DeviceRepository:
        return DeviceRepository(self.session)

    async def binding(self, instance_id: str, ca_sn: str) -> CaBinding:
        await InstanceService(self.session, self.clock).get_for_certificates(instance_id)
        sn = canonical_sn(ca_sn, field="ca_sn")
        found = await CaRepository(self.session).get_binding(instance_id, sn)
        if found is None:
            raise ca_not_found(instance_id, ca_sn, field="ca_sn")
        return found.binding

    async def get(self, instance_id: str, ca_sn: str, device_sn: str) -> DeviceRow:
        binding = await self.binding(instance_id, ca_sn)
        sn = canonical_sn(device_sn, field="device_sn")
        row = await self.devices.get(binding.id, sn)
        if row is None:
            raise _device_not_found(instance_id, binding.ca_sn, device_sn)
        return row

    async def list(
        self,
        instance_id: str,
        *,
        ca_sn: str | None = None,
        status: str | None = None,
        after_id: int | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> DevicePage:
        """Devices of an instance, or of one CA on it, in registration order."""
        binding_id: int | None = None
        scope_instance: str | None = None
        if ca_sn is not None:
            binding_id = (await self.binding(instance_id, ca_sn)).id
        else:
            await InstanceService(self.session, self.clock).get_for_certificates(instance_id)
            scope_instance = instance_id
        if offset and status is None and after_id is None:
            # PageNo/PageSize: count first, so a deep page is read from the nearer end.
            total = await self.devices.count(instance_id=scope_instance, binding_id=binding_id)
            rows = await self.devices.page_at_offset(
                instance_id=scope_instance,
                binding_id=binding_id,
                offset=offset,
                limit=limit,
                total=total,
            )
            return DevicePage(items=rows, total=total, has_more=offset + len(rows) < total)
        rows = await self.devices.page(
            instance_id=scope_instance,
            binding_id=binding_id,
            status=status,
            after_id=after_id,
            limit=limit + 1,
            offset=offset,
        )
        total = await self.devices.count(
            instance_id=scope_instance, binding_id=binding_id, status=status
        )
        return DevicePage(items=rows[:limit], total=total, has_more=len(rows) > limit)

    async def set_status(
        self, instance_id: str, ca_sn: str, device_sn: str, status: CaBindingStatus
    ) -> DeviceRow:
        """Activate or deactivate one device; activation needs its CA active on the instance."""
        row = await self.get(instance_id, ca_sn, device_sn)
        binding = await self.binding(instance_id, ca_sn)
        if status is CaBindingStatus.ACTIVE and binding.status != CaBindingStatus.ACTIVE:
            raise ConflictError(
                ErrorCode.CA_BINDING_INACTIVE,
                f"CA {binding.ca_sn} is deregistered on instance {instance_id!r}; activate the "
                "CA first (that activates all its devices).",
                field="ca_sn",
            )
        if not await self.devices.set_status(row.id, status.value, binding.cascade_generation):
            raise _device_not_found(instance_id, binding.ca_sn, device_sn)
        event = (
            EventType.DEVICE_ACTIVATED
            if status is CaBindingStatus.ACTIVE
            else EventType.DEVICE_DEACTIVATED
        )
        await record(
            self.session, self.clock, event, instance_id, ca_sn=row.ca_sn, device_sn=row.device_sn
        )
        return row._replace(own_status=status.value, status=status.value)

    async def delete(self, instance_id: str, ca_sn: str, device_sn: str) -> str:
        row = await self.get(instance_id, ca_sn, device_sn)
        if not await self.devices.delete(row.id):
            raise _device_not_found(instance_id, row.ca_sn, device_sn)
        await record(
            self.session,
            self.clock,
            EventType.DEVICE_DELETED,
            instance_id,
            ca_sn=row.ca_sn,
            device_sn=row.device_sn,
        )
        return row.device_sn


def _device_not_found(instance_id: str, ca_sn: str, device_sn: str) -> NotFoundError:
    return NotFoundError(
        ErrorCode.DEVICE_NOT_FOUND,
        f"No device certificate with serial {device_sn!r} is registered under CA {ca_sn} on "
        f"instance {instance_id!r}.",
        field="device_sn",
        remedy=Remedy.CONNECT_DEVICE,
        remedy_args={"instance_id": instance_id},
    )
