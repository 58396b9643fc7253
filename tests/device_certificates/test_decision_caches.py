"""The per-process caches of `authenticate` never change an answer (issue 11, items 1, 3, 4).

Each test first lets the caches remember something, then changes the registry under them, and
checks every connect is decided as a fresh process would decide it.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from mqtt_ca_registry.app import create_app
from mqtt_ca_registry.clock import FrozenClock
from mqtt_ca_registry.config import Settings
from mqtt_ca_registry.db.session import Database
from mqtt_ca_registry.device_certificates.caches import (
    ENTRY_OVERHEAD,
    AuthenticationCaches,
    ByteBoundedLru,
)
from tests.ca_certificates.helpers import register, registered_ca
from tests.device_certificates.test_devices import device_url
from tests.support.certs import Issued, make_ca, make_leaf, name
from tests.support.servers import LiveServer, LiveServerFactory


async def _decide(client: httpx.AsyncClient, instance_id: str, chain: str) -> dict[str, object]:
    response = await client.post(
        f"/v1/instances/{instance_id}/authenticate", json={"certificate_chain": chain}
    )
    assert response.status_code == 200, response.text
    decision: dict[str, object] = response.json()
    return decision


def _verdict(decision: dict[str, object]) -> tuple[object, ...]:
    device = decision["device"]
    device_ca = device["ca_sn"] if isinstance(device, dict) else None
    return decision["decision"], decision["reason_code"], decision["ca_sn"], device_ca


class TestCaReplacedUnderTheSameSerial:
    """Item 1: delete CA A, register CA B (another key) with A's serial and subject."""

    async def test_fail_devices_of_the_deleted_ca(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        serial, subject = 0x5E7A11, name("Reused Serial CA")
        ca_a = make_ca(serial=serial, subject=subject)
        assert (await register(client, platinum_instance, ca_a)).status_code == 201
        known_a = make_leaf(ca_a, "a-known")
        first = await _decide(client, platinum_instance, known_a.pem)
        assert first["reason_code"] == "auto_registered"

        deleted = await client.delete(
            f"/v1/instances/{platinum_instance}/ca-certificates/{format(serial, 'x')}"
        )
        assert deleted.status_code == 204
        ca_b = make_ca(serial=serial, subject=subject)  # a new key, same serial and subject
        assert (await register(client, platinum_instance, ca_b)).status_code == 201

        # A's devices (seen before, or new) do not chain to B: OpenSSL refuses the signature.
        for device in (known_a, make_leaf(ca_a, "a-new")):
            decision = await _decide(client, platinum_instance, device.pem)
            assert (decision["decision"], decision["reason_code"]) == (
                "rejected",
                "bad_signature",
            ), decision
        # B's own devices are B's.
        own = await _decide(client, platinum_instance, make_leaf(ca_b, "b-new").pem)
        assert _verdict(own) == ("accepted", "auto_registered", ca_b.sn, ca_b.sn)


class TestChainSpellings:
    """Item 3: a chain already seen in other spellings is decided on its certificates."""

    async def test_ok_decision_and_device_record_follow_the_new_anchor(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        root = await registered_ca(client, platinum_instance)
        intermediate = make_ca("Spelled Intermediate", issuer=root)
        device = make_leaf(intermediate, "spelled-device")
        chain = device.pem + intermediate.pem
        seen = [chain + " " * n for n in range(5)]
        for spelling in seen:
            decision = await _decide(client, platinum_instance, spelling)
            assert decision["decision"] == "accepted" and decision["ca_sn"] == root.sn

        # Registering the intermediate makes it the anchor OpenSSL stops at: the device's
        # record is now the one under the intermediate, for every spelling.
        assert (await register(client, platinum_instance, intermediate)).status_code == 201
        unseen = chain + "\n\n"
        registered = await _decide(client, platinum_instance, unseen)
        assert _verdict(registered) == (
            "accepted",
            "auto_registered",
            intermediate.sn,
            intermediate.sn,
        )
        for spelling in seen:
            decision = await _decide(client, platinum_instance, spelling)
            assert _verdict(decision) == (
                "accepted",
                "accepted",
                intermediate.sn,
                intermediate.sn,
            ), decision

        deactivated = await client.post(
            device_url(platinum_instance, intermediate.sn, device.sn) + "/deactivate"
        )
        assert deactivated.status_code == 200, deactivated.text
        for spelling in [*seen, unseen, chain + "\r\n"]:
            decision = await _decide(client, platinum_instance, spelling)
            assert _verdict(decision) == (
                "rejected",
                "device_inactive",
                intermediate.sn,
                intermediate.sn,
            ), decision


def _bulky_leaf(issuer: Issued, cn: str, size: int) -> Issued:
    """A client certificate carrying a large non-critical private extension."""
    bulky = make_leaf(issuer, cn)
    builder = (
        x509.CertificateBuilder()
        .subject_name(bulky.cert.subject)
        .issuer_name(issuer.cert.subject)
        .public_key(bulky.key.public_key())
        .serial_number(bulky.cert.serial_number)
        .not_valid_before(bulky.cert.not_valid_before_utc)
        .not_valid_after(bulky.cert.not_valid_after_utc)
        .add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"x" * size),
            critical=False,
        )
    )
    return Issued(builder.sign(issuer.key, hashes.SHA256()), bulky.key)  # type: ignore[arg-type]


