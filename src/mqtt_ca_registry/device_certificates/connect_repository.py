"""The SQL of a connect attempt (and of reading one device): the hot path, in few statements.

Statements are built with SQLAlchemy Core, compiled once per dialect and run on the database's
hot path (:mod:`mqtt_ca_registry.db.prepared`). A known device's connect is one statement; a
first connect is one write transaction, in one hop to SQLite's writer thread (three inserts and
the binding's status, in a savepoint of a transaction shared with the writes queued beside it),
and one statement on PostgreSQL, where every statement is a network round trip (device, PEM
and audit event inserted by data-modifying CTEs, atomically).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text, and_, bindparam, exists, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from mqtt_ca_registry.db.base import UTCDateTime
from mqtt_ca_registry.db.prepared import HotPath, SqliteSteps, StatementSet
from mqtt_ca_registry.device_certificates.repository import (
    DEVICE_COLUMNS,
    EFFECTIVE_STATUS,
    DeviceRecord,
    DeviceRow,
    device_row,
)
from mqtt_ca_registry.models import (
    CaBinding,
    CaCertificate,
    DeviceCertificate,
    DeviceCertificatePem,
    Event,
    Instance,
)

_DEVICE_KEYS = tuple(c.key for c in DEVICE_COLUMNS)
_INSERTED_KEYS = tuple(k for k in _DEVICE_KEYS if k != "id")
_EVENT_KEYS = tuple(c.key for c in Event.__table__.c if c.key != "id")


@dataclass(frozen=True)
class BindingState:
    """A CA binding as a connect decision needs it (status is read on every call)."""

    id: int
    instance_id: str
    ca_sn: str
    ca_fingerprint: str  # SHA-256 of the CA certificate: names it, whatever its row ids
    status: str
    cascade_generation: int


@dataclass(frozen=True)
class ConnectView:
    """Everything a known device's connect reads, from one statement."""

    edition: str
    bindings: tuple[BindingState, ...]
    device: DeviceRow | None


def _bind(column: Any, name: str | None = None) -> Any:
    return bindparam(name or column.key, type_=column.type)


