"""Shared pieces of the contract tests: live registries, SDK clients, certificates, assertions.

The official SDK (`alibabacloud-onsmqtt20200420`) is the oracle. Certificates here are valid
around the *real* clock, because a live server reads the system clock, not the tests' fixed one.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from alibabacloud_onsmqtt20200420 import models as mqtt
from alibabacloud_onsmqtt20200420.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config
from cryptography import x509
from Tea.exceptions import TeaException

from mqtt_ca_registry.config import LOCAL_ACCESS_KEY_ID, LOCAL_ACCESS_KEY_SECRET
from tests.support.certs import Issued, make_ca, make_leaf
from tests.support.servers import LiveServer

# Config.signature_algorithm per mode: None is the SDK's default ACS3-HMAC-SHA256; 'v2' selects
# the legacy RPC HMAC-SHA1 ("SignatureVersion 1.0") path.
MODES: dict[str, str | None] = {"acs3": None, "rpc": "v2"}
STYLES = ("acs3-sync", "acs3-async", "rpc-sync", "rpc-async")
MISMATCH_CODE = {"acs3": "IncompleteSignature", "rpc": "SignatureDoesNotMatch"}
DEFAULT_INSTANCE = "mqtt-cn-local"


@dataclass
class Registry:
    """One live `mqtt-ca-registry serve` process and a plain HTTP client for its REST API."""

    kind: str  # "sqlite" | "postgresql"
    server: LiveServer
    http: httpx.Client

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def endpoint(self) -> str:
        """``host:port``, as the SDK's ``Config.endpoint`` wants it."""
        return self.base_url.removeprefix("http://")

    @property
    def port(self) -> int:
        return int(self.endpoint.rsplit(":", 1)[1])

    def client(
        self,
        mode: str = "acs3",
        *,
        key_id: str = LOCAL_ACCESS_KEY_ID,
        secret: str = LOCAL_ACCESS_KEY_SECRET,
    ) -> Client:
        return Client(
            Config(
                access_key_id=key_id,
                access_key_secret=secret,
                endpoint=self.endpoint,
                protocol="http",
                signature_algorithm=MODES[mode],
            )
        )

    def new_instance(
        self, *, edition: str = "enterprise_platinum", tags: dict[str, str] | None = None
    ) -> str:
        """A fresh instance (REST), so tests sharing one server never see each other's data."""
        instance_id = f"mqtt-cn-{uuid.uuid4().hex[:12]}"
        response = self.http.post(
            "/v1/instances",
            json={
                "instance_id": instance_id,
                "name": f"contract {instance_id}",
                "edition": edition,
                "tags": tags or {},
            },
        )
        assert response.status_code == 201, response.text
        return instance_id

    def connect(self, instance_id: str, device: Issued) -> dict[str, Any]:
        """A device connect attempt through `POST /v1/instances/{id}/authenticate`."""
        response = self.http.post(
            f"/v1/instances/{instance_id}/authenticate", json={"certificate_chain": device.pem}
        )
        assert response.status_code == 200, response.text
        decision: dict[str, Any] = response.json()
        return decision


@dataclass
class Sdk:
    """One SDK client used either synchronously or through its ``*_async`` twins."""

    client: Client
    mode: str
    flavor: str  # "sync" | "async"

    async def call(self, method: str, request: Any) -> Any:
        """``client.<method>(request)`` or ``await client.<method>_async(request)``: the body."""
        if self.flavor == "sync":
            response = getattr(self.client, method)(request)
        else:
            response = await getattr(self.client, f"{method}_async")(request)
        assert response.status_code == 200
        return response.body


def sdk_for(registry: Registry, style: str, **client_kwargs: str) -> Sdk:
    mode, flavor = style.split("-")
    return Sdk(registry.client(mode, **client_kwargs), mode, flavor)


# Certificates valid around the real clock.


def _now() -> datetime:
    return datetime.now(UTC)


