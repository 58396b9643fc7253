"""Big requests: the SDK puts both PEMs of RegisterCaCertificate in the URL.

The server (uvicorn with httptools, the `serve` default) passes a request target of up to
65,535 bytes to the app; ``httptools.parse_url`` refuses longer ones ("url is too long ...
maximum of 65535 bytes": the parser keeps URL offsets in 16 bits). Plain uvicorn then answered by
itself with a bare ``400 text/plain "Invalid HTTP request received."`` (the connection was not
reset), which the SDK turned into ``UnretryableException: Failed to parse the value as json
format`` with ``code`` None. `serve` now answers a clear JSON 414
``Emulator.RequestUriTooLong`` that tells the user to send large parameters in a form body; these
tests hold it to that, and show the advice works through the SDK's ``call_api``.
"""

from __future__ import annotations

import json
import re
import socket
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from alibabacloud_onsmqtt20200420 import models as mqtt
from alibabacloud_tea_openapi.models import OpenApiRequest, Params
from alibabacloud_tea_util.models import RuntimeOptions
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.contract.support import (
    Registry,
    Sdk,
    assert_client_error,
    new_ca,
    new_leaf,
    register_code,
    registration,
    same_certificate,
    sdk_error,
)
from tests.support.certs import name, rsa_key

URL_LIMIT = 65_535  # httptools (http_parser_url): 16-bit offsets
TOO_LONG = re.compile(r"too long|too large|exceeds|over [\d,]+ bytes", re.IGNORECASE)


@pytest.fixture(scope="session")
def rsa4096() -> tuple[object, object]:
    """Two 4096-bit RSA keys (slow to make: once per test process)."""
    return rsa_key(4096, 0), rsa_key(4096, 1)


async def test_register_4096_bit_rsa_ca(
    sdk: Sdk, instance: str, rsa4096: tuple[object, object]
) -> None:
    ca_key, verification_key = rsa4096
    ca = new_ca("Contract RSA-4096 CA", key=ca_key)
    code = await register_code(sdk, instance)
    verification = new_leaf(ca, code, key=verification_key)
    for cert in (ca.cert, verification.cert):
        assert cert.public_key().key_size == 4096  # type: ignore[union-attr]
    request = registration(instance, ca, verification, "rsa-4096")
    # what the sync SDK puts in the URL (it url-encodes the same four parameters)
    query = urlencode(
        {
            "CaContent": ca.pem,
            "CaName": "rsa-4096",
            "MqttInstanceId": instance,
            "VerificationContent": verification.pem,
        }
    )
    assert 3_500 < len(query) < URL_LIMIT

    body = await sdk.call("register_ca_certificate", request)
    assert body.sn == ca.sn
    got = await sdk.call(
        "get_ca_certificate", mqtt.GetCaCertificateRequest(mqtt_instance_id=instance, sn=ca.sn)
    )
    assert same_certificate(got.data.ca_content, ca.cert)
    assert same_certificate(got.data.verification_content, verification.cert)
    assert got.data.status == "1"


def _raw_get(registry: Registry, target: str) -> tuple[int, dict[str, str], bytes]:
    """One raw HTTP/1.1 request over a plain socket: (status, headers, body).

    A reset or a closed connection without an answer fails the test with that finding.
    """
    request = (
        f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{registry.port}\r\n"
        "x-acs-action: ListInstances\r\nx-acs-version: 2020-04-20\r\nConnection: close\r\n\r\n"
    ).encode()
    data = b""
    with socket.create_connection(("127.0.0.1", registry.port), timeout=30) as sock:
        try:
            sock.sendall(request)
            while chunk := sock.recv(65536):
                data += chunk
        except ConnectionError as exc:
            pytest.fail(f"connection dropped ({exc!r}) after {len(data)} bytes of answer")
    assert data, "the server closed the connection without answering"
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def _target(length: int) -> str:
    prefix = "/?Pad="
    return prefix + "a" * (length - len(prefix))


