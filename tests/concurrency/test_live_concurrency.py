"""Concurrency through live servers: the database, not Python, keeps one winner."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from tests.support.certs import make_ca, make_leaf
from tests.support.servers import LiveServerFactory

BOTH = pytest.mark.parametrize("scratch_database_url", ["postgresql", "sqlite"], indirect=True)
INSTANCE = "mqtt-cn-local"


async def _code(client: httpx.AsyncClient) -> str:
    response = await client.post(f"/v1/instances/{INSTANCE}/registration-codes")
    assert response.status_code == 201, response.text
    code: str = response.json()["code"]
    return code


def _register_body(ca_pem: str, verification_pem: str) -> dict[str, str]:
    return {"name": "race", "ca_certificate": ca_pem, "verification_certificate": verification_pem}


@BOTH
async def test_twenty_registrations_one_code_one_winner(
    live_server: LiveServerFactory, scratch_database_url: str
) -> None:
    server = live_server.start(scratch_database_url, workers=2)
    async with httpx.AsyncClient(base_url=server.base_url, trust_env=False, timeout=60) as client:
        code = await _code(client)
        bodies = []
        for i in range(20):
            ca = make_ca(f"Racer {i}")
            bodies.append(_register_body(ca.pem, make_leaf(ca, code).pem))
        responses = await asyncio.gather(
            *(client.post(f"/v1/instances/{INSTANCE}/ca-certificates", json=b) for b in bodies)
        )
        outcomes = Counter(
            "created" if r.status_code == 201 else r.json().get("code") for r in responses
        )
        assert outcomes == {"created": 1, "RegisterCodeUsed": 19}, outcomes
        listed = (await client.get(f"/v1/instances/{INSTANCE}/ca-certificates")).json()
        assert listed["total"] == 1


@BOTH
async def test_same_ca_registered_concurrently_gets_one_binding(
    live_server: LiveServerFactory, scratch_database_url: str
) -> None:
    server = live_server.start(scratch_database_url, workers=2)
    async with httpx.AsyncClient(base_url=server.base_url, trust_env=False, timeout=60) as client:
        ca = make_ca("Popular CA")
        codes = [await _code(client) for _ in range(10)]
        responses = await asyncio.gather(
            *(
                client.post(
                    f"/v1/instances/{INSTANCE}/ca-certificates",
                    json=_register_body(ca.pem, make_leaf(ca, code).pem),
                )
                for code in codes
            )
        )
        outcomes = Counter(
            "created" if r.status_code == 201 else r.json().get("code") for r in responses
        )
        assert outcomes == {"created": 1, "CaAlreadyRegistered": 9}, outcomes
        listed = (await client.get(f"/v1/instances/{INSTANCE}/ca-certificates")).json()
        assert [c["sn"] for c in listed["items"]] == [ca.sn]
        # the losers' codes were not consumed: each can still register another CA
        other = make_ca("Second CA")
        again = await client.post(
            f"/v1/instances/{INSTANCE}/ca-certificates",
            json=_register_body(other.pem, make_leaf(other, codes[0]).pem),
        )
        assert again.status_code in (201, 409)


@BOTH
async def test_twenty_first_connects_one_device_record(
    live_server: LiveServerFactory, scratch_database_url: str
) -> None:
    server = live_server.start(scratch_database_url, workers=2)
    async with httpx.AsyncClient(base_url=server.base_url, trust_env=False, timeout=60) as client:
        ca = make_ca("Device CA")
        code = await _code(client)
        created = await client.post(
            f"/v1/instances/{INSTANCE}/ca-certificates",
            json=_register_body(ca.pem, make_leaf(ca, code).pem),
        )
        assert created.status_code == 201, created.text
        device = make_leaf(ca, "thermostat-1")
        responses = await asyncio.gather(
            *(
                client.post(
                    f"/v1/instances/{INSTANCE}/authenticate",
                    json={"certificate_chain": device.pem},
                )
                for _ in range(20)
            )
        )
        decisions = [r.json() for r in responses]
        assert all(d["decision"] == "accepted" for d in decisions), decisions
        assert sum(d["auto_registered"] for d in decisions) == 1
        listed = (await client.get(f"/v1/instances/{INSTANCE}/device-certificates")).json()
        assert listed["total"] == 1
        assert listed["items"][0]["device_sn"] == device.sn