def new_ca(cn: str = "Contract CA", **kwargs: Any) -> Issued:
    kwargs.setdefault("not_before", _now() - timedelta(hours=1))
    kwargs.setdefault("not_after", _now() + timedelta(days=3650))
    return make_ca(cn, **kwargs)


def new_leaf(issuer: Issued, cn: str, **kwargs: Any) -> Issued:
    kwargs.setdefault("not_before", _now() - timedelta(hours=1))
    kwargs.setdefault("not_after", _now() + timedelta(days=365))
    return make_leaf(issuer, cn, **kwargs)


def millis(moment: datetime) -> str:
    """Alibaba's ValidBegin/ValidEnd: epoch milliseconds as a string."""
    return str(int(moment.timestamp()) * 1000)


def colon_upper(sn: str) -> str:
    """The Sn as some tools print it (``0A:1B:...``); the registry accepts it too."""
    return ":".join(sn[i : i + 2] for i in range(0, len(sn), 2)).upper()


def same_certificate(pem: str, expected: x509.Certificate) -> bool:
    """The PEM the API returned is a real multi-line PEM of exactly ``expected``."""
    assert "\n" in pem.strip() and "\\n" not in pem, pem[:80]
    assert pem.startswith("-----BEGIN CERTIFICATE-----\n")
    return x509.load_pem_x509_certificate(pem.encode()) == expected


# The usual steps through the SDK.


async def register_code(sdk: Sdk, instance_id: str) -> str:
    body = await sdk.call(
        "get_register_code", mqtt.GetRegisterCodeRequest(mqtt_instance_id=instance_id)
    )
    code: str = body.register_code
    return code


def registration(
    instance_id: str, ca: Issued, verification: Issued | str, name: str = "contract-ca"
) -> mqtt.RegisterCaCertificateRequest:
    return mqtt.RegisterCaCertificateRequest(
        ca_content=ca.pem,
        ca_name=name,
        mqtt_instance_id=instance_id,
        verification_content=verification if isinstance(verification, str) else verification.pem,
    )


async def register_ca(
    sdk: Sdk, instance_id: str, ca: Issued | None = None, name: str = "contract-ca"
) -> Issued:
    """Get a code, prove possession with a verification certificate, register; returns the CA."""
    ca = ca or new_ca()
    code = await register_code(sdk, instance_id)
    body = await sdk.call(
        "register_ca_certificate", registration(instance_id, ca, new_leaf(ca, code), name)
    )
    assert body.sn == ca.sn
    return ca


def register_ca_sync(client: Client, instance_id: str, ca: Issued, name: str) -> None:
    code = client.get_register_code(
        mqtt.GetRegisterCodeRequest(mqtt_instance_id=instance_id)
    ).body.register_code
    body = client.register_ca_certificate(
        registration(instance_id, ca, new_leaf(ca, code), name)
    ).body
    assert body.sn == ca.sn


def device_ids(instance_id: str, ca_sn: str, device_sn: str) -> dict[str, str]:
    """Keyword arguments of every single-device request model."""
    return {"mqtt_instance_id": instance_id, "ca_sn": ca_sn, "device_sn": device_sn}


# Errors as the SDK raises them.


async def sdk_error(call: Awaitable[Any]) -> TeaException:
    with pytest.raises(TeaException) as caught:
        await call
    return caught.value


def assert_client_error(
    error: TeaException, code: str, status: int, *fragments: str
) -> ClientException:
    """A 4xx as tea-openapi 0.4 raises it: ClientException with the body's Code and Message."""
    assert isinstance(error, ClientException), f"{type(error).__name__}: {error}"
    assert error.code == code, error.message
    assert error.status_code == status, error.message
    assert error.statusCode == status
    assert error.request_id, error.data
    assert error.message.startswith(f"code: {status}, "), error.message
    assert error.request_id in error.message
    assert error.data["Code"] == code
    # SDK users are told the SDK's actions and parameters, never the REST API's paths.
    assert "/v1/" not in error.message, error.message
    for fragment in fragments:
        assert fragment.lower() in error.message.lower(), (fragment, error.message)
    return error
