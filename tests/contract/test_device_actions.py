"""Device-certificate actions through the SDK, after devices connect through the REST API.

Devices are registered the way the broker registers them: on their first successful connect
(`POST /v1/instances/{id}/authenticate`). Then the SDK reads and changes them, and the CA
lifecycle cascades to them.
"""

from __future__ import annotations

from typing import Any

from alibabacloud_onsmqtt20200420 import models as mqtt

from tests.contract.support import (
    Registry,
    Sdk,
    assert_client_error,
    colon_upper,
    device_ids,
    millis,
    new_ca,
    new_leaf,
    register_ca,
    same_certificate,
    sdk_error,
)
from tests.support.certs import Issued


def _connect(registry: Registry, instance: str, device: Issued) -> None:
    decision = registry.connect(instance, device)
    assert (decision["decision"], decision["auto_registered"]) == ("accepted", True), decision


def _assert_device_data(data: Any, ca: Issued, device: Issued, name: str, status: str) -> None:
    """The 7 documented fields of GetDeviceCertificate.Data / a device list item."""
    assert data.ca_sn == ca.sn
    assert data.device_sn == device.sn
    assert data.device_name == name
    assert same_certificate(data.device_content, device.cert)
    assert data.valid_begin == millis(device.cert.not_valid_before_utc)
    assert data.valid_end == millis(device.cert.not_valid_after_utc)
    assert data.status == status
    for field in ("ca_sn", "device_sn", "device_name", "valid_begin", "valid_end", "status"):
        assert type(getattr(data, field)) is str, field


async def _get_device(sdk: Sdk, instance: str, ca: Issued, device: Issued) -> Any:
    body = await sdk.call(
        "get_device_certificate",
        mqtt.GetDeviceCertificateRequest(**device_ids(instance, ca.sn, device.sn)),
    )
    return body.data


async def _list_by_ca(sdk: Sdk, instance: str, ca: Issued) -> Any:
    body = await sdk.call(
        "list_device_certificate_by_ca_sn",
        mqtt.ListDeviceCertificateByCaSnRequest(
            mqtt_instance_id=instance, ca_sn=ca.sn, page_no="1", page_size="100"
        ),
    )
    return body.data


async def test_get_and_list_devices(sdk: Sdk, registry: Registry, instance: str) -> None:
    first_ca = await register_ca(sdk, instance, new_ca("Contract Device CA 1"))
    second_ca = await register_ca(sdk, instance, new_ca("Contract Device CA 2"))
    thermostat = new_leaf(first_ca, "thermostat-1")
    lamp = new_leaf(second_ca, "lamp-1")
    _connect(registry, instance, thermostat)
    _connect(registry, instance, lamp)

    got = await sdk.call(
        "get_device_certificate",
        mqtt.GetDeviceCertificateRequest(
            **device_ids(instance, colon_upper(first_ca.sn), colon_upper(thermostat.sn))
        ),
    )
    assert type(got.request_id) is str
    _assert_device_data(got.data, first_ca, thermostat, "thermostat-1", "1")

    everything = await sdk.call(
        "list_device_certificate",
        mqtt.ListDeviceCertificateRequest(mqtt_instance_id=instance, page_no="1", page_size="10"),
    )
    assert (everything.data.page_no, everything.data.page_size, everything.data.total) == (
        1,
        10,
        2,
    )
    for field in ("page_no", "page_size", "total"):
        assert type(getattr(everything.data, field)) is int, field
    by_sn = {item.device_sn: item for item in everything.data.device_certificate_vos}
    assert set(by_sn) == {thermostat.sn, lamp.sn}
    _assert_device_data(by_sn[lamp.sn], second_ca, lamp, "lamp-1", "1")

    of_first = await _list_by_ca(sdk, instance, first_ca)
    assert (of_first.page_no, of_first.page_size, of_first.total) == (1, 100, 1)
    (item,) = of_first.device_certificate_vos
    _assert_device_data(item, first_ca, thermostat, "thermostat-1", "1")


