"""Device lifecycle and queries (docs/rules.md "Device lifecycle")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mqtt_ca_registry.ca_certificates.repository import CaRepository
from mqtt_ca_registry.ca_certificates.service import ca_not_found
from mqtt_ca_registry.clock import Clock
from mqtt_ca_registry.db.unit_of_work import Work
from mqtt_ca_registry.device_certificates.connect_repository import (
    ConnectRepository,
    DeviceWithPem,
)
from mqtt_ca_registry.device_certificates.repository import DeviceRepository, DeviceRow
from mqtt_ca_registry.errors import (
    ConflictError,
    DomainError,
    ErrorCode,
    NotFoundError,
    Remedy,
)
from mqtt_ca_registry.events.recorder import EventType, new_event
from mqtt_ca_registry.events.repository import EventRepository
from mqtt_ca_registry.instances.service import InstanceService, certificates_allowed
from mqtt_ca_registry.models import CaBinding, CaBindingStatus, DeviceStatus
from mqtt_ca_registry.pki.serials import canonical_sn


@dataclass(frozen=True)
class DevicePage:
    items: list[DeviceRow]
    total: int
    has_more: bool


class DeviceService:
    def __init__(self, work: Work, connects: ConnectRepository, clock: Clock) -> None:
        self.devices = DeviceRepository(work)
        self.cas = CaRepository(work)
        self.events = EventRepository(work)
        self.instances = InstanceService(work, clock)
        self.connects = connects  # statements of their own, outside the unit of work
        self.clock = clock

    async def detail(self, instance_id: str, ca_sn: str, device_sn: str) -> DeviceWithPem:
        """One device and its PEM: a single statement when it exists (the common case, and
        the describe call load tests make); otherwise the checks raise the documented error."""
        try:
            sns = canonical_sn(ca_sn, field="ca_sn"), canonical_sn(device_sn, field="device_sn")
        except DomainError:
            sns = None
        if sns is not None:
            found = await self.connects.detail(instance_id, *sns)
            if found is not None and certificates_allowed(found.edition):
                return found
        row = await self.get(instance_id, ca_sn, device_sn)
        instance = await self.instances.get(instance_id)
        return DeviceWithPem(instance.edition, row, await self.devices.pem(row.id))

    async def pems(self, rows: Sequence[DeviceRow]) -> dict[int, str]:
        """The PEMs of these devices, by device id."""
        return await self.devices.pems([row.id for row in rows])

    async def binding(self, instance_id: str, ca_sn: str) -> CaBinding:
        await self.instances.get_for_certificates(instance_id)
        sn = canonical_sn(ca_sn, field="ca_sn")
        found = await self.cas.get_binding(instance_id, sn)
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
            await self.instances.get_for_certificates(instance_id)
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
        self, instance_id: str, ca_sn: str, device_sn: str, status: DeviceStatus
    ) -> DeviceRow:
        """Activate or deactivate one device; activation needs its CA active on the instance."""
        row = await self.get(instance_id, ca_sn, device_sn)
        binding = await self.binding(instance_id, ca_sn)
        if status is DeviceStatus.ACTIVE and binding.status != CaBindingStatus.ACTIVE:
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
            if status is DeviceStatus.ACTIVE
            else EventType.DEVICE_DEACTIVATED
        )
        await self.events.add(
            new_event(
                event,
                instance_id,
                occurred_at=self.clock.now(),
                ca_sn=row.ca_sn,
                device_sn=row.device_sn,
            )
        )
        return row._replace(own_status=status.value, status=status.value)

    async def delete(self, instance_id: str, ca_sn: str, device_sn: str) -> str:
        row = await self.get(instance_id, ca_sn, device_sn)
        if not await self.devices.delete(row.id):
            raise _device_not_found(instance_id, row.ca_sn, device_sn)
        await self.events.add(
            new_event(
                EventType.DEVICE_DELETED,
                instance_id,
                occurred_at=self.clock.now(),
                ca_sn=row.ca_sn,
                device_sn=row.device_sn,
            )
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
