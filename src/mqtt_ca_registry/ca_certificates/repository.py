"""All SQL about registration codes, CA certificates and their bindings to instances."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from mqtt_ca_registry.models import CaBinding, CaCertificate, DeviceCertificate, RegistrationCode


class BoundCa(NamedTuple):
    """A CA certificate as bound to one instance."""

    binding: CaBinding
    certificate: CaCertificate


class RegistrationCodeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, code: RegistrationCode) -> None:
        self.session.add(code)
        await self.session.flush()

    async def get(self, code: str) -> RegistrationCode | None:
        return await self.session.scalar(
            select(RegistrationCode).where(RegistrationCode.code == code)
        )

    async def prune_unused(self, instance_id: str, *, keep: int) -> None:
        """Delete the oldest unused codes of an instance beyond the newest ``keep``."""
        newest = (
            select(RegistrationCode.id)
            .where(RegistrationCode.instance_id == instance_id, RegistrationCode.used_at.is_(None))
            .order_by(RegistrationCode.id.desc())
            .limit(keep)
        )
        await self.session.execute(
            delete(RegistrationCode).where(
                RegistrationCode.instance_id == instance_id,
                RegistrationCode.used_at.is_(None),
                RegistrationCode.id.not_in(newest),
            )
        )

    async def consume(self, code: str, *, now: datetime) -> bool:
        """Mark a code used. False if it was already used (by a concurrent registration too)."""
        result = await self.session.execute(
            update(RegistrationCode)
            .where(RegistrationCode.code == code, RegistrationCode.used_at.is_(None))
            .values(used_at=now)
        )
        assert isinstance(result, CursorResult)
        return result.rowcount == 1


class CaRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_certificate(self, sn: str) -> CaCertificate | None:
        return await self.session.get(CaCertificate, sn)

    async def add_certificate(self, certificate: CaCertificate) -> None:
        self.session.add(certificate)
        await self.session.flush()

    async def add_binding(self, binding: CaBinding) -> None:
        self.session.add(binding)
        await self.session.flush()

    async def get_binding(self, instance_id: str, sn: str) -> BoundCa | None:
        row = (
            await self.session.execute(
                select(CaBinding, CaCertificate)
                .join(CaCertificate, CaCertificate.sn == CaBinding.ca_sn)
                .where(CaBinding.instance_id == instance_id, CaBinding.ca_sn == sn)
            )
        ).first()
        return BoundCa(row.CaBinding, row.CaCertificate) if row else None

    def _filtered(self, instance_id: str, sn: str | None, status: str | None):  # type: ignore[no-untyped-def]
        query = select(CaBinding, CaCertificate).join(
            CaCertificate, CaCertificate.sn == CaBinding.ca_sn
        )
        query = query.where(CaBinding.instance_id == instance_id)
        if sn is not None:
            query = query.where(CaBinding.ca_sn == sn)
        if status is not None:
            query = query.where(CaBinding.status == status)
        return query

    async def page(
        self,
        instance_id: str,
        *,
        sn: str | None,
        status: str | None,
        after_id: int | None,
        limit: int,
        offset: int = 0,
    ) -> list[BoundCa]:
        """A page of an instance's bindings in registration order (keyset or offset)."""
        query = self._filtered(instance_id, sn, status).order_by(CaBinding.id).limit(limit)
        if after_id is not None:
            query = query.where(CaBinding.id > after_id)
        if offset:
            query = query.offset(offset)
        rows = (await self.session.execute(query)).all()
        return [BoundCa(row.CaBinding, row.CaCertificate) for row in rows]

    async def count(self, instance_id: str, *, sn: str | None, status: str | None) -> int:
        query = select(func.count()).select_from(self._filtered(instance_id, sn, status).subquery())
        return (await self.session.scalar(query)) or 0

    async def device_counts(self, binding_ids: Sequence[int]) -> dict[int, int]:
        if not binding_ids:
            return {}
        rows = await self.session.execute(
            select(DeviceCertificate.binding_id, func.count().label("devices"))
            .where(DeviceCertificate.binding_id.in_(binding_ids))
            .group_by(DeviceCertificate.binding_id)
        )
        return {row.binding_id: row.devices for row in rows.all()}

    async def cascade_status(self, binding_id: int, status: str, *, now: datetime) -> bool:
        """Set a binding's status and start a new cascade generation: O(1) for any device count.

        False if the binding is gone (deleted concurrently).
        """
        result = await self.session.execute(
            update(CaBinding)
            .where(CaBinding.id == binding_id)
            .values(
                status=status,
                cascade_generation=CaBinding.cascade_generation + 1,
                status_changed_at=now,
            )
        )
        assert isinstance(result, CursorResult)
        return result.rowcount == 1

    async def delete_binding(self, binding_id: int) -> bool:
        """Delete a binding; its devices (and their PEMs) go by FK cascade. False if gone."""
        result = await self.session.execute(delete(CaBinding).where(CaBinding.id == binding_id))
        assert isinstance(result, CursorResult)
        return result.rowcount == 1

    async def delete_certificates_if_unbound(self, sns: Sequence[str]) -> None:
        """The CA records go with their last binding."""
        if not sns:
            return
        still_bound = select(CaBinding.ca_sn).where(CaBinding.ca_sn.in_(sns))
        await self.session.execute(
            delete(CaCertificate).where(
                CaCertificate.sn.in_(sns), CaCertificate.sn.not_in(still_bound)
            )
        )
