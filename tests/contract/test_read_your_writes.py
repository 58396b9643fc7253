"""A write the REST API has acknowledged is visible to the very next request.

Automation creates an instance or connects a device through `/v1`, gets its 201/200, and goes
straight on with the SDK. The REST session must be committed before the response is sent (a
FastAPI yield dependency with the default scope commits only *after* sending it). The next
request is pipelined on the same connection, so the server starts it as soon as the first
response is out. Before the fix, PostgreSQL missed the write in about 1 of 7 such pairs.
"""

from __future__ import annotations

import json
import re
import socket
import uuid

from tests.contract.support import Registry, new_ca, new_leaf, register_ca_sync

ATTEMPTS = 20
_CONTENT_LENGTH = re.compile(rb"^content-length:\s*(\d+)\s*$", re.IGNORECASE | re.MULTILINE)


def _request(method: str, path: str, body: dict[str, object] | None = None) -> bytes:
    content = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: registry\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(content)}\r\n"
    return head.encode() + b"\r\n" + content


def _pipelined_statuses(registry: Registry, *requests: bytes) -> list[int]:
    """Send the requests in one write on one keep-alive connection; each response's status.

    (No ``Connection: close`` on the last one: uvicorn would then close the connection after
    the *first* response and drop the rest.)
    """
    statuses: list[int] = []
    buffer = b""
    with socket.create_connection(("127.0.0.1", registry.port), timeout=30) as sock:
        sock.sendall(b"".join(requests))
        while len(statuses) < len(requests):
            while b"\r\n\r\n" not in buffer:
                chunk = sock.recv(65536)
                assert chunk, f"connection closed after {statuses}"
                buffer += chunk
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            match = _CONTENT_LENGTH.search(head)
            length = int(match.group(1)) if match else 0
            while len(buffer) < length:
                buffer += sock.recv(65536)
            buffer = buffer[length:]
            statuses.append(int(head.split()[1]))
    return statuses


def test_created_instance_is_visible_to_the_next_request(registry: Registry) -> None:
    for attempt in range(ATTEMPTS):
        instance_id = f"mqtt-cn-ryw-{uuid.uuid4().hex[:12]}"
        create = _request(
            "POST",
            "/v1/instances",
            {"instance_id": instance_id, "name": "ryw", "edition": "enterprise_platinum"},
        )
        statuses = _pipelined_statuses(
            registry, create, _request("GET", f"/v1/instances/{instance_id}")
        )
        assert statuses == [201, 200], f"attempt {attempt}: {statuses}"


def test_auto_registered_device_is_visible_to_the_next_request(registry: Registry) -> None:
    instance_id = registry.new_instance()
    ca = new_ca("Read-your-writes CA")
    register_ca_sync(registry.client(), instance_id, ca, "ryw")
    path = f"/v1/instances/{instance_id}/ca-certificates/{ca.sn}/device-certificates/"
    for attempt in range(ATTEMPTS):
        device = new_leaf(ca, f"ryw-device-{attempt}")
        connect = _request(
            "POST", f"/v1/instances/{instance_id}/authenticate", {"certificate_chain": device.pem}
        )
        statuses = _pipelined_statuses(registry, connect, _request("GET", path + device.sn))
        assert statuses == [200, 200], f"attempt {attempt}: {statuses}"
