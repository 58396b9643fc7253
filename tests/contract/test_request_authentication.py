"""Signature, AccessKey, clock-skew, nonce and action errors, as the SDK and a replay see them.

Expired timestamps: the SDK takes its signing time from ``Utils.get_timestamp()`` (the
``x-acs-date`` header in ACS3 mode, the ``Timestamp`` parameter in RPC mode). Patching that one
function makes the SDK sign, with its own code, a request dated 16 minutes away from the server's
clock: a genuine, correctly signed request that is simply too old (or too new).
Reused nonces: a request the SDK signed is captured on a recording server and replayed twice to
the live server with httpx, byte for byte (including its signed Host header).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from alibabacloud_onsmqtt20200420 import models as mqtt
from alibabacloud_tea_openapi import utils as openapi_utils
from alibabacloud_tea_openapi.models import OpenApiRequest, Params
from alibabacloud_tea_util.models import RuntimeOptions

from mqtt_ca_registry.config import LOCAL_ACCESS_KEY_ID, LOCAL_ACCESS_KEY_SECRET
from tests.alibaba.sdk_capture import call_and_capture, recording_server, sdk_client
from tests.contract.support import (
    MISMATCH_CODE,
    MODES,
    STYLES,
    Registry,
    Sdk,
    assert_client_error,
    sdk_error,
    sdk_for,
)

SKEW = timedelta(minutes=15)


def _list_request(instance: str) -> mqtt.ListCaCertificateRequest:
    return mqtt.ListCaCertificateRequest(mqtt_instance_id=instance, page_no="1", page_size="10")


async def test_wrong_secret(registry: Registry, instance: str, sdk: Sdk) -> None:
    wrong = sdk_for(registry, f"{sdk.mode}-{sdk.flavor}", secret="not-the-secret")
    error = await sdk_error(wrong.call("list_ca_certificate", _list_request(instance)))
    assert_client_error(error, MISMATCH_CODE[sdk.mode], 400, "signature", "AccessKeySecret")
    assert "not-the-secret" not in error.message


async def test_unknown_access_key(registry: Registry, instance: str, sdk: Sdk) -> None:
    stranger = sdk_for(registry, f"{sdk.mode}-{sdk.flavor}", key_id="LTAI5tNobodyKnowsMe")
    error = await sdk_error(stranger.call("list_ca_certificate", _list_request(instance)))
    assert_client_error(
        error, "InvalidAccessKeyId.NotFound", 404, "LTAI5tNobodyKnowsMe", "ACCESS_KEYS"
    )


@pytest.mark.parametrize("offset_minutes", [-16, 16])
async def test_timestamp_outside_fifteen_minutes(
    sdk: Sdk, instance: str, monkeypatch: pytest.MonkeyPatch, offset_minutes: int
) -> None:
    signed_at = datetime.now(UTC) + timedelta(minutes=offset_minutes)
    stamp = signed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    monkeypatch.setattr(openapi_utils.Utils, "get_timestamp", staticmethod(lambda: stamp))
    error = await sdk_error(sdk.call("list_ca_certificate", _list_request(instance)))
    assert_client_error(error, "InvalidTimeStamp.Expired", 400, stamp, "15 minutes", "clock")


async def test_timestamp_inside_fifteen_minutes(
    sdk: Sdk, instance: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stamp = (datetime.now(UTC) - SKEW + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    monkeypatch.setattr(openapi_utils.Utils, "get_timestamp", staticmethod(lambda: stamp))
    body = await sdk.call("list_ca_certificate", _list_request(instance))
    assert body.data.total == 0


async def test_reused_nonce_through_the_sdk(
    sdk: Sdk, instance: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    nonce = uuid.uuid4().hex
    monkeypatch.setattr(openapi_utils.Utils, "get_nonce", staticmethod(lambda: nonce))
    await sdk.call("list_ca_certificate", _list_request(instance))
    error = await sdk_error(sdk.call("list_ca_certificate", _list_request(instance)))
    assert_client_error(error, "SignatureNonceUsed", 400, "nonce")


@pytest.mark.parametrize("style", STYLES)
def test_replayed_request_is_refused(registry: Registry, instance: str, style: str) -> None:
    mode, flavor = style.split("-")
    with recording_server() as recorder:
        port = recorder.server_address[1]
        client = sdk_client(port, LOCAL_ACCESS_KEY_ID, LOCAL_ACCESS_KEY_SECRET, MODES[mode])
        captured = call_and_capture(
            recorder, client, flavor, "list_ca_certificate", _list_request(instance)
        )
    with httpx.Client(base_url=registry.base_url, trust_env=False) as http:

        def replay() -> httpx.Response:
            return http.request(
                captured.method,
                captured.target,
                headers=list(captured.headers),
                content=captured.body,
            )

        first = replay()
        assert first.status_code == 200, first.text
        assert first.json()["Data"]["Total"] == 0
        second = replay()
    assert second.status_code == 400
    assert second.headers["content-type"] == "application/json"
    body = second.json()
    assert body["Code"] == "SignatureNonceUsed"
    assert "nonce" in body["Message"] and body["RequestId"]


def _call_api_request(
    action: str = "DescribeMadeUpThing", version: str = "2020-04-20"
) -> tuple[Params, OpenApiRequest]:
    params = Params(
        action=action,
        version=version,
        protocol="HTTP",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    return params, OpenApiRequest(query={"MqttInstanceId": "mqtt-cn-local"})


async def _call_api(sdk: Sdk, params: Params, request: OpenApiRequest) -> object:
    if sdk.flavor == "sync":
        return sdk.client.call_api(params, request, RuntimeOptions())
    return await sdk.client.call_api_async(params, request, RuntimeOptions())


async def test_unknown_action(sdk: Sdk) -> None:
    """``call_api`` is how SDK users reach actions the generated client does not model."""
    error = await sdk_error(_call_api(sdk, *_call_api_request()))
    assert_client_error(error, "InvalidAction.NotFound", 404, "DescribeMadeUpThing")


async def test_unknown_api_version(sdk: Sdk) -> None:
    params, request = _call_api_request("GetRegisterCode", "2019-01-01")
    error = await sdk_error(_call_api(sdk, params, request))
    assert_client_error(error, "InvalidVersion", 400, "2020-04-20")
