"""Two server workers on PostgreSQL under a bounded concurrent mix of every write; afterwards
the invariants hold and every acknowledged answer is reflected in the database."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

import httpx
import pytest

from tests.support.certs import Issued, make_ca, make_leaf
from tests.support.invariants import query, violations
from tests.support.servers import LiveServerFactory

INSTANCE = "mqtt-cn-local"
DURATION = 8.0  # seconds of load; bounded so CI stays short


@dataclass
class Seen:
    registered: list[Issued] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    code_wins: dict[str, int] = field(default_factory=dict)
    auto_registered: dict[str, set[str]] = field(default_factory=dict)  # ca sn -> device sns


async def _register(client: httpx.AsyncClient, seen: Seen, deadline: float) -> None:
    while time.monotonic() < deadline:
        code = (await client.post(f"/v1/instances/{INSTANCE}/registration-codes")).json()["code"]
        cas = [make_ca(f"MP CA {random.randrange(10**9)}") for _ in range(3)]
        # three registrations race on one code: exactly one may win
        responses = await asyncio.gather(
            *(
                client.post(
                    f"/v1/instances/{INSTANCE}/ca-certificates",
                    json={
                        "name": "mp",
                        "ca_certificate": ca.pem,
                        "verification_certificate": make_leaf(ca, code).pem,
                    },
                )
                for ca in cas
            )
        )
        wins = [ca for ca, r in zip(cas, responses, strict=True) if r.status_code == 201]
        assert all(r.status_code in (201, 409) for r in responses), [r.text for r in responses]
        seen.code_wins[code] = len(wins)
        seen.registered += wins


async def _connect(
    client: httpx.AsyncClient, seen: Seen, devices: dict[str, list[Issued]], deadline: float
) -> None:
    while time.monotonic() < deadline:
        if not seen.registered:
            await asyncio.sleep(0.05)
            continue
        ca = random.choice(seen.registered[:10])
        fleet = devices.setdefault(ca.sn, [make_leaf(ca, f"dev-{i}") for i in range(3)])
        device = random.choice(fleet)
        response = await client.post(
            f"/v1/instances/{INSTANCE}/authenticate", json={"certificate_chain": device.pem}
        )
        assert response.status_code == 200, response.text
        if response.json()["auto_registered"]:
            seen.auto_registered.setdefault(ca.sn, set()).add(device.sn)


async def _cycle_and_delete(client: httpx.AsyncClient, seen: Seen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if len(seen.registered) < 3:
            await asyncio.sleep(0.05)
            continue
        ca = random.choice(seen.registered[:10])
        action = random.choice(["deactivate", "activate", "activate", "delete"])
        url = f"/v1/instances/{INSTANCE}/ca-certificates/{ca.sn}"
        if action == "delete" and random.random() < 0.2:
            response = await client.delete(url)
            if response.status_code == 204:
                seen.deleted.add(ca.sn)
            continue
        response = await client.post(f"{url}/{'activate' if action == 'delete' else action}")
        assert response.status_code in (200, 404), response.text


@pytest.mark.parametrize("scratch_database_url", ["postgresql"], indirect=True)
async def test_concurrent_mix_keeps_invariants(
    live_server: LiveServerFactory, scratch_database_url: str
) -> None:
    server = live_server.start(scratch_database_url, workers=2)
    seen = Seen()
    devices: dict[str, list[Issued]] = {}
    deadline = time.monotonic() + DURATION
    async with httpx.AsyncClient(base_url=server.base_url, trust_env=False, timeout=60) as client:
        await asyncio.gather(
            *(_register(client, seen, deadline) for _ in range(3)),
            *(_connect(client, seen, devices, deadline) for _ in range(6)),
            *(_cycle_and_delete(client, seen, deadline) for _ in range(2)),
        )
        assert all(wins == 1 for wins in seen.code_wins.values()), seen.code_wins
        assert len(seen.registered) > 5 and seen.auto_registered
        # every acknowledged registration is there unless a delete was acknowledged later
        listed = set()
        cursor = None
        while True:
            params = {"page_size": 100, **({"cursor": cursor} if cursor else {})}
            page = (
                await client.get(f"/v1/instances/{INSTANCE}/ca-certificates", params=params)
            ).json()
            listed |= {c["sn"] for c in page["items"]}
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert {ca.sn for ca in seen.registered} - seen.deleted == listed
        # a final cascade decides every device of a CA, whatever happened before
        for ca in seen.registered[:10]:
            if ca.sn in seen.deleted:
                continue
            status = random.choice(["activate", "deactivate"])
            await client.post(f"/v1/instances/{INSTANCE}/ca-certificates/{ca.sn}/{status}")
            page = (
                await client.get(
                    f"/v1/instances/{INSTANCE}/ca-certificates/{ca.sn}/device-certificates",
                    params={"page_size": 100},
                )
            ).json()
            expected = "active" if status == "activate" else "inactive"
            assert {d["status"] for d in page["items"]} <= {expected}
            assert seen.auto_registered.get(ca.sn, set()) <= {d["device_sn"] for d in page["items"]}

    assert await asyncio.to_thread(violations, scratch_database_url) == {}
    (deleted_devices,) = await asyncio.to_thread(
        query,
        scratch_database_url,
        "SELECT COUNT(*) FROM device_certificates d JOIN ca_bindings b ON b.id = d.binding_id "
        "WHERE b.ca_sn IN ('" + "','".join(seen.deleted or {"-"}) + "')",
    )
    assert deleted_devices == [(0,)]
