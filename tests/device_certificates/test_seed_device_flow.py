"""The product's device flow with openssl-made certificates, end to end through the REST API."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from mqtt_ca_registry.clock import FrozenClock
from tests.ca_certificates.helpers import new_code
from tests.pki.openssl_seed import SeedCa, make_seed_ca, make_seed_verification


def openssl_device(ca: SeedCa, name: str) -> str:
    """A device certificate as the docs' commands make one: an X.509 v1 leaf signed by CA.key."""
    directory = ca.directory
    key = "device.key" if ca.kind == "rsa" else "device-ec.key"
    commands = [
        f"openssl genrsa -out {key} 2048"
        if ca.kind == "rsa"
        else f"openssl ecparam -out {key} -name prime256v1 -genkey",
        f"openssl req -new -key {key} -out {name}.csr -subj /CN={name}",
        f"openssl x509 -req -in {name}.csr -CA CA.crt -CAkey CA.key -CAcreateserial "
        f"-out {name}.crt -days 365 -sha256",
    ]
    for command in commands:
        subprocess.run(command.split(), cwd=directory, check=True, capture_output=True)
    return (directory / f"{name}.crt").read_text()


async def register_seed_ca(
    client: httpx.AsyncClient, instance: str, ca: SeedCa, tmp: Path, clock: FrozenClock
) -> str:
    code = await new_code(client, instance)
    verification = make_seed_verification(tmp, ca, code)
    clock.set(datetime.now(UTC))  # openssl dates its certificates from the real clock
    response = await client.post(
        f"/v1/instances/{instance}/ca-certificates",
        json={
            "name": "seed",
            "ca_certificate": ca.pem,
            "verification_certificate": verification.read_text(),
        },
    )
    assert response.status_code == 201, response.text
    sn: str = response.json()["sn"]
    return sn


@pytest.mark.parametrize("kind", ["rsa", "ecc"])
async def test_documented_device_flow(
    client: httpx.AsyncClient, platinum_instance: str, clock: FrozenClock, tmp_path: Path, kind: str
) -> None:
    ca = make_seed_ca(tmp_path, kind)  # type: ignore[arg-type]
    ca_sn = await register_seed_ca(client, platinum_instance, ca, tmp_path, clock)
    device = openssl_device(ca, "thermostat-1")
    clock.set(datetime.now(UTC))
    base = f"/v1/instances/{platinum_instance}"

    async def connect() -> dict[str, object]:
        response = await client.post(f"{base}/authenticate", json={"certificate_chain": device})
        assert response.status_code == 200, response.text
        decision: dict[str, object] = response.json()
        return decision

    first = await connect()
    assert (first["decision"], first["auto_registered"]) == ("accepted", True), first
    device_sn = first["device"]["device_sn"]  # type: ignore[index]
    listed = (await client.get(f"{base}/ca-certificates/{ca_sn}/device-certificates")).json()
    assert [d["device_sn"] for d in listed["items"]] == [device_sn]
    device_url = f"{base}/ca-certificates/{ca_sn}/device-certificates/{device_sn}"

    await client.post(f"{device_url}/deactivate")
    assert (await connect())["reason_code"] == "device_inactive"

    await client.post(f"{base}/ca-certificates/{ca_sn}/deactivate")
    assert (await connect())["reason_code"] == "ca_inactive"
    assert (await client.get(device_url)).json()["status"] == "inactive"

    await client.post(f"{base}/ca-certificates/{ca_sn}/activate")
    accepted = await connect()
    assert (accepted["decision"], accepted["reason_code"]) == ("accepted", "accepted")
    assert (await client.get(device_url)).json()["status"] == "active"

    assert (await client.delete(f"{base}/ca-certificates/{ca_sn}")).status_code == 204
    assert (await connect())["reason_code"] == "unknown_issuer"
    assert (await client.get(device_url)).status_code == 404

    assert await register_seed_ca(client, platinum_instance, ca, tmp_path, clock) == ca_sn
    again = await connect()
    assert (again["decision"], again["auto_registered"]) == ("accepted", True)
