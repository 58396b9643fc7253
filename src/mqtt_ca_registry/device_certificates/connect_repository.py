"""The SQL of a connect attempt (and of reading one device): the hot path, in few statements.

Statements are built with SQLAlchemy Core, compiled once per dialect (:mod:`..db.statements`)
and run where :mod:`..db.dispatch` sends them. A known device's connect is one statement; a
first connect is one write transaction, in one hop to SQLite's writer thread (three inserts and
the binding's status, in a savepoint of a transaction shared with the writes queued beside it),
and one statement on PostgreSQL, where every statement is a network round trip (device, PEM
and audit event inserted by data-modifying CTEs, atomically).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Integer, String, Text, and_, bindparam, exists, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from mqtt_ca_registry.db.base import UTCDateTime
from mqtt_ca_registry.db.dispatch import Dispatch
from mqtt_ca_registry.db.sqlite_threads import SqliteSteps
from mqtt_ca_registry.db.statements import NoRows, PerDialect, Prepared
from mqtt_ca_registry.device_certificates.repository import (
    DEVICE_SELECTION,
    EFFECTIVE_STATUS,
    DeviceRow,
    NewDevice,
    NewDevicePem,
    registered_device,
)
from mqtt_ca_registry.events.recorder import NewEvent
from mqtt_ca_registry.models import (
    CaBinding,
    CaCertificate,
    DeviceCertificate,
    DeviceCertificatePem,
    Event,
    Instance,
)


class BindingState(NamedTuple):
    """A CA binding as a connect decision needs it (status is read on every call)."""

    binding_id: int
    instance_id: str
    ca_sn: str
    ca_fingerprint: str  # SHA-256 of the CA certificate: names it, whatever its row ids
    ca_status: str
    cascade_generation: int


class ViewRow(NamedTuple):
    """One row of the view: the instance, one of its bindings, and the device if under it."""

    edition: str
    instance_id: str
    binding_id: int | None
    ca_sn: str | None
    ca_fingerprint: str | None
    ca_status: str | None
    cascade_generation: int | None
    id: int | None
    device_sn: str | None
    device_name: str | None
    fingerprint_sha256: str | None
    subject: str | None
    not_before: datetime | None
    not_after: datetime | None
    own_status: str | None
    status_generation: int | None
    registered_at: datetime | None
    last_authenticated_at: datetime | None
    status: str | None


class AnchorRow(NamedTuple):
    sn: str
    fingerprint_sha256: str
    certificate_pem: str


class DetailRow(NamedTuple):
    edition: str
    id: int
    binding_id: int
    instance_id: str
    device_sn: str
    device_name: str | None
    fingerprint_sha256: str
    subject: str
    not_before: datetime
    not_after: datetime
    own_status: str
    status_generation: int
    registered_at: datetime
    last_authenticated_at: datetime | None
    ca_sn: str
    status: str
    certificate_pem: str | None


class InsertedId(NamedTuple):
    id: int


class BindingStatus(NamedTuple):
    ca_status: str
    cascade_generation: int


class Registered(NamedTuple):
    id: int
    ca_status: str
    cascade_generation: int


@dataclass(frozen=True)
class ConnectView:
    """Everything a known device's connect reads, from one statement."""

    edition: str
    bindings: tuple[BindingState, ...]
    device: DeviceRow | None


@dataclass(frozen=True)
class DeviceWithPem:
    """A device, its PEM, and its instance's edition."""

    edition: str
    device: DeviceRow
    certificate_pem: str


def _bind(column: Any, name: str | None = None) -> Any:
    return bindparam(name or column.key, type_=column.type)


def _view() -> Any:
    device = DeviceCertificate
    return (
        select(
            Instance.edition,
            Instance.instance_id,
            CaBinding.id.label("binding_id"),
            CaBinding.ca_sn,
            CaCertificate.fingerprint_sha256.label("ca_fingerprint"),
            CaBinding.status.label("ca_status"),
            CaBinding.cascade_generation,
            # The device's own binding_id and instance_id are the two above, when it is found.
            device.id,
            device.device_sn,
            device.device_name,
            device.fingerprint_sha256,
            device.subject,
            device.not_before,
            device.not_after,
            device.status.label("own_status"),
            device.status_generation,
            device.registered_at,
            device.last_authenticated_at,
            EFFECTIVE_STATUS.label("status"),
        )
        .select_from(Instance)
        .outerjoin(CaBinding, CaBinding.instance_id == Instance.instance_id)
        .outerjoin(CaCertificate, CaCertificate.sn == CaBinding.ca_sn)
        .outerjoin(
            DeviceCertificate,
            and_(
                DeviceCertificate.binding_id == CaBinding.id,
                CaBinding.ca_sn == bindparam("ca_sn", type_=String()),
                DeviceCertificate.device_sn == bindparam("device_sn", type_=String()),
            ),
        )
        .where(Instance.instance_id == bindparam("instance_id", type_=String()))
    )  # no ORDER BY: the bindings are used as a set (and a sort is a step per connect)


