"""The audit trail: recorded with each change, listed per instance, no secrets."""

from __future__ import annotations

from datetime import timedelta

import httpx

from mqtt_ca_registry.clock import FrozenClock
from tests.ca_certificates.helpers import registered_ca
from tests.ca_certificates.test_lifecycle import connect
from tests.instances.test_router import assert_problem
from tests.support.certs import NOW, make_ca, make_leaf


async def events(
    client: httpx.AsyncClient, instance_id: str, **params: object
) -> dict[str, object]:
    response = await client.get(f"/v1/instances/{instance_id}/events", params=params)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_every_change_is_recorded(
    client: httpx.AsyncClient, platinum_instance: str, clock: FrozenClock
) -> None:
    ca = await registered_ca(client, platinum_instance)
    device = make_leaf(ca, "dev")
    await connect(client, platinum_instance, device)
    base = f"/v1/instances/{platinum_instance}/ca-certificates/{ca.sn}"
    await client.post(f"{base}/device-certificates/{device.sn}/deactivate")
    await client.post(f"{base}/device-certificates/{device.sn}/activate")
    await connect(client, platinum_instance, make_leaf(make_ca("Stranger"), "intruder"))
    await client.post(f"{base}/deactivate")
    await client.post(f"{base}/activate")
    await client.delete(f"{base}/device-certificates/{device.sn}")
    await client.delete(base)
    await client.delete(f"/v1/instances/{platinum_instance}")

    body = await events(client, platinum_instance, page_size=100)
    types = [e["type"] for e in reversed(body["items"])]  # type: ignore[attr-defined]
    assert types == [
        "instance.created",
        "registration_code.issued",
        "ca.registered",
        "device.auto_registered",
        "device.deactivated",
        "device.activated",
        "authentication.rejected",
        "ca.deactivated",
        "ca.activated",
        "device.deleted",
        "ca.deleted",
        "instance.deleted",
    ]
    assert body["total"] == 12
    rejected = body["items"][5]  # type: ignore[index]
    assert rejected["outcome"] == "rejected"
    assert rejected["details"]["reason_code"] == "unknown_issuer"
    assert set(rejected["details"]) <= {"reason_code", "fingerprint_sha256", "subject", "transport"}
    assert rejected["details"]["transport"] == "http"
    assert body["items"][8]["details"]["transport"] == "http"  # type: ignore[index]
    for event in body["items"]:  # type: ignore[attr-defined]
        assert event["actor"] == "anonymous"
        assert event["request_id"]
        assert event["occurred_at"] == "2026-06-01T12:00:00Z"


async def test_filters_and_pages(
    client: httpx.AsyncClient, platinum_instance: str, clock: FrozenClock
) -> None:
    for _ in range(5):
        clock.advance(timedelta(minutes=1))
        await client.post(f"/v1/instances/{platinum_instance}/registration-codes")
    only_codes = await events(
        client, platinum_instance, type="registration_code.issued", page_size=2
    )
    assert only_codes["total"] == 5
    seen = [e["id"] for e in only_codes["items"]]  # type: ignore[attr-defined]
    cursor = only_codes["next_cursor"]
    while cursor:
        page = await events(
            client, platinum_instance, type="registration_code.issued", page_size=2, cursor=cursor
        )
        seen += [e["id"] for e in page["items"]]  # type: ignore[attr-defined]
        cursor = page["next_cursor"]
    assert seen == sorted(seen, reverse=True)
    assert len(seen) == 5
    window = await events(
        client,
        platinum_instance,
        since=(NOW + timedelta(minutes=2)).isoformat(),
        until=(NOW + timedelta(minutes=4)).isoformat(),
    )
    assert window["total"] == 2


async def test_bad_filters(client: httpx.AsyncClient, platinum_instance: str) -> None:
    url = f"/v1/instances/{platinum_instance}/events"
    assert_problem(await client.get(url, params={"type": "ca.exploded"}), 422, "ValidationFailed")
    assert_problem(await client.get(url, params={"since": "yesterday"}), 422, "ValidationFailed")
    # A number is not an RFC 3339 time, though pydantic would read it as a Unix time.
    for number in ("0.5", "1700000000"):
        assert_problem(await client.get(url, params={"until": number}), 422, "ValidationFailed")
    assert_problem(
        await client.get(url, params={"since": "2026-06-01T12:00:00"}), 400, "InvalidParameter"
    )
    assert_problem(await client.get("/v1/instances/nope-nope/events"), 404, "InstanceNotFound")


async def test_failed_change_records_nothing(
    client: httpx.AsyncClient, platinum_instance: str
) -> None:
    ca = make_ca(basic_constraints=None)
    code = (await client.post(f"/v1/instances/{platinum_instance}/registration-codes")).json()[
        "code"
    ]
    response = await client.post(
        f"/v1/instances/{platinum_instance}/ca-certificates",
        json={
            "name": "x",
            "ca_certificate": ca.pem,
            "verification_certificate": make_leaf(ca, code).pem,
        },
    )
    assert response.status_code == 422
    body = await events(client, platinum_instance)
    assert [e["type"] for e in body["items"]] == [  # type: ignore[attr-defined]
        "registration_code.issued",
        "instance.created",
    ]
    assert code not in str(body)  # an unused code is a credential: never in the trail


async def test_times_outside_utc_range_are_400(
    client: httpx.AsyncClient, platinum_instance: str
) -> None:
    for params in ({"since": "9999-12-31T23:59:59-23:59"}, {"until": "0001-01-01T00:00:00+23:59"}):
        response = await client.get(f"/v1/instances/{platinum_instance}/events", params=params)
        assert_problem(response, 400, "InvalidParameter")