def _view() -> Any:
    return (
        select(
            Instance.edition,
            CaBinding.id,
            CaBinding.ca_sn,
            CaCertificate.fingerprint_sha256,
            CaBinding.status,
            CaBinding.cascade_generation,
            *DEVICE_COLUMNS,
            EFFECTIVE_STATUS,
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
        select(Instance.edition, *DEVICE_COLUMNS, CaBinding.ca_sn, EFFECTIVE_STATUS)
        .add_columns(DeviceCertificatePem.certificate_pem)
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
        .values({k: _bind(table.c[k]) for k in _INSERTED_KEYS})
        .on_conflict_do_nothing(index_elements=["binding_id", "device_sn"])
        .returning(DeviceCertificate.id)
    )


def _event_values() -> list[Any]:
    table = Event.__table__
    return [_bind(table.c[k], f"event_{k}") for k in _EVENT_KEYS]


def _register_postgres(dialect: Dialect) -> Any:
    """One statement: the device (unless present), its PEM and its event; the new id and the
    binding's status and generation as of the same snapshot (no row if the device existed)."""
    device = _insert_device(dialect).cte("inserted")
    pem = insert(DeviceCertificatePem).from_select(
        ["device_id", "certificate_pem"],
        select(device.c.id, bindparam("certificate_pem", type_=Text())),
    )
    event = insert(Event).from_select(
        list(_EVENT_KEYS), select(*_event_values()).where(exists(select(device.c.id)))
    )
    return (
        select(device.c.id, CaBinding.status, CaBinding.cascade_generation)
        .select_from(device)
        .join(CaBinding, CaBinding.id == bindparam("binding_id", type_=Integer()))
        .add_cte(pem.cte("pem"))
        .add_cte(event.cte("event"))
    )


def _statements(dialect: Dialect) -> dict[str, Any]:
    statements = {
        "view": _view(),
        "anchors": select(
            CaCertificate.sn, CaCertificate.fingerprint_sha256, CaCertificate.certificate_pem
        )
        .join(CaBinding, CaBinding.ca_sn == CaCertificate.sn)
        .where(CaBinding.instance_id == bindparam("instance_id", type_=String())),
        "detail": _detail(),
        "device": select(*DEVICE_COLUMNS, CaBinding.ca_sn, EFFECTIVE_STATUS)
        .join(CaBinding, CaBinding.id == DeviceCertificate.binding_id)
        .where(
            DeviceCertificate.binding_id == bindparam("binding_id", type_=Integer()),
            DeviceCertificate.device_sn == bindparam("device_sn", type_=String()),
        ),
        "touch": update(DeviceCertificate)
        .where(
            DeviceCertificate.id == bindparam("device_id", type_=DeviceCertificate.id.type),
            DeviceCertificate.last_authenticated_at.is_(None)
            | (
                DeviceCertificate.last_authenticated_at
                < bindparam("older_than", type_=UTCDateTime())
            ),
        )
        .values(last_authenticated_at=bindparam("now", type_=UTCDateTime())),
    }
    if dialect.name == "postgresql":
        statements["register"] = _register_postgres(dialect)
    else:
        statements["binding_state"] = select(CaBinding.status, CaBinding.cascade_generation).where(
            CaBinding.id == bindparam("binding_id", type_=Integer())
        )
        statements["insert_device"] = _insert_device(dialect)
        statements["insert_pem"] = insert(DeviceCertificatePem).values(
            {c.key: _bind(c) for c in DeviceCertificatePem.__table__.c}
        )
        statements["insert_event"] = (
            insert(Event).values(dict(zip(_EVENT_KEYS, _event_values(), strict=True))).inline()
        )
    return statements


_STATEMENTS = StatementSet(_statements)


def _registered(
    binding: BindingState,
    device_id: int,
    binding_status: str,
    generation: int,
    *,
    values: dict[str, Any],
) -> DeviceRow:
    """The row of a device just inserted with ``values``, without reading it back: its
    effective status (EFFECTIVE_STATUS) from the binding's status and cascade generation as of
    the inserting transaction."""
    record = DeviceRecord(id=device_id, **values)
    status = binding_status if record.status_generation < generation else record.status
    return (record, binding.ca_sn, status)


class ConnectRepository:
    """The SQL of a connect attempt, compiled once and run on the database's hot path."""

    def __init__(self, hot: HotPath) -> None:
        self.hot = hot
        self.statements = _STATEMENTS.for_dialect(hot.dialect)

    async def view(
        self, instance_id: str, ca_sn: str | None, device_sn: str | None
    ) -> ConnectView | None:
        """The instance's edition and bindings, and the device if (ca_sn, device_sn) exists."""
        rows = await self.hot.read(
            self.statements["view"], instance_id=instance_id, ca_sn=ca_sn, device_sn=device_sn
        )
        if not rows:
            return None
        bindings = tuple(
            BindingState(r[1], instance_id, r[2], r[3], r[4], r[5])
            for r in rows
            if r[1] is not None
        )
        found = next((r for r in rows if r[6] is not None), None)
        device = device_row((*found[6:-1], found[2], found[-1])) if found else None
        return ConnectView(rows[0][0], bindings, device)

    async def anchors(self, instance_id: str) -> list[tuple[str, str, str]]:
        """(Sn, fingerprint, PEM) of every CA certificate bound to the instance."""
        rows = await self.hot.read(self.statements["anchors"], instance_id=instance_id)
        return [(sn, fingerprint, pem) for sn, fingerprint, pem in rows]

    async def detail(
        self, instance_id: str, ca_sn: str, device_sn: str
    ) -> tuple[str, DeviceRow, str] | None:
        """(instance edition, device row, PEM) of one device, in one statement; None if any of
        instance, CA binding or device is missing (the caller then explains which)."""
        found = await self.hot.read_one(
            self.statements["detail"], instance_id=instance_id, ca_sn=ca_sn, device_sn=device_sn
        )
        if found is None:
            return None
        return found[0], device_row(found[1:-1]), found[-1] or ""

    async def device(self, binding: BindingState, device_sn: str) -> DeviceRow | None:
        found = await self.hot.read_one(
            self.statements["device"], binding_id=binding.id, device_sn=device_sn
        )
        return device_row(found) if found else None

    async def register(
        self, binding: BindingState, values: dict[str, Any], pem: str, event: dict[str, Any]
    ) -> DeviceRow | None:
        """Insert the device, its PEM and its audit event, unless (binding, Sn) exists.

        The new device's row, or None if it was already registered (a concurrent first
        connect, or a known device whose decision was not cached).
        """
        events = {f"event_{k}": v for k, v in event.items()}
        statements = self.statements
        if self.hot.sqlite_writer is not None:  # one hop: the whole transaction on its thread

            def work(steps: SqliteSteps) -> DeviceRow | None:
                inserted = steps.fetch_one(statements["insert_device"], **values)
                if inserted is None:
                    return None
                steps.fetch(statements["insert_pem"], device_id=inserted[0], certificate_pem=pem)
                steps.fetch(statements["insert_event"], **events)
                state = steps.fetch_one(statements["binding_state"], binding_id=binding.id)
                assert state is not None  # the device's foreign key holds it in place
                return _registered(binding, inserted[0], *state, values=values)

            return await self.hot.sqlite_writer.call(work, transaction=True)
        found = await self.hot.read_one(
            statements["register"], **values, **events, certificate_pem=pem
        )
        return None if found is None else _registered(binding, *found, values=values)

    async def touch(self, device_id: int, now: datetime, *, older_than: datetime) -> None:
        """Record a successful authentication, at most once per interval (keeps connects reads)."""
        await self.hot.write(
            self.statements["touch"], device_id=device_id, now=now, older_than=older_than
        )
