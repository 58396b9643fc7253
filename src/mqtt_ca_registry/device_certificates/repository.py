"""All SQL about device certificates, including their effective status after CA cascades."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, case, delete, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from mqtt_ca_registry.db.unit_of_work import Repository, query
from mqtt_ca_registry.models import (
    CaBinding,
    DeviceCertificate,
    DeviceCertificatePem,
    DeviceStatus,
)
from mqtt_ca_registry.pki.certinfo import CertificateInfo

# docs/rules.md "CA lifecycle": a cascade after the device's own change wins, and vice versa.
EFFECTIVE_STATUS: ColumnElement[str] = case(
    (DeviceCertificate.status_generation < CaBinding.cascade_generation, CaBinding.status),
    else_=DeviceCertificate.status,
)


class DeviceRow(NamedTuple):
    """A device certificate as read: its columns, its CA's Sn and its effective status."""

    id: int
    binding_id: int
    instance_id: str
    device_sn: str
    device_name: str | None
    fingerprint_sha256: str
    subject: str
    not_before: datetime
    not_after: datetime
    own_status: str  # as last set on the device; a later CA cascade overrides it
    status_generation: int
    registered_at: datetime
    last_authenticated_at: datetime | None
    ca_sn: str
    status: str  # effective: what the broker applies (docs/rules.md, "CA lifecycle")


def device_columns() -> list[Any]:
    """The columns of the device_certificates table, its own status as ``own_status``."""
    table = DeviceCertificate.__table__.c
    return [c.label("own_status") if c.key == "status" else c for c in table]


# What every read of a device selects, in DeviceRow's order (from device_certificates joined
# to ca_bindings); tests/device_certificates/test_records.py holds the two together.
DEVICE_SELECTION: tuple[Any, ...] = (
    *device_columns(),
    CaBinding.ca_sn,
    EFFECTIVE_STATUS.label("status"),
)


class NewDevice(NamedTuple):
    """The values a device certificate's row is inserted with: every column but its id."""

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


def new_device(
    *,
    binding_id: int,
    instance_id: str,
    leaf: CertificateInfo,
    cascade_generation: int,
    now: datetime,
    connected: bool,
) -> NewDevice:
    """A device registered now (active) under a binding at ``cascade_generation``; ``connected``
    when it registers by connecting (its first authentication is now)."""
    return NewDevice(
        binding_id=binding_id,
        instance_id=instance_id,
        device_sn=leaf.sn,
        device_name=leaf.common_name,
        fingerprint_sha256=leaf.fingerprint_sha256,
        subject=leaf.subject,
        not_before=leaf.not_before,
        not_after=leaf.not_after,
        status=DeviceStatus.ACTIVE.value,
        status_generation=cascade_generation,
        registered_at=now,
        last_authenticated_at=now if connected else None,
    )


class NewDevicePem(NamedTuple):
    """The values a device's PEM row is inserted with."""

    device_id: int
    certificate_pem: str


def registered_device(
    values: NewDevice, device_id: int, ca_sn: str, ca_status: str, cascade_generation: int
) -> DeviceRow:
    """The row of a device just inserted with ``values``, without reading it back: its
    effective status (EFFECTIVE_STATUS) from its binding's status and cascade generation as of
    the inserting transaction."""
    fields = values._asdict()
    own_status = fields.pop("status")
    status = ca_status if values.status_generation < cascade_generation else own_status
    return DeviceRow(id=device_id, **fields, own_status=own_status, ca_sn=ca_sn, status=status)


def _select() -> Any:
    return select(*DEVICE_SELECTION).join(CaBinding, CaBinding.id == DeviceCertificate.binding_id)


def _filtered(*, instance_id: str | None, binding_id: int | None, status: str | None) -> Any:
    statement = _select()
    if binding_id is not None:
        statement = statement.where(DeviceCertificate.binding_id == binding_id)
    if instance_id is not None:
        statement = statement.where(DeviceCertificate.instance_id == instance_id)
    if status is not None:
        statement = statement.where(status == EFFECTIVE_STATUS)
    return statement


def _rows(session: Session, statement: Any) -> list[DeviceRow]:
    return [DeviceRow(**row._mapping) for row in session.execute(statement).all()]


def _changed_one(result: object) -> bool:
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


class DeviceRepository(Repository):
    @query
    def get(self, session: Session, binding_id: int, device_sn: str) -> DeviceRow | None:
        row = session.execute(
            _select().where(
                DeviceCertificate.binding_id == binding_id,
                DeviceCertificate.device_sn == device_sn,
            )
        ).first()
        return DeviceRow(**row._mapping) if row else None

    @query
    def pem(self, session: Session, device_id: int) -> str:
        pem = session.scalar(
            select(DeviceCertificatePem.certificate_pem).where(
                DeviceCertificatePem.device_id == device_id
            )
        )
        return pem or ""

    @query
    def pems(self, session: Session, device_ids: Sequence[int]) -> dict[int, str]:
        if not device_ids:
            return {}
        rows = session.execute(
            select(DeviceCertificatePem.device_id, DeviceCertificatePem.certificate_pem).where(
                DeviceCertificatePem.device_id.in_(device_ids)
            )
        )
        return {row.device_id: row.certificate_pem for row in rows.all()}

    @query
    def page(
        self,
        session: Session,
        *,
        instance_id: str | None = None,
        binding_id: int | None = None,
        status: str | None = None,
        after_id: int | None = None,
        limit: int,
        offset: int = 0,
    ) -> list[DeviceRow]:
        statement = _filtered(instance_id=instance_id, binding_id=binding_id, status=status)
        if after_id is not None:
            statement = statement.where(DeviceCertificate.id > after_id)
        statement = statement.order_by(DeviceCertificate.id).limit(limit)
        if offset:
            statement = statement.offset(offset)
        return _rows(session, statement)

    @query
    def page_at_offset(
        self,
        session: Session,
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
        statement = (
            _select()
            .where(DeviceCertificate.id.in_(ids.scalar_subquery()))
            .order_by(DeviceCertificate.id)
        )
        return _rows(session, statement)

    @query
    def count(
        self,
        session: Session,
        *,
        instance_id: str | None = None,
        binding_id: int | None = None,
        status: str | None = None,
    ) -> int:
        if status is None:
            statement = select(func.count()).select_from(DeviceCertificate)
            if binding_id is not None:
                statement = statement.where(DeviceCertificate.binding_id == binding_id)
            if instance_id is not None:
                statement = statement.where(DeviceCertificate.instance_id == instance_id)
        else:
            inner = _filtered(instance_id=instance_id, binding_id=binding_id, status=status)
            statement = select(func.count()).select_from(
                inner.with_only_columns(DeviceCertificate.id).subquery()
            )
        return session.scalar(statement) or 0

    @query
    def set_status(self, session: Session, device_id: int, status: str, generation: int) -> bool:
        """False if the device is gone (deleted concurrently)."""
        return _changed_one(
            session.execute(
                update(DeviceCertificate)
                .where(DeviceCertificate.id == device_id)
                .values(status=status, status_generation=generation)
            )
        )

    @query
    def delete(self, session: Session, device_id: int) -> bool:
        """False if the device is gone (deleted concurrently)."""
        return _changed_one(
            session.execute(delete(DeviceCertificate).where(DeviceCertificate.id == device_id))
        )
