"""CA registration throughput: code, proof of possession, registration, with N clients.

wrk cannot chain a code into a freshly signed verification certificate, so this load comes
from an asyncio client; the same client's ceiling on a trivial route is measured beside it,
to show it is not the bottleneck.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

import httpx

from bench.certs import Ca, make_ca

CLIENTS = 4


@dataclass(frozen=True)
class Rate:
    rate: float
    p50_ms: float
    p99_ms: float


def _rate(count: int, seconds: float, latencies: list[float]) -> Rate:
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return Rate(count / seconds, statistics.median(latencies) * 1000, p99 * 1000)


async def _register_all(base_url: str, instance_id: str, cas: list[Ca]) -> Rate:
    queue: asyncio.Queue[Ca] = asyncio.Queue()
    for ca in cas:
        queue.put_nowait(ca)
    latencies: list[float] = []

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=60) as http:
            while not queue.empty():
                ca = queue.get_nowait()
                started = time.perf_counter()
                code = await http.post(f"/v1/instances/{instance_id}/registration-codes")
                body = {
                    "name": "bench",
                    "ca_certificate": ca.pem,
                    "verification_certificate": ca.verification_pem(code.json()["code"]),
                }
                done = await http.post(f"/v1/instances/{instance_id}/ca-certificates", json=body)
                if done.status_code != 201:
                    raise RuntimeError(f"registration failed: {done.text[:300]}")
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return _rate(len(cas), time.perf_counter() - started, latencies)


async def _ceiling(base_url: str, count: int) -> Rate:
    """The same client shape (two requests per iteration) against /healthz."""
    remaining = [count]
    latencies: list[float] = []

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=60) as http:
            while remaining[0] > 0:
                remaining[0] -= 1
                started = time.perf_counter()
                await http.get("/healthz")
                await http.get("/healthz")
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return _rate(count, time.perf_counter() - started, latencies)


def measure(base_url: str, instance_id: str, count: int) -> tuple[Rate, Rate]:
    """(registrations/s, the client's own ceiling in iterations/s)."""
    cas = [make_ca(f"bench registration CA {i}") for i in range(count)]
    registered = asyncio.run(_register_all(base_url, instance_id, cas))
    ceiling = asyncio.run(_ceiling(base_url, max(count, 200)))
    return registered, ceiling