async def test_inactivate_activate_delete_device(
    sdk: Sdk, registry: Registry, instance: str
) -> None:
    ca = await register_ca(sdk, instance)
    device = new_leaf(ca, "sensor-1")
    _connect(registry, instance, device)
    ids = device_ids(instance, colon_upper(ca.sn), colon_upper(device.sn))

    off = await sdk.call(
        "inactivate_device_certificate", mqtt.InactivateDeviceCertificateRequest(**ids)
    )
    assert off.device_sn == device.sn
    assert (await _get_device(sdk, instance, ca, device)).status == "0"
    assert registry.connect(instance, device)["reason_code"] == "device_inactive"

    on = await sdk.call("active_device_certificate", mqtt.ActiveDeviceCertificateRequest(**ids))
    assert on.device_sn == device.sn
    assert (await _get_device(sdk, instance, ca, device)).status == "1"
    assert registry.connect(instance, device)["decision"] == "accepted"

    deleted = await sdk.call(
        "delete_device_certificate", mqtt.DeleteDeviceCertificateRequest(**ids)
    )
    assert deleted.device_sn == device.sn
    error = await sdk_error(_get_device(sdk, instance, ca, device))
    assert_client_error(error, "FindDeviceBySnError", 400, device.sn)
    # a deleted device registers again at its next connect
    _connect(registry, instance, device)
    assert (await _get_device(sdk, instance, ca, device)).status == "1"


async def test_ca_lifecycle_cascades_to_devices(
    sdk: Sdk, registry: Registry, instance: str
) -> None:
    ca = await register_ca(sdk, instance, new_ca("Contract Cascade CA"))
    devices = [new_leaf(ca, f"meter-{i}") for i in range(3)]
    for device in devices:
        _connect(registry, instance, device)
    ca_ids = {"mqtt_instance_id": instance, "sn": ca.sn}

    async def statuses() -> tuple[list[str], list[str]]:
        one_by_one = [(await _get_device(sdk, instance, ca, d)).status for d in devices]
        listed = await _list_by_ca(sdk, instance, ca)
        by_sn = {item.device_sn: item.status for item in listed.device_certificate_vos}
        return one_by_one, [by_sn[d.sn] for d in devices]

    assert await statuses() == (["1"] * 3, ["1"] * 3)

    await sdk.call("inactivate_ca_certificate", mqtt.InactivateCaCertificateRequest(**ca_ids))
    assert await statuses() == (["0"] * 3, ["0"] * 3)
    assert registry.connect(instance, devices[0])["reason_code"] == "ca_inactive"
    error = await sdk_error(
        sdk.call(
            "active_device_certificate",
            mqtt.ActiveDeviceCertificateRequest(**device_ids(instance, ca.sn, devices[0].sn)),
        )
    )
    assert_client_error(error, "Emulator.CaCertificateInactive", 400)

    await sdk.call("active_ca_certificate", mqtt.ActiveCaCertificateRequest(**ca_ids))
    assert await statuses() == (["1"] * 3, ["1"] * 3)

    # activating the CA overrides a device's own deactivation (the seed's words)
    await sdk.call(
        "inactivate_device_certificate",
        mqtt.InactivateDeviceCertificateRequest(**device_ids(instance, ca.sn, devices[1].sn)),
    )
    assert await statuses() == (["1", "0", "1"], ["1", "0", "1"])
    await sdk.call("inactivate_ca_certificate", mqtt.InactivateCaCertificateRequest(**ca_ids))
    await sdk.call("active_ca_certificate", mqtt.ActiveCaCertificateRequest(**ca_ids))
    assert await statuses() == (["1"] * 3, ["1"] * 3)

    await sdk.call("delete_ca_certificate", mqtt.DeleteCaCertificateRequest(**ca_ids))
    for device in devices:
        error = await sdk_error(_get_device(sdk, instance, ca, device))
        assert_client_error(error, "FindCaBySnError", 400, ca.sn)
    everything = await sdk.call(
        "list_device_certificate",
        mqtt.ListDeviceCertificateRequest(mqtt_instance_id=instance, page_no="1", page_size="10"),
    )
    assert (everything.data.device_certificate_vos, everything.data.total) == ([], 0)
