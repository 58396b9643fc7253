"""SIGKILL in the middle of writes: every acknowledged write survives, nothing is half-written."""

from __future__ import annotations

import random
import threading
import time

import httpx
import pytest

from tests.support.certs import make_ca, make_leaf
from tests.support.invariants import query, violations
from tests.support.servers import LiveServerFactory

INSTANCE = "mqtt-cn-local"


def _writer(base_url: str, acknowledged: dict[str, list[str]], stop: threading.Event) -> None:
    """Register CAs and connect devices until the server dies, noting what was acknowledged."""
    cas = []
    with httpx.Client(base_url=base_url, trust_env=False, timeout=10) as client:
        while not stop.is_set():
            try:
                if cas and random.random() < 0.6:
                    ca = random.choice(cas)
                    device = make_leaf(ca, f"device-{random.randrange(10**9)}")
                    response = client.post(
                        f"/v1/instances/{INSTANCE}/authenticate",
                        json={"certificate_chain": device.pem},
                    )
                    if response.status_code == 200 and response.json()["auto_registered"]:
                        acknowledged["devices"].append(device.sn)
                    continue
                code = client.post(f"/v1/instances/{INSTANCE}/registration-codes").json()["code"]
                ca = make_ca(f"Crash CA {random.randrange(10**9)}")
                response = client.post(
                    f"/v1/instances/{INSTANCE}/ca-certificates",
                    json={
                        "name": "crash",
                        "ca_certificate": ca.pem,
                        "verification_certificate": make_leaf(ca, code).pem,
                    },
                )
                if response.status_code == 201:
                    acknowledged["cas"].append(ca.sn)
                    cas.append(ca)
            except (httpx.TransportError, ValueError):
                return  # the server is gone


@pytest.mark.parametrize("scratch_database_url", ["sqlite", "postgresql"], indirect=True)
def test_sigkill_loses_no_acknowledged_write(
    live_server: LiveServerFactory, scratch_database_url: str
) -> None:
    server = live_server.start(scratch_database_url)
    acknowledged: dict[str, list[str]] = {"cas": [], "devices": []}
    stop = threading.Event()
    writers = [
        threading.Thread(target=_writer, args=(server.base_url, acknowledged, stop))
        for _ in range(4)
    ]
    for writer in writers:
        writer.start()
    # Kill once the stream is going (however slow a shared machine makes it), mid-stream.
    deadline = time.monotonic() + 120
    while len(acknowledged["cas"]) <= 5 or not acknowledged["devices"]:
        assert time.monotonic() < deadline, "the stream did not get going in two minutes"
        time.sleep(0.05)
    time.sleep(random.uniform(0.2, 1.0))
    server.kill()  # SIGKILL, mid-stream
    stop.set()
    for writer in writers:
        writer.join(30)

    restarted = live_server.start(scratch_database_url)  # starts cleanly: migrations idempotent
    with httpx.Client(base_url=restarted.base_url, trust_env=False, timeout=30) as client:
        assert client.get("/readyz").status_code == 200
    assert violations(scratch_database_url) == {}
    cas, devices = query(
        scratch_database_url,
        "SELECT sn FROM ca_certificates",
        "SELECT device_sn FROM device_certificates",
    )
    assert set(acknowledged["cas"]) <= {row[0] for row in cas}
    assert set(acknowledged["devices"]) <= {row[0] for row in devices}
