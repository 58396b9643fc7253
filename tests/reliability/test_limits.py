"""Limits answer with clear 4xx errors, never a dropped connection or a 5xx."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.servers import LiveServer, LiveServerFactory


def _raw(server: LiveServer, request: bytes) -> tuple[int, bytes]:
    url = urlsplit(server.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.fixture
def server(live_server: LiveServerFactory, tmp_path: object) -> LiveServer:
    return live_server.start(f"sqlite:///{tmp_path}/limits.db")


def test_request_url_over_the_limit_is_a_clear_414(server: LiveServer) -> None:
    query = "A" * 70_000
    status, body = _raw(
        server,
        f"GET /?Action=RegisterCaCertificate&CaContent={query} HTTP/1.1\r\n"
        "Host: x\r\n\r\n".encode(),
    )
    assert status == 414
    error = httpx.Response(status, content=body).json()
    # The SDK reads Code (the emulator's own: the real service documents none for this), a
    # REST client code.
    assert (error["Code"], error["code"]) == ("Emulator.RequestUriTooLong", "RequestUriTooLong")
    assert "form body" in error["Message"]
    assert error["RequestId"]


def test_garbage_request_is_a_clear_400(server: LiveServer) -> None:
    status, body = _raw(server, b"BLAH\x00 / HTTP/1.1\r\n\r\n")
    assert status == 400
    error = httpx.Response(status, content=body).json()
    assert (error["Code"], error["code"]) == ("Emulator.MalformedRequest", "MalformedRequest")


@pytest.mark.parametrize(
    "path",
    [
        "/v1/instances",
        "/v1/instances/mqtt-cn-local/ca-certificates",
        "/v1/instances/mqtt-cn-local/device-certificates",
        "/v1/instances/mqtt-cn-local/events",
    ],
)
def test_pages_never_exceed_100(server: LiveServer, path: str) -> None:
    with httpx.Client(base_url=server.base_url, trust_env=False) as client:
        assert client.get(path, params={"page_size": 100}).status_code == 200
        response = client.get(path, params={"page_size": 101})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "page_size"