def _resident_mib(server: LiveServer) -> float:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return kib / 1024


def _register_over_http(client: httpx.Client, ca: Issued) -> None:
    base = "/v1/instances/mqtt-cn-local"
    code = client.post(f"{base}/registration-codes").json()["code"]
    response = client.post(
        f"{base}/ca-certificates",
        json={
            "name": "bulky",
            "ca_certificate": ca.pem,
            "verification_certificate": make_leaf(ca, code).pem,
        },
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("scratch_database_url", ["sqlite", "postgresql"], indirect=True)
def test_memory_stays_flat_over_spellings_of_one_bulky_chain(
    live_server: LiveServerFactory, scratch_database_url: str
) -> None:
    """Item 4: one accepted leaf with a ~400 KB extension, sent in 300 spellings."""
    server = live_server.start(scratch_database_url)
    ca = make_ca("Bulky CA")
    leaf = _bulky_leaf(ca, "bulky-device", 400_000)
    with httpx.Client(base_url=server.base_url, trust_env=False, timeout=30) as client:
        _register_over_http(client, ca)

        def send(spelling: int) -> None:
            response = client.post(
                "/v1/instances/mqtt-cn-local/authenticate",
                json={"certificate_chain": leaf.pem + " " * spelling},
            )
            assert response.status_code == 200, response.text
            assert response.json()["decision"] == "accepted", response.text

        for spelling in range(20):  # warm up: allocator arenas, first registration
            send(spelling)
        before = _resident_mib(server)
        for spelling in range(20, 320):
            send(spelling)
        grown = _resident_mib(server) - before
    # Each spelling kept its own copy of the leaf before (~0.55 MB each, ~165 MB here).
    assert grown < 48, f"resident memory grew {grown:.0f} MiB over 300 spellings of one chain"


INSTANCE = "mqtt-cn-bytes"


class TestBoundedInBytes:
    """Item 4: caches hold what a chain is, once, and never more bytes than they are given."""

    async def test_spellings_collapse_and_the_bound_holds(
        self, settings: Settings, clock: FrozenClock, database: Database
    ) -> None:
        app = create_app(settings, clock=clock, database=database)
        caches = AuthenticationCaches(max_decision_bytes=16_384, max_store_bytes=1_000_000)
        app.state.backend.authenticator.caches = caches
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as c:
            created = await c.post(
                "/v1/instances",
                json={
                    "instance_id": INSTANCE,
                    "name": "b",
                    "edition": "enterprise_platinum",
                },
            )
            assert created.status_code == 201
            ca = await registered_ca(c, INSTANCE)
            leaf = _bulky_leaf(ca, "bulky", 100_000)
            for spelling in range(10):
                decision = await _decide(c, INSTANCE, leaf.pem + "\n" * spelling)
                assert decision["decision"] == "accepted"
            assert len(caches.decisions) == 1  # ten spellings, one chain

            devices = [_bulky_leaf(ca, f"bulky-{n}", 100_000) for n in range(30)]
            for device in [*devices, *devices[:3]]:  # the first ones were evicted meanwhile
                decision = await _decide(c, INSTANCE, device.pem)
                assert decision["decision"] == "accepted", decision
            assert 0 < len(caches.decisions) < 30
            assert caches.decisions.bytes <= 16_384
            assert caches.stores.bytes <= 1_000_000 and len(caches.stores) == 1


def test_an_lru_bounded_in_bytes_drops_the_least_recently_used() -> None:
    lru: ByteBoundedLru[str, str] = ByteBoundedLru(max_bytes=3 * (ENTRY_OVERHEAD + 100))
    for key in "abc":
        lru.put(key, key, 100)
    assert lru.get("a") == "a"  # a is now the most recently used
    lru.put("d", "d", 100)
    assert (lru.get("b"), lru.get("a"), lru.get("c"), lru.get("d")) == (None, "a", "c", "d")
    lru.put("huge", "huge", 10 * (ENTRY_OVERHEAD + 100))  # larger than the whole cache
    assert lru.get("huge") is None and len(lru) == 3
    assert lru.bytes == 3 * (ENTRY_OVERHEAD + 100)
