"""Rows have names, and every insert takes its values from one builder per table.

A column added to a table must be added to the named rows that read it and to the builder of
the values that insert it; these tests fail until it is, rather than the first connect.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mqtt_ca_registry.db.statements import labels
from mqtt_ca_registry.device_certificates.repository import (
    DEVICE_SELECTION,
    DeviceRow,
    NewDevice,
    NewDevicePem,
    new_device,
    registered_device,
)
from mqtt_ca_registry.events.recorder import EventType, NewEvent, new_event
from mqtt_ca_registry.models import DeviceCertificate, DeviceCertificatePem, Event
from mqtt_ca_registry.pki.certinfo import describe
from tests.support.certs import NOW, make_ca, make_leaf


def _inserted(table: object) -> set[str]:
    """Every column of a table but a generated primary key."""
    columns = table.__table__.c  # type: ignore[attr-defined]
    return {c.key for c in columns if not (c.primary_key and c.autoincrement is not False)}


def test_device_row_is_what_every_device_read_selects() -> None:
    assert DeviceRow._fields == labels(select(*DEVICE_SELECTION))
    own = {("own_status" if c.key == "status" else c.key) for c in DeviceCertificate.__table__.c}
    assert own | {"ca_sn", "status"} == set(DeviceRow._fields)


def test_each_builder_covers_every_column_of_its_table() -> None:
    assert (
        set(NewDevice._fields)
        == _inserted(DeviceCertificate)
        == {c.key for c in DeviceCertificate.__table__.c} - {"id"}
    )
    assert set(NewDevicePem._fields) == {c.key for c in DeviceCertificatePem.__table__.c}
    assert set(NewEvent._fields) == _inserted(Event) == {c.key for c in Event.__table__.c} - {"id"}


def test_builders_fill_every_value() -> None:
    leaf = describe(make_leaf(make_ca(), "built").cert, field="device_certificate")
    device = new_device(
        binding_id=3, instance_id="mqtt-cn-x", leaf=leaf, cascade_generation=2, now=NOW,
        connected=True,
    )  # fmt: skip
    assert device.status == "active" and device.status_generation == 2
    assert device.last_authenticated_at == NOW == device.registered_at
    row = registered_device(device, 9, "0a", "inactive", 3)  # a cascade after the insert
    assert (row.id, row.own_status, row.status, row.ca_sn) == (9, "active", "inactive", "0a")
    event = new_event(EventType.CA_REGISTERED, "mqtt-cn-x", occurred_at=NOW + timedelta(1))
    assert event.actor == "anonymous" and event.details == {} and event.type == "ca.registered"
