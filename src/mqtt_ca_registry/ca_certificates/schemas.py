"""Request and response shapes of the CA-certificate API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

CA_NAME_MAX = 64
CaName = Annotated[str, StringConstraints(min_length=1, max_length=CA_NAME_MAX)]
Status = Literal["active", "inactive"]


class RegistrationCodeOut(BaseModel):
    """A fresh single-use code: put it as the CN of your verification certificate."""

    code: str
    instance_id: str
    created_at: datetime
    expires_at: datetime | None = Field(description="null: valid until used.")


class CaRegister(BaseModel):
    """A CA certificate and the verification certificate proving you hold its private key."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "factory-ca",
                    "ca_certificate": "-----BEGIN CERTIFICATE-----\nMIID...\n"
                    "-----END CERTIFICATE-----\n",
                    "verification_certificate": "-----BEGIN CERTIFICATE-----\nMIIC...\n"
                    "-----END CERTIFICATE-----\n",
                }
            ]
        },
    )

    name: CaName = Field(description="CaName, 1-64 characters.")
    ca_certificate: str = Field(description="CA.crt as PEM (base64 DER also accepted).")
    verification_certificate: str = Field(
        description="verificationCert.crt: signed by the CA's key, CN = a registration code."
    )


class CaOut(BaseModel):
    """A CA certificate as bound to one instance."""

    sn: str = Field(description="Canonical serial: lowercase hex, even number of digits.")
    name: str
    status: Status
    fingerprint_sha256: str
    subject: str
    issuer: str
    key_algorithm: Literal["RSA", "EC"]
    key_size: int
    curve: str | None
    not_before: datetime
    not_after: datetime
    registered_at: datetime
    registration_code: str
    instance_id: str
    device_count: int


class CaDetail(CaOut):
    """A CA certificate with its PEMs."""

    certificate_pem: str
    verification_certificate_pem: str
