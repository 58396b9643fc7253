"""PageNo/PageSize across pages for the three list actions: 7 items, PageSize 3."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from alibabacloud_onsmqtt20200420 import models as mqtt

from tests.conftest import DATABASES
from tests.contract.conftest import Registries
from tests.contract.support import (
    STYLES,
    Registry,
    Sdk,
    assert_client_error,
    new_ca,
    new_leaf,
    register_ca_sync,
    sdk_error,
    sdk_for,
)

ITEMS = 7
LISTS = ("ca", "device", "device_by_ca")


@dataclass(frozen=True)
class Populated:
    """One instance with 7 CAs; 7 devices, all issued by the first CA."""

    registry: Registry
    instance_id: str
    ca_sns: frozenset[str]
    device_sns: frozenset[str]
    device_ca_sn: str
    empty_ca_sn: str


@pytest.fixture(scope="module", params=DATABASES)
def populated(request: pytest.FixtureRequest, registries: Registries) -> Populated:
    registry = registries.get(request.param)
    instance_id = registry.new_instance()
    client = registry.client()
    cas = [new_ca(f"Paged CA {i}") for i in range(ITEMS)]
    for i, ca in enumerate(cas):
        register_ca_sync(client, instance_id, ca, f"paged-{i}")
    devices = [new_leaf(cas[0], f"paged-device-{i}") for i in range(ITEMS)]
    for device in devices:
        assert registry.connect(instance_id, device)["auto_registered"] is True
    return Populated(
        registry,
        instance_id,
        frozenset(ca.sn for ca in cas),
        frozenset(d.sn for d in devices),
        cas[0].sn,
        cas[1].sn,
    )


@pytest.fixture(params=STYLES)
def sdk(request: pytest.FixtureRequest, populated: Populated) -> Sdk:
    return sdk_for(populated.registry, request.param)


async def _page(sdk: Sdk, populated: Populated, kind: str, no: str, size: str) -> Any:
    """(data, the Sn of each item) of one page of one list."""
    common = {"mqtt_instance_id": populated.instance_id, "page_no": no, "page_size": size}
    if kind == "ca":
        body = await sdk.call("list_ca_certificate", mqtt.ListCaCertificateRequest(**common))
        return body.data, [item.sn for item in body.data.ca_certificate_vos]
    if kind == "device":
        body = await sdk.call(
            "list_device_certificate", mqtt.ListDeviceCertificateRequest(**common)
        )
    else:
        body = await sdk.call(
            "list_device_certificate_by_ca_sn",
            mqtt.ListDeviceCertificateByCaSnRequest(ca_sn=populated.device_ca_sn, **common),
        )
    return body.data, [item.device_sn for item in body.data.device_certificate_vos]


@pytest.mark.parametrize("kind", LISTS)
async def test_pages_cover_every_item_once(sdk: Sdk, populated: Populated, kind: str) -> None:
    seen: list[str] = []
    for page_no, expected_count in ((1, 3), (2, 3), (3, 1)):
        data, sns = await _page(sdk, populated, kind, str(page_no), "3")
        assert (data.page_no, data.page_size, data.total) == (page_no, 3, ITEMS)
        assert all(type(v) is int for v in (data.page_no, data.page_size, data.total))
        assert len(sns) == expected_count, (page_no, sns)
        seen += sns
    expected = populated.ca_sns if kind == "ca" else populated.device_sns
    assert sorted(seen) == sorted(expected)  # no item twice, none missing

    data, sns = await _page(sdk, populated, kind, "4", "3")
    assert (sns, data.page_no, data.page_size, data.total) == ([], 4, 3, ITEMS)
    data, sns = await _page(sdk, populated, kind, "1", "100")
    assert (len(sns), data.total) == (ITEMS, ITEMS)


async def test_devices_of_a_ca_without_devices(sdk: Sdk, populated: Populated) -> None:
    body = await sdk.call(
        "list_device_certificate_by_ca_sn",
        mqtt.ListDeviceCertificateByCaSnRequest(
            mqtt_instance_id=populated.instance_id,
            ca_sn=populated.empty_ca_sn,
            page_no="1",
            page_size="3",
        ),
    )
    assert (body.data.device_certificate_vos, body.data.total) == ([], 0)


@pytest.mark.parametrize("kind", LISTS)
async def test_out_of_range_pages_are_parameter_errors(
    sdk: Sdk, populated: Populated, kind: str
) -> None:
    for page_no, page_size, named in (
        ("1", "0", "PageSize"),
        ("1", "101", "PageSize"),
        ("0", "3", "PageNo"),
        ("x", "3", "PageNo"),
    ):
        error = await sdk_error(_page(sdk, populated, kind, page_no, page_size))
        assert_client_error(error, "ParameterFieldCheckFailed", 400, named)
