"""Registration from uploaded files (multipart/form-data), as `curl -F` sends them: the same
checks, limits, errors and answer as the JSON body."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from mqtt_ca_registry.config import Settings
from tests.ca_certificates.helpers import new_code
from tests.pki.openssl_seed import make_seed_ca, make_seed_verification, openssl_available
from tests.support.certs import Issued, make_ca, make_leaf
from tests.support.servers import LiveServerFactory, clean_environment

INSTANCE = "mqtt-cn-test"
PATH = f"/v1/instances/{INSTANCE}/ca-certificates"


@pytest.fixture
def settings(database_url: str) -> Settings:
    # A small PEM limit (the lowest allowed), so an oversized upload is easy to make.
    return Settings(database_url=database_url, seed_default_instance=False, max_pem_bytes=1024)


def as_json(name: str, ca: str, verification: str) -> dict[str, Any]:
    return {"json": {"name": name, "ca_certificate": ca, "verification_certificate": verification}}


def as_upload(name: str, ca: str | bytes, verification: str | bytes) -> dict[str, Any]:
    return {
        "data": {"name": name},
        "files": {
            "ca_certificate": ("CA.crt", ca),
            "verification_certificate": ("verificationCert.crt", verification),
        },
    }


def comparable(response: httpx.Response) -> tuple[int, dict[str, Any]]:
    body = response.json()
    body.pop("request_id", None)
    return response.status_code, body


async def test_uploaded_files_register_the_ca(
    client: httpx.AsyncClient, platinum_instance: str
) -> None:
    ca = make_ca()
    verification = make_leaf(ca, await new_code(client, INSTANCE)).pem
    response = await client.post(PATH, **as_upload("my-ca", ca.pem, verification))
    assert response.status_code == 201, response.text
    registered = response.json()
    assert (registered["sn"], registered["name"], registered["status"]) == (
        ca.sn,
        "my-ca",
        "active",
    )
    assert registered["certificate_pem"].strip() == ca.pem.strip()
    listed = (await client.get(PATH)).json()["items"]
    assert [item["sn"] for item in listed] == [ca.sn]


async def test_a_der_file_is_read_too(client: httpx.AsyncClient, platinum_instance: str) -> None:
    ca = make_ca()
    verification = make_leaf(ca, await new_code(client, INSTANCE))
    der = verification.cert.public_bytes(Encoding.DER)
    response = await client.post(PATH, **as_upload("der", ca.pem, der))
    assert response.status_code == 201, response.text


def _cases(ca: Issued, verification: str) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Refused registrations, each as a JSON body and as an upload of the same content."""
    big = ca.pem + "\n" * 1100
    return {
        "private key instead of CA.crt": (
            as_json("k", ca.key_pem, verification),
            as_upload("k", ca.key_pem, verification),
        ),
        "file over MAX_PEM_BYTES": (
            as_json("big", big, verification),
            as_upload("big", big, verification),
        ),
        "name too long": (
            as_json("n" * 65, ca.pem, verification),
            as_upload("n" * 65, ca.pem, verification),
        ),
        "not a certificate": (
            as_json("x", "hello", verification),
            as_upload("x", b"hello", verification),
        ),
        "verification missing": (
            {"json": {"name": "m", "ca_certificate": ca.pem}},
            {"data": {"name": "m"}, "files": {"ca_certificate": ("CA.crt", ca.pem)}},
        ),
        "unknown field": (
            {"json": {**as_json("u", ca.pem, verification)["json"], "extra": "1"}},
            {**as_upload("u", ca.pem, verification), "data": {"name": "u", "extra": "1"}},
        ),
    }


async def test_refusals_are_the_json_bodys_refusals(
    client: httpx.AsyncClient, platinum_instance: str
) -> None:
    ca = make_ca()
    verification = make_leaf(ca, await new_code(client, INSTANCE)).pem
    for case, (json_request, upload_request) in _cases(ca, verification).items():
        by_json = comparable(await client.post(PATH, **json_request))
        by_upload = comparable(await client.post(PATH, **upload_request))
        assert by_json[0] in (413, 422), (case, by_json)
        assert by_upload == by_json, case
    # ...and none of them used the code: it still registers the CA, once.
    first = await client.post(PATH, **as_upload("ok", ca.pem, verification))
    assert first.status_code == 201, first.text
    again_json = comparable(await client.post(PATH, **as_json("ok", ca.pem, verification)))
    again_upload = comparable(await client.post(PATH, **as_upload("ok", ca.pem, verification)))
    assert again_json[1]["code"] == "RegisterCodeUsed"
    assert again_upload == again_json


def test_the_openapi_document_offers_both_content_types(settings: Settings) -> None:
    from mqtt_ca_registry.app import create_app

    operation = create_app(settings).openapi()["paths"][
        "/v1/instances/{instance_id}/ca-certificates"
    ]
    content = operation["post"]["requestBody"]["content"]
    assert list(content) == ["application/json", "multipart/form-data"]
    form = content["multipart/form-data"]["schema"]
    assert form["required"] == ["name", "ca_certificate", "verification_certificate"]
    for field in ("ca_certificate", "verification_certificate"):
        assert form["properties"][field] == {**form["properties"][field], "format": "binary"}


def curl(*args: str, cwd: Path) -> dict[str, Any]:
    result = subprocess.run(
        ["curl", "-sS", *args],
        cwd=cwd,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    body: dict[str, Any] = json.loads(result.stdout)
    return body


@pytest.mark.skipif(not openssl_available(), reason="needs the openssl command")
@pytest.mark.parametrize("kind", ["rsa", "ecc"])
def test_curl_uploads_the_files_the_documentation_makes(
    live_server: LiveServerFactory, tmp_path: Path, kind: str
) -> None:
    server = live_server.start(f"sqlite:///{tmp_path}/registry.db")
    url = f"{server.base_url}/v1/instances/mqtt-cn-local"
    code = curl("-X", "POST", f"{url}/registration-codes", cwd=tmp_path)["code"]
    ca = make_seed_ca(tmp_path, kind)  # type: ignore[arg-type]
    verification = make_seed_verification(tmp_path, ca, code)
    work = verification.parent  # holds CA.crt, CA.key and verificationCert.crt

    mistake = curl(
        "-F", "ca_certificate=@CA.key", "-F", "verification_certificate=@verificationCert.crt",
        "-F", "name=my-ca", f"{url}/ca-certificates", cwd=work,
    )  # fmt: skip
    assert (mistake["status"], mistake["code"]) == (422, "PrivateKeyRejected")

    registered = curl(
        "-F", "ca_certificate=@CA.crt", "-F", "verification_certificate=@verificationCert.crt",
        "-F", "name=my-ca", f"{url}/ca-certificates", cwd=work,
    )  # fmt: skip
    assert registered["status"] == "active", registered
    assert registered["name"] == "my-ca"
    assert registered["certificate_pem"] == ca.pem
    listed = curl(f"{url}/ca-certificates", cwd=work)
    assert [item["sn"] for item in listed["items"]] == [registered["sn"]]
