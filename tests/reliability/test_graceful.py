"""Graceful behaviour: database outages answer 503 and heal by themselves; SIGTERM drains."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from mqtt_ca_registry.app import create_app
from mqtt_ca_registry.config import Settings
from mqtt_ca_registry.db.migrations import upgrade
from mqtt_ca_registry.db.session import Database
from tests.conftest import drop_postgres_database
from tests.support.servers import LiveServerFactory
from tests.support.tcp_proxy import TcpProxy


def _wait_for(predicate, timeout: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


@pytest.mark.parametrize("scratch_database_url", ["postgresql"], indirect=True)
def test_database_outage_gives_503_and_recovers(
    live_server: LiveServerFactory, scratch_database_url: str
) -> None:
    target = urlsplit(scratch_database_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    proxy.start()
    proxied = scratch_database_url.replace(f":{target.port}/", f":{proxy.port}/")
    server = live_server.start(proxied)
    # The connect call runs on the hot path's own asyncpg pool (db/postgres_pool.py): the instance
    # is read before the chain is parsed, so a chain that is not a certificate still needs the
    # database (422 when it answers).
    connect = "/v1/instances/mqtt-cn-local/authenticate"
    garbage = {"certificate_chain": "not a certificate"}
    with httpx.Client(base_url=server.base_url, trust_env=False, timeout=30) as client:
        assert client.get("/v1/instances").status_code == 200
        assert client.post(connect, json=garbage).status_code == 422
        proxy.cut()
        try:
            response = client.get("/v1/instances")
            assert response.status_code == 503, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["code"] == "DatabaseUnavailable"
            assert response.headers["retry-after"] == "1"
            assert client.get("/readyz").status_code == 503
            assert client.get("/healthz").status_code == 200  # alive, just not ready
            alibaba = client.get("/", params={"Action": "ListInstances"})
            assert alibaba.status_code < 500 or alibaba.status_code == 503
            for _ in range(3):  # the pooled connection breaks, then new ones are refused
                response = client.post(connect, json=garbage)
                assert response.status_code == 503, response.text
                assert response.json()["code"] == "DatabaseUnavailable"
        finally:
            proxy.restore()
        _wait_for(lambda: client.get("/readyz").status_code == 200)
        assert client.get("/v1/instances").status_code == 200
        _wait_for(lambda: client.post(connect, json=garbage).status_code == 422)


def test_sigterm_drains_in_flight_requests(
    live_server: LiveServerFactory, tmp_path: object
) -> None:
    server = live_server.start(f"sqlite:///{tmp_path}/drain.db")  # type: ignore[str-bytes-safe]
    url = urlsplit(server.base_url)
    body = b'{"name": "drained", "edition": "enterprise_platinum", "instance_id": "drained-one"}'
    head = (
        b"POST /v1/instances HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    with socket.create_connection((url.hostname, url.port), timeout=20) as sock:
        sock.sendall(head + body[:10])  # the request is in flight: half its body sent
        time.sleep(0.3)
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert server.process.poll() is None  # still draining
        sock.sendall(body[10:])
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = sock.recv(65536)
            if not chunk:
                break
            response += chunk
    assert response.startswith(b"HTTP/1.1 201"), response[:200]
    # uvicorn re-raises SIGTERM after its graceful shutdown, so the exit is by that signal.
    assert server.process.wait(timeout=20) in (0, -signal.SIGTERM)


@pytest.mark.parametrize("scratch_database_url", ["postgresql"], indirect=True)
async def test_a_dropped_database_is_unavailable_not_an_internal_error(
    scratch_database_url: str,
) -> None:
    """The database is dropped under a running app: every call answers 503, not 500."""
    await asyncio.to_thread(upgrade, scratch_database_url)  # Alembic runs its own event loop
    database = Database(scratch_database_url)
    app = create_app(
        Settings(database_url=scratch_database_url, seed_default_instance=False),
        database=database,
    )
    transport = httpx.ASGITransport(app=app)
    connect = "/v1/instances/any-instance/authenticate"
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as c:
            assert (await c.get("/v1/instances")).status_code == 200
            assert (await c.post(connect, json={"certificate_chain": "x"})).status_code == 404
            await database.dispose()  # let DROP DATABASE go through without forcing our pool
            name = urlsplit(scratch_database_url).path.lstrip("/")
            await asyncio.to_thread(drop_postgres_database, name)
            for response in (
                await c.get("/v1/instances"),
                await c.post(connect, json={"certificate_chain": "x"}),
            ):
                assert response.status_code == 503, response.text
            assert (await c.get("/readyz")).status_code == 503
    finally:
        await database.dispose()
