"""Compiled statements (db/statements.py) carry every column type there and back unchanged.

The compiled path reaches into SQLAlchemy's compiler (parameter order, the types' bind and
result processors) and runs on the drivers directly. Every column of every table is written and
read back through it, on both databases, with full values and with every nullable column
empty: a SQLAlchemy or driver upgrade that changes a conversion fails here, not at a connect.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Table, bindparam, insert, select

from mqtt_ca_registry.db.base import Base
from mqtt_ca_registry.db.session import Database
from mqtt_ca_registry.db.statements import NoRows, Prepared

# Not UTC, with microseconds: stored as UTC, read back as the same instant.
WHEN = datetime(2026, 6, 1, 14, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
TEXT = "Zoë ✓ \u6e2c\u8a66 " + "x" * 300  # beyond ASCII, longer than a short VARCHAR
BIG = 2**40 + 7  # over 32 bits: the BigInteger ids of PostgreSQL


def _instances(n: int) -> dict[str, Any]:
    return {
        "instance_id": f"mqtt-cn-rt{n}",
        "name": TEXT[:128],
        "edition": "enterprise_platinum",
        "region_id": "cn-local",
        "tags": {"k": "v", "nested": ["a", 1, None]} if n == 0 else {},
        "created_at": WHEN,
    }


def _ca_certificates(n: int) -> dict[str, Any]:
    return {
        "sn": f"0a{n:02x}",
        "fingerprint_sha256": f"{n:02x}" * 32,
        "subject": TEXT,
        "issuer": TEXT,
        "key_algorithm": "EC",
        "key_size": 256,
        "curve": "P-256" if n == 0 else None,
        "not_before": WHEN,
        "not_after": WHEN + timedelta(days=3650),
        "certificate_pem": TEXT * 10,
        "created_at": WHEN,
    }


def _ca_bindings(n: int) -> dict[str, Any]:
    return {
        "id": 7 + n,
        "instance_id": f"mqtt-cn-rt{n}",
        "ca_sn": f"0a{n:02x}",
        "name": TEXT[:64],
        "status": "inactive",
        "cascade_generation": 2**31 - 1,
        "verification_certificate_pem": TEXT,
        "registration_code": f"code-{n}",
        "registered_at": WHEN,
        "status_changed_at": WHEN + timedelta(microseconds=1),
    }


def _registration_codes(n: int) -> dict[str, Any]:
    return {
        "id": 11 + n,
        "code": f"code-{n}",
        "instance_id": f"mqtt-cn-rt{n}",
        "created_at": WHEN,
        "expires_at": WHEN + timedelta(hours=1) if n == 0 else None,
        "used_at": WHEN if n == 0 else None,
    }


def _device_certificates(n: int) -> dict[str, Any]:
    return {
        "id": BIG + n,
        "binding_id": 7 + n,
        "instance_id": f"mqtt-cn-rt{n}",
        "device_sn": f"{n:02x}" * 20,
        "device_name": TEXT[:256] if n == 0 else None,
        "fingerprint_sha256": f"{n:02x}" * 32,
        "subject": TEXT,
        "not_before": WHEN,
        "not_after": WHEN,
        "status": "active",
        "status_generation": 0,
        "registered_at": WHEN,
        "last_authenticated_at": WHEN if n == 0 else None,
    }


def _device_certificate_pems(n: int) -> dict[str, Any]:
    return {"device_id": BIG + n, "certificate_pem": TEXT * 20}


def _events(n: int) -> dict[str, Any]:
    return {
        "id": BIG + n,
        "instance_id": f"mqtt-cn-rt{n}",
        "type": "device.registered",
        "occurred_at": WHEN,
        "actor": "LTAI5tLocalEmulatorKey",
        "request_id": "4C3F0F57-0AA4-4D52-9D1B-1A4F8F0C8B8E" if n == 0 else None,
        "outcome": "success",
        "ca_sn": f"0a{n:02x}" if n == 0 else None,
        "device_sn": "0b" if n == 0 else None,
        "details": {"reason_code": "accepted", "subject": TEXT, "n": 1.5, "ok": True},
    }


VALUES: dict[str, Callable[[int], dict[str, Any]]] = {
    "instances": _instances,
    "ca_certificates": _ca_certificates,
    "ca_bindings": _ca_bindings,
    "registration_codes": _registration_codes,
    "device_certificates": _device_certificates,
    "device_certificate_pems": _device_certificate_pems,
    "events": _events,
}
TABLES = [t for t in Base.metadata.sorted_tables]


def test_every_table_has_values_for_every_column() -> None:
    assert {t.name for t in TABLES} == set(VALUES), "give the new table values above"
    for table in TABLES:
        assert set(VALUES[table.name](0)) == {c.key for c in table.c}, table.name


def _round_trip(table: Table, database: Database) -> tuple[Prepared[Any], Prepared[Any]]:
    dialect = database.dispatch.dialect
    row = namedtuple(f"{table.name}_row", [c.key for c in table.c])  # type: ignore[misc]
    key = next(iter(table.primary_key.columns))
    write = Prepared(
        insert(table).values({c.key: bindparam(c.key, type_=c.type) for c in table.c}),
        dialect,
        NoRows,
    )
    read = Prepared(select(*table.c).where(key == bindparam("key", type_=key.type)), dialect, row)
    return write, read


@pytest.mark.parametrize("variant", [0, 1], ids=["full", "nullable-empty"])
async def test_every_column_round_trips(database: Database, variant: int) -> None:
    for table in TABLES:
        write, read = _round_trip(table, database)
        values = VALUES[table.name](variant)
        await database.dispatch.write(write, **values)
        key = next(iter(table.primary_key.columns)).key
        (found,) = await database.dispatch.read(read, key=values[key])
        expected = {
            k: v.astimezone(UTC) if isinstance(v, datetime) else v for k, v in values.items()
        }
        assert found._asdict() == expected, table.name
        for name, value in found._asdict().items():
            if isinstance(value, datetime):
                assert value.tzinfo is UTC, (table.name, name)
