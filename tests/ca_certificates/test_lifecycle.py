"""CA queries and lifecycle (activate, deregister, delete, download) with cascades to devices."""

from __future__ import annotations

import httpx
import pytest

from tests.ca_certificates.helpers import new_code, register, registered_ca
from tests.instances.test_router import assert_problem
from tests.support.certs import Issued, make_ca, make_leaf


async def connect(client: httpx.AsyncClient, instance_id: str, device: Issued) -> dict[str, object]:
    response = await client.post(
        f"/v1/instances/{instance_id}/authenticate", json={"certificate_chain": device.pem}
    )
    assert response.status_code == 200, response.text
    decision: dict[str, object] = response.json()
    return decision


async def device_statuses(client: httpx.AsyncClient, instance_id: str, ca_sn: str) -> list[str]:
    response = await client.get(
        f"/v1/instances/{instance_id}/ca-certificates/{ca_sn}/device-certificates",
        params={"page_size": 100},
    )
    assert response.status_code == 200, response.text
    return [d["status"] for d in response.json()["items"]]


class TestListCaCertificates:
    async def test_ok_pages_filters_total(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        cas = [await registered_ca(client, platinum_instance, cn=f"CA {i}") for i in range(5)]
        await client.post(
            f"/v1/instances/{platinum_instance}/ca-certificates/{cas[1].sn}/deactivate"
        )
        base = f"/v1/instances/{platinum_instance}/ca-certificates"

        first = (await client.get(base, params={"page_size": 2})).json()
        assert first["total"] == 5
        assert [c["sn"] for c in first["items"]] == [cas[0].sn, cas[1].sn]
        second = (
            await client.get(base, params={"page_size": 2, "cursor": first["next_cursor"]})
        ).json()
        third = (
            await client.get(base, params={"page_size": 2, "cursor": second["next_cursor"]})
        ).json()
        assert [c["sn"] for c in second["items"] + third["items"]] == [c.sn for c in cas[2:]]
        assert third["next_cursor"] is None

        inactive = (await client.get(base, params={"status": "inactive"})).json()
        assert [c["sn"] for c in inactive["items"]] == [cas[1].sn]
        assert inactive["total"] == 1
        active = (await client.get(base, params={"status": "active"})).json()
        assert active["total"] == 4

        spelled = ":".join(cas[3].sn[i : i + 2] for i in range(0, len(cas[3].sn), 2)).upper()
        by_sn = (await client.get(base, params={"sn": "00" + spelled})).json()
        assert [c["sn"] for c in by_sn["items"]] == [cas[3].sn]
        assert "certificate_pem" not in by_sn["items"][0]

    async def test_fail_bad_status(self, client: httpx.AsyncClient, platinum_instance: str) -> None:
        response = await client.get(
            f"/v1/instances/{platinum_instance}/ca-certificates", params={"status": "on"}
        )
        assert_problem(response, 422, "ValidationFailed")

    async def test_fail_bad_sn_filter(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        response = await client.get(
            f"/v1/instances/{platinum_instance}/ca-certificates", params={"sn": "xyz"}
        )
        assert_problem(response, 400, "InvalidSn")


class TestGetCaCertificate:
    @pytest.mark.parametrize("spelling", ["canonical", "upper", "colons", "leading-zeros"])
    async def test_ok_any_spelling(
        self, client: httpx.AsyncClient, platinum_instance: str, spelling: str
    ) -> None:
        ca = await registered_ca(client, platinum_instance, serial=0x0ABCDEF123)
        sn = {
            "canonical": ca.sn,
            "upper": ca.sn.upper(),
            "colons": ":".join(ca.sn[i : i + 2] for i in range(0, len(ca.sn), 2)),
            "leading-zeros": "0000" + ca.sn,
        }[spelling]
        response = await client.get(f"/v1/instances/{platinum_instance}/ca-certificates/{sn}")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["sn"] == "0abcdef123"
        assert body["certificate_pem"] == ca.pem
        assert body["registration_code"]
        assert body["verification_certificate_pem"].startswith("-----BEGIN CERTIFICATE-----")

    async def test_fail_unknown(self, client: httpx.AsyncClient, platinum_instance: str) -> None:
        response = await client.get(f"/v1/instances/{platinum_instance}/ca-certificates/0badc0de")
        assert_problem(response, 404, "CaNotFound")

    async def test_fail_sn_over_128_bytes(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        response = await client.get(
            f"/v1/instances/{platinum_instance}/ca-certificates/{'a' * 129}"
        )
        assert_problem(response, 400, "InvalidSn")

    async def test_fail_not_hex(self, client: httpx.AsyncClient, platinum_instance: str) -> None:
        response = await client.get(f"/v1/instances/{platinum_instance}/ca-certificates/zz-top")
        assert_problem(response, 400, "InvalidSn")

    async def test_download_pem_attachment(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        ca = await registered_ca(client, platinum_instance)
        response = await client.get(
            f"/v1/instances/{platinum_instance}/ca-certificates/{ca.sn}/pem"
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/x-pem-file"
        assert response.headers["content-disposition"] == f'attachment; filename="{ca.sn}.pem"'
        assert response.text == ca.pem


class TestActivateDeactivate:
    async def test_ok_idempotent_with_cascade(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        ca = await registered_ca(client, platinum_instance)
        devices = [make_leaf(ca, f"device-{i}") for i in range(3)]
        for device in devices:
            assert (await connect(client, platinum_instance, device))["auto_registered"] is True
        base = f"/v1/instances/{platinum_instance}/ca-certificates/{ca.sn}"
        # one device deactivated on its own
        response = await client.post(f"{base}/device-certificates/{devices[0].sn}/deactivate")
        assert response.json()["status"] == "inactive"

        for _ in range(2):  # idempotent
            response = await client.post(f"{base}/deactivate")
            assert response.status_code == 200
            assert response.json()["status"] == "inactive"
            assert response.json()["device_count"] == 3
        assert await device_statuses(client, platinum_instance, ca.sn) == ["inactive"] * 3

        for _ in range(2):
            response = await client.post(f"{base}/activate")
            assert response.json()["status"] == "active"
        # activation overrides the individual deactivation (the seed's words)
        assert await device_statuses(client, platinum_instance, ca.sn) == ["active"] * 3

        # a device change after the cascade wins over it
        await client.post(f"{base}/device-certificates/{devices[2].sn}/deactivate")
        assert await device_statuses(client, platinum_instance, ca.sn) == [
            "active",
            "active",
            "inactive",
        ]
        filtered = await client.get(
            f"/v1/instances/{platinum_instance}/device-certificates",
            params={"status": "inactive"},
        )
        assert [d["device_sn"] for d in filtered.json()["items"]] == [devices[2].sn]
        assert filtered.json()["total"] == 1

    async def test_fail_unknown(self, client: httpx.AsyncClient, platinum_instance: str) -> None:
        response = await client.post(
            f"/v1/instances/{platinum_instance}/ca-certificates/01/activate"
        )
        assert_problem(response, 404, "CaNotFound")


class TestDeleteCaCertificate:
    async def test_ok_cascades_and_frees_the_serial(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        ca = await registered_ca(client, platinum_instance, serial=0x77)
        device = make_leaf(ca, "device-x")
        await connect(client, platinum_instance, device)
        base = f"/v1/instances/{platinum_instance}/ca-certificates/{ca.sn}"

        response = await client.delete(base)
        assert response.status_code == 204
        assert_problem(await client.get(base), 404, "CaNotFound")
        listed = await client.get(f"/v1/instances/{platinum_instance}/device-certificates")
        assert listed.json()["total"] == 0
        decision = await connect(client, platinum_instance, device)
        assert decision["reason_code"] == "unknown_issuer"
        # the CA record went with its last binding: its serial is free for another certificate
        other = make_ca("Other CA", serial=0x77)
        assert (await register(client, platinum_instance, other)).status_code == 201

    async def test_ok_record_stays_while_bound_elsewhere(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        await client.post(
            "/v1/instances",
            json={"instance_id": "second-one", "name": "s", "edition": "enterprise_platinum"},
        )
        ca = await registered_ca(client, platinum_instance, serial=0x99)
        assert (await register(client, "second-one", ca)).status_code == 201
        device = make_leaf(ca, "device-y")
        await connect(client, platinum_instance, device)
        await connect(client, "second-one", device)

        assert (
            await client.delete(f"/v1/instances/{platinum_instance}/ca-certificates/99")
        ).status_code == 204
        still = await client.get("/v1/instances/second-one/ca-certificates/99")
        assert still.status_code == 200
        assert still.json()["device_count"] == 1
        assert_problem(
            await register(client, platinum_instance, make_ca(serial=0x99)), 409, "SnNotUnique"
        )
        # registering it again here (with a new code) works, and its devices re-register
        again = await register(
            client, platinum_instance, ca, code=await new_code(client, platinum_instance)
        )
        assert again.status_code == 201
        assert (await connect(client, platinum_instance, device))["auto_registered"] is True

    async def test_instance_delete_takes_bindings_devices_and_orphans(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        ca = await registered_ca(client, platinum_instance, serial=0x55)
        await connect(client, platinum_instance, make_leaf(ca, "d"))
        assert (await client.delete(f"/v1/instances/{platinum_instance}")).status_code == 204
        await client.post(
            "/v1/instances",
            json={"instance_id": "fresh-one", "name": "f", "edition": "enterprise_platinum"},
        )
        # the orphaned CA record is gone: another certificate may now use serial 55
        assert (await register(client, "fresh-one", make_ca("New", serial=0x55))).status_code == 201
