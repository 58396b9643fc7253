"""Rows read by the hot path's Core statements become DeviceRecords by position."""

from __future__ import annotations

from mqtt_ca_registry.device_certificates.repository import DEVICE_COLUMNS, DeviceRecord


def test_device_record_lists_every_column_of_the_table_in_order() -> None:
    assert tuple(DeviceRecord.__dataclass_fields__) == tuple(c.key for c in DEVICE_COLUMNS)
