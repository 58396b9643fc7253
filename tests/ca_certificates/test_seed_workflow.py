"""The product documentation's workflow, verbatim: its RSA and ECC openssl commands register."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from mqtt_ca_registry.clock import FrozenClock
from tests.ca_certificates.helpers import new_code
from tests.pki.openssl_seed import make_seed_ca, make_seed_verification


@pytest.mark.parametrize("kind", ["rsa", "ecc"])
async def test_seed_commands_register(
    client: httpx.AsyncClient,
    platinum_instance: str,
    clock: FrozenClock,
    tmp_path: Path,
    kind: str,
) -> None:
    ca = make_seed_ca(tmp_path, kind)  # type: ignore[arg-type]
    code = await new_code(client, platinum_instance)
    verification = make_seed_verification(tmp_path, ca, code)
    clock.set(datetime.now(UTC))  # openssl dates its certificates from the real clock
    parsed = x509.load_pem_x509_certificate(verification.read_bytes())
    assert parsed.version is x509.Version.v1  # what the seed's `openssl x509 -req` makes

    response = await client.post(
        f"/v1/instances/{platinum_instance}/ca-certificates",
        json={
            "name": f"seed-{kind}",
            "ca_certificate": ca.pem,
            "verification_certificate": verification.read_text(),
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    serial = x509.load_pem_x509_certificate(ca.pem.encode()).serial_number
    assert int(body["sn"], 16) == serial
    assert body["key_algorithm"] == ("RSA" if kind == "rsa" else "EC")
    assert body["status"] == "active"
    assert body["registration_code"] == code