def _detail() -> Any:
    return (
        select(Instance.edition, *DEVICE_SELECTION, DeviceCertificatePem.certificate_pem)
        .select_from(Instance)
        .join(CaBinding, CaBinding.instance_id == Instance.instance_id)
        .join(DeviceCertificate, DeviceCertificate.binding_id == CaBinding.id)
        .outerjoin(DeviceCertificatePem, DeviceCertificatePem.device_id == DeviceCertificate.id)
        .where(
            Instance.instance_id == bindparam("instance_id", type_=String()),
            CaBinding.ca_sn == bindparam("ca_sn", type_=String()),
            DeviceCertificate.device_sn == bindparam("device_sn", type_=String()),
        )
    )


def _insert_device(dialect: Dialect) -> Any:
    table = DeviceCertificate.__table__
    upsert = sqlite.insert if dialect.name == "sqlite" else postgresql.insert
    return (
        upsert(DeviceCertificate)
        .values({k: _bind(table.c[k]) for k in NewDevice._fields})
        .on_conflict_do_nothing(index_elements=["binding_id", "device_sn"])
        .returning(DeviceCertificate.id)
    )


def _insert_pem() -> Any:
    table = DeviceCertificatePem.__table__
    values = {k: _bind(table.c[k]) for k in NewDevicePem._fields}
    return insert(DeviceCertificatePem).values(values).inline()


def _event_values() -> list[Any]:
    """Bind parameters for an event's values, prefixed: devices have columns of the same names."""
    table = Event.__table__
    return [_bind(table.c[k], f"event_{k}") for k in NewEvent._fields]


def _register_postgres(dialect: Dialect) -> Any:
    """One statement: the device (unless present), its PEM and its event; the new id and the
    binding's status and generation as of the same snapshot (no row if the device existed)."""
    device = _insert_device(dialect).cte("inserted")
    pem = insert(DeviceCertificatePem).from_select(
        list(NewDevicePem._fields),
        select(device.c.id, bindparam("certificate_pem", type_=Text())),
    )
    event = insert(Event).from_select(
        list(NewEvent._fields), select(*_event_values()).where(exists(select(device.c.id)))
    )
    return (
        select(device.c.id, CaBinding.status.label("ca_status"), CaBinding.cascade_generation)
        .select_from(device)
        .join(CaBinding, CaBinding.id == bindparam("binding_id", type_=Integer()))
        .add_cte(pem.cte("pem"))
        .add_cte(event.cte("event"))
    )


@dataclass(frozen=True)
class _Statements:
    view: Prepared[ViewRow]
    anchors: Prepared[AnchorRow]
    detail: Prepared[DetailRow]
    device: Prepared[DeviceRow]
    touch: Prepared[NoRows]
    insert_event: Prepared[NoRows]
    # PostgreSQL: a first connect in one statement; SQLite: in four, in one hop.
    register: Prepared[Registered] | None
    insert_device: Prepared[InsertedId] | None
    insert_pem: Prepared[NoRows] | None
    binding_status: Prepared[BindingStatus] | None


def _compile(dialect: Dialect) -> _Statements:
    def prepared(statement: Any, row: Any) -> Any:
        return Prepared(statement, dialect, row)

    sqlite_only = dialect.name == "sqlite"
    return _Statements(
        view=prepared(_view(), ViewRow),
        anchors=prepared(
            select(
                CaCertificate.sn, CaCertificate.fingerprint_sha256, CaCertificate.certificate_pem
            )
            .join(CaBinding, CaBinding.ca_sn == CaCertificate.sn)
            .where(CaBinding.instance_id == bindparam("instance_id", type_=String())),
            AnchorRow,
        ),
        detail=prepared(_detail(), DetailRow),
        device=prepared(
            select(*DEVICE_SELECTION)
            .join(CaBinding, CaBinding.id == DeviceCertificate.binding_id)
            .where(
                DeviceCertificate.binding_id == bindparam("binding_id", type_=Integer()),
                DeviceCertificate.device_sn == bindparam("device_sn", type_=String()),
            ),
            DeviceRow,
        ),
        touch=prepared(
            update(DeviceCertificate)
            .where(
                DeviceCertificate.id == bindparam("device_id", type_=DeviceCertificate.id.type),
                DeviceCertificate.last_authenticated_at.is_(None)
                | (
                    DeviceCertificate.last_authenticated_at
                    < bindparam("older_than", type_=UTCDateTime())
                ),
            )
            .values(last_authenticated_at=bindparam("now", type_=UTCDateTime())),
            NoRows,
        ),
        register=None if sqlite_only else prepared(_register_postgres(dialect), Registered),
        insert_device=prepared(_insert_device(dialect), InsertedId) if sqlite_only else None,
        insert_pem=prepared(_insert_pem(), NoRows) if sqlite_only else None,
        insert_event=prepared(
            # inline(): no implicit RETURNING of the generated id.
            insert(Event)
            .values(dict(zip(NewEvent._fields, _event_values(), strict=True)))
            .inline(),
            NoRows,
        ),
        binding_status=prepared(
            select(CaBinding.status.label("ca_status"), CaBinding.cascade_generation).where(
                CaBinding.id == bindparam("binding_id", type_=Integer())
            ),
            BindingStatus,
        )
        if sqlite_only
        else None,
    )


