"""Known-good objects on a live server, so fuzzed requests reach past "404 not found".

The serials are fixed, so the ids can be handed to schemathesis when the test module is
imported; the keys are fresh in every process. The server runs on the real clock, so the
certificates are valid around the current time.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

import httpx
from cryptography.hazmat.primitives import serialization

from tests.support.certs import Issued, make_ca, make_leaf

DEFAULT_INSTANCE = "mqtt-cn-local"  # the server seeds it into a fresh database
SECOND_INSTANCE = "mqtt-cn-fuzz"  # another platinum instance, with no CA
BASIC_INSTANCE = "mqtt-cn-basic"  # an edition that cannot hold certificates (the 403 paths)
INSTANCES = {
    DEFAULT_INSTANCE: "enterprise_platinum",
    SECOND_INSTANCE: "enterprise_platinum",
    BASIC_INSTANCE: "basic",
}
CA_SERIAL = 0x0F5A_17C0_FFEE_0001
DEVICE_SERIAL = 0x0D_E71C_E000_0001


def _canonical(serial: int) -> str:
    """The Sn the API returns: lower-case hex, padded to whole bytes."""
    digits = format(serial, "x")
    return digits.zfill(len(digits) + len(digits) % 2)


def _spellings(sn: str) -> list[str]:
    """The canonical Sn and other spellings the API must accept for it."""
    pairs = [sn[i : i + 2] for i in range(0, len(sn), 2)]
    return [sn, sn.upper(), ":".join(pairs).upper(), "00" + sn]


def _validity() -> dict[str, datetime]:
    now = datetime.now(UTC)
    return {"not_before": now - timedelta(days=1), "not_after": now + timedelta(days=365)}


@dataclass(frozen=True)
class KnownObjects:
    """What :func:`ensure_known_objects` keeps on a server: instances, a CA and a device."""

    instance_ids: tuple[str, ...] = tuple(INSTANCES)

    @cached_property
    def ca(self) -> Issued:
        return make_ca("Fuzz Root CA", serial=CA_SERIAL, **_validity())

    @cached_property
    def device(self) -> Issued:
        return make_leaf(
            self.ca, "fuzz-device-001", serial=DEVICE_SERIAL, client_auth=True, **_validity()
        )

    @cached_property
    def stranger_ca(self) -> Issued:
        """A CA that is never registered: chains to it are rejected, not errors."""
        return make_ca("Unregistered CA", **_validity())

    @cached_property
    def stranger_device(self) -> Issued:
        return make_leaf(self.stranger_ca, "stranger-device", client_auth=True, **_validity())

    def chain_samples(self) -> list[str]:
        """Real certificate chains, accepted and rejected, for ``certificate_chain`` bodies."""
        der = self.device.cert.public_bytes(serialization.Encoding.DER)
        return [
            self.device.pem,
            self.device.pem + self.ca.pem,
            base64.b64encode(der).decode(),
            self.stranger_device.pem,
            self.ca.pem,
        ]

    def ca_samples(self) -> list[str]:
        """Real CA certificates for ``ca_certificate`` bodies (registration then fails later)."""
        return [self.ca.pem, self.stranger_ca.pem]

    def verification_samples(self) -> list[str]:
        """Verification certificates whose CN is no registration code."""
        return [make_leaf(self.ca, "not-a-registration-code", **_validity()).pem]

    @property
    def ca_sn(self) -> str:
        return _canonical(CA_SERIAL)

    @property
    def device_sn(self) -> str:
        return _canonical(DEVICE_SERIAL)

    def ca_sn_spellings(self) -> list[str]:
        return _spellings(self.ca_sn)

    def device_sn_spellings(self) -> list[str]:
        return _spellings(self.device_sn)


def _ok(response: httpx.Response) -> httpx.Response:
    assert response.status_code < 300, f"seeding failed: {response.request.url} {response.text}"
    return response


def _ensure_instances(client: httpx.Client) -> None:
    for instance_id, edition in INSTANCES.items():
        if client.get(f"/v1/instances/{instance_id}").status_code == 404:
            body = {"instance_id": instance_id, "name": instance_id, "edition": edition}
            _ok(client.post("/v1/instances", json=body))


def _ensure_ca(client: httpx.Client, known: KnownObjects) -> None:
    base = f"/v1/instances/{DEFAULT_INSTANCE}/ca-certificates"
    found = client.get(f"{base}/{known.ca_sn}")
    if found.status_code == 404:
        code = client.post(f"/v1/instances/{DEFAULT_INSTANCE}/registration-codes")
        verification = make_leaf(known.ca, _ok(code).json()["code"], **_validity())
        body = {
            "name": "fuzz-ca",
            "ca_certificate": known.ca.pem,
            "verification_certificate": verification.pem,
        }
        _ok(client.post(base, json=body))
    elif _ok(found).json()["status"] != "active":
        _ok(client.post(f"{base}/{known.ca_sn}/activate"))


def _ensure_device(client: httpx.Client, known: KnownObjects) -> None:
    base = f"/v1/instances/{DEFAULT_INSTANCE}"
    path = f"{base}/ca-certificates/{known.ca_sn}/device-certificates/{known.device_sn}"
    found = client.get(path)
    if found.status_code == 404:
        chain = {"certificate_chain": known.device.pem}
        _ok(client.post(f"{base}/device-certificates", json=chain))
    elif _ok(found).json()["status"] != "active":
        _ok(client.post(f"{path}/activate"))


def ensure_known_objects(base_url: str, known: KnownObjects, *, token: str | None = None) -> None:
    """Create (or restore, after fuzzing deleted or deactivated them) the known objects."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=base_url, headers=headers, trust_env=False, timeout=30) as client:
        _ensure_instances(client)
        _ensure_ca(client, known)
        _ensure_device(client, known)


#: One set per test process, shared by every test that seeds a server.
KNOWN = KnownObjects()
