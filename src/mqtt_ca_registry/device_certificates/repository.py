"""All SQL about device certificates, including their effective status after CA cascades."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, delete, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from mqtt_ca_registry.models import CaBinding, DeviceCertificate, DeviceCertificatePem

# docs/rules.md "CA lifecycle": a cascade after the device's own change wins, and vice versa.
EFFECTIVE_STATUS: ColumnElement[str] = case(
    (DeviceCertificate.status_generation < CaBinding.cascade_generation, CaBinding.status),
    else_=DeviceCertificate.status,
)

DEVICE_COLUMNS = tuple(DeviceCertificate.__table__.c)
_DEVICE_KEYS = tuple(c.key for c in DEVICE_COLUMNS)


@dataclass(slots=True)
class DeviceRecord:
    """A device certificate's row as read (a plain object: no ORM identity map or tracking)."""

    id: int
    binding_id: int
    instance_id: str
    device_sn: str
    device_name: str | None
    fingerprint_sha256: str
    subject: str
    not_before: datetime
    not_after: datetime
    status: str
    status_generation: int
    registered_at: datetime
    last_authenticated_at: datetime | None


DeviceRow = tuple[DeviceRecord, str, str]  # device, ca_sn, effective status


def device_row(values: Sequence[Any]) -> DeviceRow:
    """(device, CA Sn, effective status) from the values of DEVICE_COLUMNS, ca_sn, status."""
    return (DeviceRecord(*values[: len(_DEVICE_KEYS)]), values[-2], values[-1])


class DeviceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _select(self) -> Any:
        return select(*DEVICE_COLUMNS, CaBinding.ca_sn, EFFECTIVE_STATUS).join(
            CaBinding, CaBinding.id == DeviceCertificate.binding_id
        )

    async def get(self, binding_id: int, device_sn: str) -> DeviceRow | None:
        row = (
            await self.session.execute(
                self._select().where(
                    DeviceCertificate.binding_id == binding_id,
                    DeviceCertificate.device_sn == device_sn,
                )
            )
        ).first()
        return device_row(row) if row else None

    async def pem(self, device_id: int) -> str:
        pem = await self.session.scalar(
            select(DeviceCertificatePem.certificate_pem).where(
                DeviceCertificatePem.device_id == device_id
            )
        )
        return pem or ""

    async def pems(self, device_ids: Sequence[int]) -> dict[int, str]:
        if not device_ids:
            return {}
        rows = await self.session.execute(
            select(DeviceCertificatePem.device_id, DeviceCertificatePem.certificate_pem).where(
                DeviceCertificatePem.device_id.in_(device_ids)
            )
        )
        return {device_id: pem for device_id, pem in rows.all()}

    def _filtered(
        self, *, instance_id: str | None, binding_id: int | None, status: str | None
    ) -> Any:
        query = self._select()
        if binding_id is not None:
            query = query.where(DeviceCertificate.binding_id == binding_id)
        if instance_id is not None:
            query = query.where(DeviceCertificate.instance_id == instance_id)
        if status is not None:
            query = query.where(status == EFFECTIVE_STATUS)
        return query

    async def page(
        self,
        *,
        instance_id: str | None = None,
        binding_id: int | None = None,
        status: str | None = None,
        after_id: int | None = None,
        limit: int,
        offset: int = 0,
    ) -> list[DeviceRow]:
        query = self._filtered(instance_id=instance_id, binding_id=binding_id, status=status)
        if after_id is not None:
            query = query.where(DeviceCertificate.id > after_id)
        query = query.order_by(DeviceCertificate.id).limit(limit)
        if offset:
            query = query.offset(offset)
        return [device_row(r) for r in (await self.session.execute(query)).all()]

    async def page_at_offset(
        self,
        *,
        instance_id: str | None = None,
        binding_id: int | None = None,
        offset: int,
        limit: int,
        total: int,
    ) -> list[DeviceRow]:
        """The page at ``offset`` (PageNo/PageSize), given the ``total`` just counted.

        OFFSET has to step over every skipped row: it does so here on the narrow (scope, id)
        index only, and from whichever end is nearer, so the deepest page costs what the first
        does and the middle one half of a full scan (see bench/, item 4).
        """
        if offset >= total:
            return []
        scope = (
            DeviceCertificate.binding_id == binding_id
            if binding_id is not None
            else DeviceCertificate.instance_id == instance_id
        )
        ids = select(DeviceCertificate.id).where(scope)
        if offset + limit / 2 > total / 2:  # nearer the end: count back from it
            take = min(limit, total - offset)
            ids = ids.order_by(DeviceCertificate.id.desc()).limit(take)
            ids = ids.offset(total - offset - take)
        else:
            ids = ids.order_by(DeviceCertificate.id).limit(limit).offset(offset)
        query = (
            self._select()
            .where(DeviceCertificate.id.in_(ids.scalar_subquery()))
            .order_by(DeviceCertificate.id)
        )
        return [device_row(r) for r in (await self.session.execute(query)).all()]

    async def count(
        self,
        *,
        instance_id: str | None = None,
        binding_id: int | None = None,
        status: str | None = None,
    ) -> int:
        if status is None:
            query = select(func.count()).select_from(DeviceCertificate)
            if binding_id is not None:
                query = query.where(DeviceCertificate.binding_id == binding_id)
            if instance_id is not None:
                query = query.where(DeviceCertificate.instance_id == instance_id)
        else:
            inner = self._filtered(instance_id=instance_id, binding_id=binding_id, status=status)
            query = select(func.count()).select_from(
                inner.with_only_columns(DeviceCertificate.id).subquery()
            )
        return (await self.session.scalar(query)) or 0

    async def set_status(self, device_id: int, status: str, generation: int) -> bool:
        """False if the device is gone (deleted concurrently)."""
        result = await self.session.execute(
            update(DeviceCertificate)
            .where(DeviceCertificate.id == device_id)
            .values(status=status, status_generation=generation)
        )
        assert isinstance(result, CursorResult)
        return result.rowcount == 1

    async def delete(self, device_id: int) -> bool:
        """False if the device is gone (deleted concurrently)."""
        result = await self.session.execute(
            delete(DeviceCertificate).where(DeviceCertificate.id == device_id)
        )
        assert isinstance(result, CursorResult)
        return result.rowcount == 1