STATEMENTS = PerDialect(_compile)


def _event_arguments(event: NewEvent) -> dict[str, Any]:
    return {f"event_{k}": v for k, v in event._asdict().items()}


class ConnectRepository:
    """The SQL of a connect attempt, compiled once and run where the database's dispatch says."""

    def __init__(self, dispatch: Dispatch) -> None:
        self.dispatch = dispatch
        self.statements = STATEMENTS(dispatch.dialect)
        self._binding = self.statements.view.projection(BindingState)
        self._device = self.statements.view.projection(DeviceRow)
        self._detail_device = self.statements.detail.projection(DeviceRow)

    async def view(
        self, instance_id: str, ca_sn: str | None, device_sn: str | None
    ) -> ConnectView | None:
        """The instance's edition and bindings, and the device if (ca_sn, device_sn) exists."""
        rows = await self.dispatch.read(
            self.statements.view, instance_id=instance_id, ca_sn=ca_sn, device_sn=device_sn
        )
        if not rows:
            return None
        bindings = tuple(self._binding(r) for r in rows if r.binding_id is not None)
        found = next((r for r in rows if r.id is not None), None)
        device = self._device(found) if found is not None else None
        return ConnectView(rows[0].edition, bindings, device)

    async def anchors(self, instance_id: str) -> list[AnchorRow]:
        """Sn, fingerprint and PEM of every CA certificate bound to the instance."""
        return await self.dispatch.read(self.statements.anchors, instance_id=instance_id)

    async def detail(self, instance_id: str, ca_sn: str, device_sn: str) -> DeviceWithPem | None:
        """One device with its PEM and its instance's edition, in one statement; None if any
        of instance, CA binding or device is missing (the caller then explains which)."""
        found = await self.dispatch.read_one(
            self.statements.detail, instance_id=instance_id, ca_sn=ca_sn, device_sn=device_sn
        )
        if found is None:
            return None
        return DeviceWithPem(found.edition, self._detail_device(found), found.certificate_pem or "")

    async def device(self, binding: BindingState, device_sn: str) -> DeviceRow | None:
        return await self.dispatch.read_one(
            self.statements.device, binding_id=binding.binding_id, device_sn=device_sn
        )

    async def register(
        self, binding: BindingState, device: NewDevice, pem: str, event: NewEvent
    ) -> DeviceRow | None:
        """Insert the device, its PEM and its audit event, unless (binding, Sn) exists.

        The new device's row, or None if it was already registered (a concurrent first
        connect, or a known device whose decision was not cached).
        """
        statements = self.statements
        values = device._asdict()
        writer = self.dispatch.sqlite_writer
        if writer is not None:  # one hop: the whole transaction on its thread
            insert_device, insert_pem = statements.insert_device, statements.insert_pem
            insert_event, binding_status = statements.insert_event, statements.binding_status
            assert insert_device and insert_pem and insert_event and binding_status

            def work(steps: SqliteSteps) -> DeviceRow | None:
                inserted = steps.fetch_one(insert_device, **values)
                if inserted is None:
                    return None
                steps.fetch(insert_pem, **NewDevicePem(inserted.id, pem)._asdict())
                steps.fetch(insert_event, **_event_arguments(event))
                state = steps.fetch_one(binding_status, binding_id=binding.binding_id)
                assert state is not None  # the device's foreign key holds it in place
                return registered_device(
                    device, inserted.id, binding.ca_sn, state.ca_status, state.cascade_generation
                )

            return await writer.call(work, transaction=True)
        assert statements.register is not None
        rows = await self.dispatch.write(
            statements.register, **values, **_event_arguments(event), certificate_pem=pem
        )
        if not rows:
            return None
        found = rows[0]
        return registered_device(
            device, found.id, binding.ca_sn, found.ca_status, found.cascade_generation
        )

    async def record(self, event: NewEvent) -> None:
        """Record an audit event on its own (a refused connect changes nothing else)."""
        await self.dispatch.write(self.statements.insert_event, **_event_arguments(event))

    async def touch(self, device_id: int, now: datetime, *, older_than: datetime) -> None:
        """Record a successful authentication, at most once per interval (keeps connects reads)."""
        await self.dispatch.write(
            self.statements.touch, device_id=device_id, now=now, older_than=older_than
        )
