"""What the official Alibaba SDK really sends: a recording HTTP server on 127.0.0.1.

The SDK is the oracle for the signing tests: each call is captured as it arrived on the wire
(method, raw request target, headers, body) and decoded the way Starlette decodes it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from alibabacloud_onsmqtt20200420 import models as mqtt
from alibabacloud_onsmqtt20200420.client import Client
from alibabacloud_tea_openapi.models import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from starlette.datastructures import QueryParams

from mqtt_ca_registry.alibaba.signing import SignedRequest

INSTANCE_ID = "mqtt-cn-i7m26mf****"
CA_NAME = "my test CA * ~ü/+=&"
MODES = {"acs3": None, "rpc": "v2"}  # Config.signature_algorithm; 'v2' selects RPC v1
FLAVORS = ("sync", "async")
CASES = (
    "RegisterCaCertificate",
    "ListCaCertificate",
    "ListInstances",
    "ListInstancesTags",
    "GetRegisterCodeEmpty",
)


@dataclass(frozen=True)
class CapturedRequest:
    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def raw_query(self) -> str:
        return urlsplit(self.target).query

    def signed(self) -> SignedRequest:
        """Decoded as the front end will: Starlette's query parsing, lowercase headers."""
        headers = {name.lower(): value for name, value in self.headers}
        pairs = QueryParams(self.raw_query).multi_items()
        return SignedRequest.from_http(self.method, pairs, headers, self.body)


class RecordingServer(ThreadingHTTPServer):
    captured: list[CapturedRequest]


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: RecordingServer

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = tuple(self.headers.items())
        self.server.captured.append(CapturedRequest(self.command, self.path, headers, body))
        answer = b'{"RequestId":"X"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = _record

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def recording_server() -> Iterator[RecordingServer]:
    server = RecordingServer(("127.0.0.1", 0), _Recorder)
    server.captured = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _pem_with_tricky_base64(make_key: Any) -> str:
    """A self-signed CA PEM whose base64 holds '+', '/' and '=' (they need percent-encoding)."""
    key = make_key()
    for attempt in range(200):
        if attempt % 3 == 2:
            key = make_key()  # new key bytes; the name below varies the length
        common_name = "signing test CA" + "x" * (attempt % 3)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        if all(c in pem for c in "+/="):
            return pem
    raise AssertionError("could not make a PEM with '+', '/' and '='")


def sdk_calls() -> dict[str, tuple[str, Any]]:
    """Case name -> (SDK method name, request model)."""
    ca_pem = _pem_with_tricky_base64(lambda: ec.generate_private_key(ec.SECP256R1()))
    long_pem = _pem_with_tricky_base64(
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    return {
        "RegisterCaCertificate": (
            "register_ca_certificate",
            mqtt.RegisterCaCertificateRequest(
                ca_content=ca_pem,
                ca_name=CA_NAME,
                mqtt_instance_id=INSTANCE_ID,
                verification_content=long_pem,
            ),
        ),
        "ListCaCertificate": (
            "list_ca_certificate",
            mqtt.ListCaCertificateRequest(
                mqtt_instance_id=INSTANCE_ID, page_no="2", page_size="10"
            ),
        ),
        "ListInstances": ("list_instances", mqtt.ListInstancesRequest()),
        "ListInstancesTags": (
            "list_instances",
            mqtt.ListInstancesRequest(tags='[{"key":"test","value":"a b"}]'),
        ),
        "GetRegisterCodeEmpty": (
            "get_register_code",
            mqtt.GetRegisterCodeRequest(mqtt_instance_id=""),
        ),
    }


def sdk_client(port: int, key_id: str, secret: str, algorithm: str | None) -> Client:
    return Client(
        Config(
            access_key_id=key_id,
            access_key_secret=secret,
            endpoint=f"127.0.0.1:{port}",
            protocol="http",
            signature_algorithm=algorithm,
        )
    )


def call_and_capture(
    server: RecordingServer, client: Client, flavor: str, method: str, request: Any
) -> CapturedRequest:
    """Make one SDK call (sync, or its ``*_async`` twin) and return what reached the server."""
    before = len(server.captured)
    if flavor == "sync":
        response = getattr(client, method)(request)
    else:
        response = asyncio.run(getattr(client, f"{method}_async")(request))
    assert response.body.request_id == "X"
    assert len(server.captured) == before + 1
    return server.captured[-1]


def capture_everything(key_id: str, secret: str) -> dict[str, CapturedRequest]:
    """Every case in every mode and flavor, keyed ``mode-flavor-case``; plus one SM3 request."""
    calls = sdk_calls()
    captured: dict[str, CapturedRequest] = {}
    with recording_server() as server:
        port = server.server_address[1]
        for mode, algorithm in MODES.items():
            client = sdk_client(port, key_id, secret, algorithm)
            for flavor in FLAVORS:
                for case, (method, request) in calls.items():
                    capture = call_and_capture(server, client, flavor, method, request)
                    captured[f"{mode}-{flavor}-{case}"] = capture
        sm3 = sdk_client(port, key_id, secret, "ACS3-HMAC-SM3")
        method, request = calls["ListCaCertificate"]
        captured["sm3-sync-ListCaCertificate"] = call_and_capture(
            server, sm3, "sync", method, request
        )
    return captured