def test_request_target_up_to_the_limit_reaches_the_app(registry: Registry) -> None:
    status, headers, body = _raw_get(registry, _target(URL_LIMIT))
    # unsigned, so the Alibaba front end itself refuses it, in its own JSON
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert b'"Code":"MissingSignature"' in body


def test_overlong_request_line_is_answered_not_reset(registry: Registry) -> None:
    status, _, body = _raw_get(registry, _target(100_000))
    assert 400 <= status < 500
    assert body.strip()


def test_overlong_request_line_error_says_what_is_wrong(registry: Registry) -> None:
    status, headers, body = _raw_get(registry, _target(100_000))
    assert status in (400, 414, 431)
    assert headers["content-type"] == "application/json"
    error = json.loads(body)
    assert error["Code"] and error["RequestId"]
    assert TOO_LONG.search(error["Message"]), error["Message"]


def _big_certificate(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, signer: object
) -> x509.Certificate:
    """About 37 KB of PEM (800 DNS names): under the 64 KiB PEM limit, but two of them
    URL-encoded are over 65,535 bytes."""
    now = datetime.now(UTC)
    names = [x509.DNSName(f"device-{i:05d}.factory.example.com") for i in range(800)]
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
    )
    if signer is key:  # self-signed: the CA
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=None), critical=True
        )
    return builder.sign(signer, hashes.SHA256())  # type: ignore[arg-type]


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


async def _big_registration(sdk: Sdk, instance: str) -> tuple[x509.Certificate, dict[str, str]]:
    """A CA and its verification certificate whose two PEMs overflow a URL together."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _big_certificate(name("Big CA"), name("Big CA"), ca_key, ca_key)
    code = await register_code(sdk, instance)
    verification = _big_certificate(
        name(code), ca.subject, ec.generate_private_key(ec.SECP256R1()), ca_key
    )
    parameters = {
        "CaContent": _pem(ca),
        "CaName": "big",
        "MqttInstanceId": instance,
        "VerificationContent": _pem(verification),
    }
    assert max(len(parameters["CaContent"]), len(parameters["VerificationContent"])) < 64 * 1024
    assert len(urlencode(parameters)) > URL_LIMIT
    return ca, parameters


async def test_sdk_registration_beyond_the_url_limit_is_clearly_refused(
    sdk: Sdk, instance: str
) -> None:
    _, parameters = await _big_registration(sdk, instance)
    request = mqtt.RegisterCaCertificateRequest(
        ca_content=parameters["CaContent"],
        ca_name=parameters["CaName"],
        mqtt_instance_id=instance,
        verification_content=parameters["VerificationContent"],
    )
    error = await sdk_error(sdk.call("register_ca_certificate", request))
    assert_client_error(error, "Emulator.RequestUriTooLong", 414, "form body")
    assert TOO_LONG.search(error.message), error.message


async def test_big_pems_in_a_form_body_through_call_api(sdk: Sdk, instance: str) -> None:
    """What the 414 advises: the same registration with the PEMs in a form body."""
    ca, parameters = await _big_registration(sdk, instance)
    params = Params(
        action="RegisterCaCertificate",
        version="2020-04-20",
        protocol="HTTP",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    instance_id = parameters.pop("MqttInstanceId")
    request = OpenApiRequest(query={"MqttInstanceId": instance_id}, body=parameters)
    if sdk.flavor == "sync":
        response = sdk.client.call_api(params, request, RuntimeOptions())
    else:
        response = await sdk.client.call_api_async(params, request, RuntimeOptions())
    assert response["statusCode"] == 200, response
    sn = format(ca.serial_number, "x")
    assert response["body"]["Sn"] == (sn if len(sn) % 2 == 0 else "0" + sn)
    got = await sdk.call(
        "get_ca_certificate",
        mqtt.GetCaCertificateRequest(mqtt_instance_id=instance, sn=response["body"]["Sn"]),
    )
    assert same_certificate(got.data.ca_content, ca)
