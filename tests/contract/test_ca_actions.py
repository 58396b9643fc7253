"""The CA-certificate actions and ListInstances through the official SDK: values and types.

Every test runs on SQLite and PostgreSQL, in both signature modes (ACS3 and RPC v1) and with the
sync and the async client.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from alibabacloud_onsmqtt20200420 import models as mqtt

from tests.contract.support import (
    DEFAULT_INSTANCE,
    Registry,
    Sdk,
    assert_client_error,
    colon_upper,
    millis,
    new_ca,
    new_leaf,
    register_code,
    registration,
    same_certificate,
    sdk_error,
)
from tests.support.certs import Issued


def _assert_ca_data(data: Any, ca: Issued, *, name: str, code: str, status: str) -> None:
    """The 8 documented fields of GetCaCertificate.Data / a ListCaCertificate item."""
    assert data.ca_name == name
    assert data.sn == ca.sn
    assert same_certificate(data.ca_content, ca.cert)
    assert isinstance(data.verification_content, str)
    assert data.registration_code == code
    assert data.valid_begin == millis(ca.cert.not_valid_before_utc)
    assert data.valid_end == millis(ca.cert.not_valid_after_utc)
    assert data.status == status
    for field in ("ca_name", "sn", "valid_begin", "valid_end", "status", "registration_code"):
        assert type(getattr(data, field)) is str, field


async def test_get_register_code_gives_a_fresh_code_each_time(sdk: Sdk, instance: str) -> None:
    first = await sdk.call(
        "get_register_code", mqtt.GetRegisterCodeRequest(mqtt_instance_id=instance)
    )
    second = await register_code(sdk, instance)
    assert type(first.register_code) is str and len(first.register_code) >= 32
    assert first.register_code != second
    assert type(first.request_id) is str and first.request_id == first.request_id.upper()


async def test_register_then_get_and_list(sdk: Sdk, instance: str) -> None:
    ca = new_ca("Contract Register CA")
    code = await register_code(sdk, instance)
    verification = new_leaf(ca, code)
    registered = await sdk.call(
        "register_ca_certificate", registration(instance, ca, verification, "my ca * ~/+=&;ü 中")
    )
    assert registered.sn == ca.sn and registered.sn == registered.sn.lower()
    assert type(registered.request_id) is str

    got = await sdk.call(
        "get_ca_certificate", mqtt.GetCaCertificateRequest(mqtt_instance_id=instance, sn=ca.sn)
    )
    _assert_ca_data(got.data, ca, name="my ca * ~/+=&;ü 中", code=code, status="1")
    assert same_certificate(got.data.verification_content, verification.cert)

    # any case and colon separators resolve to the canonical Sn
    again = await sdk.call(
        "get_ca_certificate",
        mqtt.GetCaCertificateRequest(mqtt_instance_id=instance, sn=colon_upper(ca.sn)),
    )
    assert again.data.sn == ca.sn

    listed = await sdk.call(
        "list_ca_certificate",
        mqtt.ListCaCertificateRequest(mqtt_instance_id=instance, page_no="1", page_size="10"),
    )
    assert (listed.data.page_no, listed.data.page_size, listed.data.total) == (1, 10, 1)
    for field in ("page_no", "page_size", "total"):
        assert type(getattr(listed.data, field)) is int, field
    (item,) = listed.data.ca_certificate_vos
    _assert_ca_data(item, ca, name="my ca * ~/+=&;ü 中", code=code, status="1")


async def test_inactivate_activate_delete(sdk: Sdk, instance: str) -> None:
    ca = new_ca("Contract Lifecycle CA")
    code = await register_code(sdk, instance)
    await sdk.call("register_ca_certificate", registration(instance, ca, new_leaf(ca, code)))
    ids = {"mqtt_instance_id": instance, "sn": colon_upper(ca.sn)}

    async def status() -> str:
        got = await sdk.call("get_ca_certificate", mqtt.GetCaCertificateRequest(**ids))
        value: str = got.data.status
        return value

    off = await sdk.call("inactivate_ca_certificate", mqtt.InactivateCaCertificateRequest(**ids))
    assert off.sn == ca.sn and await status() == "0"
    off_again = await sdk.call(
        "inactivate_ca_certificate", mqtt.InactivateCaCertificateRequest(**ids)
    )
    assert off_again.sn == ca.sn and await status() == "0"  # idempotent
    on = await sdk.call("active_ca_certificate", mqtt.ActiveCaCertificateRequest(**ids))
    assert on.sn == ca.sn and await status() == "1"

    deleted = await sdk.call("delete_ca_certificate", mqtt.DeleteCaCertificateRequest(**ids))
    assert deleted.sn == ca.sn
    error = await sdk_error(sdk.call("get_ca_certificate", mqtt.GetCaCertificateRequest(**ids)))
    assert_client_error(error, "FindCaBySnError", 400)
    listed = await sdk.call(
        "list_ca_certificate",
        mqtt.ListCaCertificateRequest(mqtt_instance_id=instance, page_no="1", page_size="10"),
    )
    assert listed.data.ca_certificate_vos == [] and listed.data.total == 0


async def test_list_instances_without_tags(sdk: Sdk, registry: Registry) -> None:
    mine = registry.new_instance(edition="professional", tags={"team": "contract"})
    body = await sdk.call("list_instances", mqtt.ListInstancesRequest())
    assert (body.code, body.success) == ("200", "true")
    assert type(body.message) is str and type(body.request_id) is str
    by_id = {i.instance_id: i for i in body.instances}
    local = by_id[DEFAULT_INSTANCE]
    assert local.instance_type == 1 and type(local.instance_type) is int
    assert local.instance_status == 5 and type(local.instance_status) is int
    assert type(local.create_time) is int and type(local.expire_time) is int
    assert local.create_time < local.expire_time
    assert type(local.instance_name) is str and type(local.region_id) is str
    professional = by_id[mine]
    assert professional.instance_type == 4
    assert [(t.tag_key, t.tag_value) for t in professional.mqtt_tags] == [("team", "contract")]


async def test_list_instances_with_tags(sdk: Sdk, registry: Registry) -> None:
    value = f"run {uuid.uuid4().hex[:8]} * ~/+=&;é"  # characters that need percent-encoding
    wanted = registry.new_instance(tags={"contract": value, "other": "x"})
    registry.new_instance(tags={"contract": "something else"})
    registry.new_instance()
    tags = json.dumps([{"key": "contract", "value": value}])
    body = await sdk.call("list_instances", mqtt.ListInstancesRequest(tags=tags))
    assert (body.code, body.success) == ("200", "true")
    (found,) = body.instances
    assert found.instance_id == wanted
    assert found.instance_type == 1
    assert {(t.tag_key, t.tag_value) for t in found.mqtt_tags} == {
        ("contract", value),
        ("other", "x"),
    }
    nothing = json.dumps([{"key": "contract", "value": value + " not"}])
    body = await sdk.call("list_instances", mqtt.ListInstancesRequest(tags=nothing))
    assert body.instances == []
