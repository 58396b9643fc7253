"""Device certificates through the REST API: authenticate decisions, registry step, lifecycle."""

from __future__ import annotations

import base64
from datetime import timedelta

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from mqtt_ca_registry.clock import FrozenClock
from tests.ca_certificates.helpers import registered_ca
from tests.ca_certificates.test_lifecycle import connect
from tests.instances.test_router import assert_problem
from tests.support.certs import NOW, make_ca, make_leaf


def device_url(instance_id: str, ca_sn: str, device_sn: str) -> str:
    return f"/v1/instances/{instance_id}/ca-certificates/{ca_sn}/device-certificates/{device_sn}"


class TestAuthenticate:
    async def test_ok_first_then_known(
        self, client: httpx.AsyncClient, platinum_instance: str, clock: FrozenClock
    ) -> None:
        ca = await registered_ca(client, platinum_instance)
        device = make_leaf(ca, "sensor-7")
        first = await connect(client, platinum_instance, device)
        assert first["decision"] == "accepted"
        assert first["reason_code"] == "auto_registered"
        assert first["auto_registered"] is True
        assert first["ca_sn"] == ca.sn
        record = first["device"]
        assert isinstance(record, dict)
        assert record["device_sn"] == device.sn
        assert record["device_name"] == "sensor-7"
        assert record["status"] == "active"
        assert record["last_authenticated_at"] == "2026-06-01T12:00:00Z"

        clock.advance(timedelta(seconds=30))
        second = await connect(client, platinum_instance, device)
        assert (second["decision"], second["reason_code"], second["auto_registered"]) == (
            "accepted",
            "accepted",
            False,
        )
        # recorded at most once a minute: a known device's connect stays a read
        assert second["device"]["last_authenticated_at"] == "2026-06-01T12:00:00Z"  # type: ignore[index]
        clock.advance(timedelta(seconds=31))
        third = await connect(client, platinum_instance, device)
        assert third["device"]["last_authenticated_at"] == "2026-06-01T12:01:01Z"  # type: ignore[index]

    async def test_ok_with_intermediate(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        root = await registered_ca(client, platinum_instance)
        intermediate = make_ca("Intermediate", issuer=root)
        device = make_leaf(intermediate, "behind-intermediate")
        response = await client.post(
            f"/v1/instances/{platinum_instance}/authenticate",
            json={"certificate_chain": device.pem + intermediate.pem},
        )
        assert response.json()["decision"] == "accepted", response.json()
        assert response.json()["ca_sn"] == root.sn
        missing = await connect(client, platinum_instance, make_leaf(intermediate, "alone"))
        assert missing["reason_code"] == "unknown_issuer"

    async def test_ok_base64_der(self, client: httpx.AsyncClient, platinum_instance: str) -> None:
        ca = await registered_ca(client, platinum_instance)
        der = make_leaf(ca, "der-device").cert.public_bytes(serialization.Encoding.DER)
        response = await client.post(
            f"/v1/instances/{platinum_instance}/authenticate",
            json={"certificate_chain": base64.b64encode(der).decode()},
        )
        assert response.json()["decision"] == "accepted"

    @pytest.mark.parametrize(
        ("make", "reason"),
        [
            pytest.param(
                lambda ca: make_leaf(ca, "old", not_after=NOW - timedelta(seconds=1)),
                "expired",
                id="fail/expired",
            ),
            pytest.param(
                lambda ca: make_leaf(ca, "new", not_before=NOW + timedelta(seconds=1)),
                "not_yet_valid",
                id="fail/not-yet-valid",
            ),
            pytest.param(
                lambda ca: make_leaf(ca, "edge", not_after=NOW),
                "accepted",
                id="ok/exactly-at-not-after",
            ),
            pytest.param(
                lambda ca: make_leaf(
                    make_ca(ca.cert.subject.rfc4514_string()), "forged", issuer_name=ca.cert.subject
                ),
                "bad_signature",
                id="fail/forged-same-issuer-name",
            ),
            pytest.param(
                lambda ca: make_leaf(make_ca("Stranger CA"), "stranger"),
                "unknown_issuer",
                id="fail/unknown-issuer",
            ),
            pytest.param(
                lambda ca: make_leaf(ca, "server", client_auth=False),
                "purpose",
                id="fail/server-auth-only",
            ),
            pytest.param(
                lambda ca: make_leaf(ca, "client", client_auth=True),
                "auto_registered",
                id="ok/client-auth-eku",
            ),
        ],
    )
    async def test_chain_decisions(
        self, client: httpx.AsyncClient, platinum_instance: str, make: object, reason: str
    ) -> None:
        ca = await registered_ca(client, platinum_instance)
        device = make(ca)  # type: ignore[operator]
        decision = await connect(client, platinum_instance, device)
        assert decision["reason_code"] in (
            reason,
            "auto_registered" if reason == "accepted" else reason,
        ), decision
        assert (decision["decision"] == "accepted") == (reason in ("accepted", "auto_registered"))
        assert decision["reason"]

    async def test_fail_ca_bound_to_another_instance_only(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        await client.post(
            "/v1/instances",
            json={"instance_id": "elsewhere", "name": "e", "edition": "enterprise_platinum"},
        )
        ca = await registered_ca(client, "elsewhere")
        decision = await connect(client, platinum_instance, make_leaf(ca, "roamer"))
        assert decision["reason_code"] == "unknown_issuer"
        assert (await connect(client, "elsewhere", make_leaf(ca, "roamer")))[
            "decision"
        ] == "accepted"

    async def test_fail_serial_conflict(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        ca = await registered_ca(client, platinum_instance)
        await connect(client, platinum_instance, make_leaf(ca, "original", serial=0xD00D))
        decision = await connect(
            client, platinum_instance, make_leaf(ca, "impostor", serial=0xD00D)
        )
        assert decision["decision"] == "rejected"
        assert decision["reason_code"] == "serial_conflict"
        assert decision["device"]["device_name"] == "original"  # type: ignore[index]

    @pytest.mark.parametrize(
        "chain",
        [
            "",
            "not a certificate",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
        ],
    )
    async def test_fail_not_a_certificate_is_422(
        self, client: httpx.AsyncClient, platinum_instance: str, chain: str
    ) -> None:
        response = await client.post(
            f"/v1/instances/{platinum_instance}/authenticate", json={"certificate_chain": chain}
        )
        assert response.status_code == 422
        assert response.json()["code"] in (
            "CertificateMissing",
            "CertificateMalformed",
            "PrivateKeyRejected",
        )

    async def test_fail_chain_too_long(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        ca = await registered_ca(client, platinum_instance)
        chain = "".join(make_leaf(ca, f"d{i}").pem for i in range(11))
        response = await client.post(
            f"/v1/instances/{platinum_instance}/authenticate", json={"certificate_chain": chain}
        )
        assert_problem(response, 422, "ChainTooLong")

    async def test_fail_unknown_instance(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/v1/instances/nope-nope/authenticate", json={"certificate_chain": "x"}
        )
        assert_problem(response, 404, "InstanceNotFound")


class TestDeviceLifecycle:
    async def test_flow(self, client: httpx.AsyncClient, platinum_instance: str) -> None:
        ca = await registered_ca(client, platinum_instance)
        device = make_leaf(ca, "lamp")
        await connect(client, platinum_instance, device)
        url = device_url(platinum_instance, ca.sn, device.sn)
        ca_url = f"/v1/instances/{platinum_instance}/ca-certificates/{ca.sn}"

        detail = (await client.get(url)).json()
        assert detail["certificate_pem"] == device.pem
        assert detail["status"] == "active"

        assert (await client.post(f"{url}/deactivate")).json()["status"] == "inactive"
        assert (await connect(client, platinum_instance, device))[
            "reason_code"
        ] == "device_inactive"

        await client.post(f"{ca_url}/deactivate")
        assert (await connect(client, platinum_instance, device))["reason_code"] == "ca_inactive"
        refused = await client.post(f"{url}/activate")
        assert_problem(refused, 409, "CaBindingInactive")

        await client.post(f"{ca_url}/activate")
        assert (await client.get(url)).json()["status"] == "active"
        assert (await connect(client, platinum_instance, device))["decision"] == "accepted"

        assert (await client.delete(url)).status_code == 204
        assert_problem(await client.get(url), 404, "DeviceNotFound")
        again = await connect(client, platinum_instance, device)
        assert again["auto_registered"] is True

    async def test_lists_and_filters(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        ca1 = await registered_ca(client, platinum_instance, cn="CA one")
        ca2 = await registered_ca(client, platinum_instance, cn="CA two")
        for i in range(3):
            await connect(client, platinum_instance, make_leaf(ca1, f"one-{i}"))
        await connect(client, platinum_instance, make_leaf(ca2, "two-0"))
        base = f"/v1/instances/{platinum_instance}/device-certificates"
        everything = (await client.get(base)).json()
        assert everything["total"] == 4
        by_ca = (await client.get(base, params={"ca_sn": ca1.sn.upper()})).json()
        assert [d["device_name"] for d in by_ca["items"]] == ["one-0", "one-1", "one-2"]
        page1 = (await client.get(base, params={"page_size": 3})).json()
        page2 = (
            await client.get(base, params={"page_size": 3, "cursor": page1["next_cursor"]})
        ).json()
        assert [d["device_name"] for d in page1["items"] + page2["items"]] == [
            "one-0",
            "one-1",
            "one-2",
            "two-0",
        ]
        assert page2["next_cursor"] is None
        unknown_ca = await client.get(base, params={"ca_sn": "abcdef"})
        assert_problem(unknown_ca, 404, "CaNotFound")

    async def test_unknown_device_and_bad_sn(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        ca = await registered_ca(client, platinum_instance)
        assert_problem(
            await client.get(device_url(platinum_instance, ca.sn, "0a")), 404, "DeviceNotFound"
        )
        assert_problem(
            await client.get(device_url(platinum_instance, ca.sn, "x" * 200)), 400, "InvalidSn"
        )


class TestExplicitRegistration:
    async def test_created_then_existing(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        ca = await registered_ca(client, platinum_instance)
        device = make_leaf(ca, "pre-registered")
        url = f"/v1/instances/{platinum_instance}/device-certificates"
        created = await client.post(url, json={"certificate_chain": device.pem})
        assert created.status_code == 201, created.text
        assert created.json()["last_authenticated_at"] is None
        again = await client.post(url, json={"certificate_chain": device.pem})
        assert again.status_code == 200

    async def test_refused(self, client: httpx.AsyncClient, platinum_instance: str) -> None:
        ca = await registered_ca(client, platinum_instance)
        url = f"/v1/instances/{platinum_instance}/device-certificates"
        expired = make_leaf(ca, "expired", not_after=NOW - timedelta(days=1))
        problem = assert_problem(
            await client.post(url, json={"certificate_chain": expired.pem}), 422, "DeviceRejected"
        )
        assert "expired" in str(problem["detail"])
        await client.post(url, json={"certificate_chain": make_leaf(ca, "a", serial=0xAB).pem})
        conflict = await client.post(
            url, json={"certificate_chain": make_leaf(ca, "b", serial=0xAB).pem}
        )
        assert_problem(conflict, 409, "SnNotUnique")
