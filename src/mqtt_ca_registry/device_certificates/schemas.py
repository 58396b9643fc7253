"""Request and response shapes of the device-certificate and authenticate API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mqtt_ca_registry.device_certificates.outcomes import ConnectReason

Status = Literal["active", "inactive"]


class ChainIn(BaseModel):
    """A device's certificate chain as a TLS client would present it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "certificate_chain": "-----BEGIN CERTIFICATE-----\nMIIC...(device)\n"
                    "-----END CERTIFICATE-----\n"
                }
            ]
        },
    )

    certificate_chain: str = Field(
        description="PEM, leaf first, then any intermediates (base64 DER of one certificate "
        "also accepted). The CA itself need not be sent."
    )


class DeviceOut(BaseModel):
    """A device certificate registered on an instance under one CA."""

    device_sn: str
    ca_sn: str
    device_name: str | None = Field(description="The subject CN.")
    status: Status = Field(description="Effective status, after CA cascades.")
    fingerprint_sha256: str
    subject: str
    not_before: datetime
    not_after: datetime
    registered_at: datetime
    last_authenticated_at: datetime | None
    instance_id: str


class DeviceDetail(DeviceOut):
    certificate_pem: str


class Decision(BaseModel):
    """What the broker decides when a device connects with this chain."""

    decision: Literal["accepted", "rejected"]
    reason_code: ConnectReason = Field(
        description="accepted, auto_registered, or why not: the certificates (expired, "
        "not_yet_valid, bad_signature, unknown_issuer, purpose, weak_key, weak_digest, ...) or "
        "the registry (ca_inactive, device_inactive, serial_conflict)."
    )
    reason: str
    auto_registered: bool
    device: DeviceOut | None
    ca_sn: str | None
