"""No secret, token or private-key text reaches a log line or the database (live servers)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import httpx
import pytest
from alibabacloud_onsmqtt20200420 import models
from alibabacloud_onsmqtt20200420.client import Client
from alibabacloud_tea_openapi.models import Config
from Tea.exceptions import TeaException

from tests.support.certs import make_ca, make_leaf, rsa_key
from tests.support.servers import PROXY_VARIABLES, LiveServerFactory

TOKEN = "tok-7f3a9c1e5b2d4068a1c3e5f7092b4d6e"
AK_ID = "LTAItestSecretsKey"
AK_SECRET = "sk-9d8c7b6a5f4e3d2c1b0a99887766"
WRONG_TOKEN = "wrongtok-5566778899aabbccddee"
INSTANCE = "mqtt-cn-local"


def _sdk(port: int, secret: str) -> Client:
    return Client(
        Config(
            endpoint=f"127.0.0.1:{port}",
            protocol="http",
            access_key_id=AK_ID,
            access_key_secret=secret,
        )
    )


async def _database_text(url: str, path: Path | None) -> str:
    if path is not None:
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*")).decode("latin-1")
    connection = await asyncpg.connect(url.replace("postgresql://", "postgres://"))
    try:
        tables = [
            r["tablename"]
            for r in await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname='public'"
            )
        ]
        rows = []
        for table in tables:
            rows += [str(dict(r)) for r in await connection.fetch(f'SELECT * FROM "{table}"')]
        return "\n".join(rows)
    finally:
        await connection.close()


@pytest.mark.parametrize("scratch_database_url", ["sqlite", "postgresql"], indirect=True)
def test_secrets_never_logged_or_stored(
    live_server: LiveServerFactory, scratch_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    server = live_server.start(
        scratch_database_url,
        env={
            "MQTT_CA_REGISTRY_API_TOKEN": TOKEN,
            "MQTT_CA_REGISTRY_ACCESS_KEYS": f"{AK_ID}:{AK_SECRET}",
            "MQTT_CA_REGISTRY_LOG_LEVEL": "DEBUG",
        },
    )
    port = int(server.base_url.rsplit(":", 1)[1])
    ca = make_ca("Secrets CA", key=rsa_key(2048))
    key_lines = [line for line in ca.key_pem.splitlines() if not line.startswith("-----")]
    auth = {"Authorization": f"Bearer {TOKEN}"}

    with httpx.Client(base_url=server.base_url, trust_env=False, timeout=30) as client:
        assert (
            client.get(
                "/v1/instances", headers={"Authorization": f"Bearer {WRONG_TOKEN}"}
            ).status_code
            == 401
        )
        code = client.post(f"/v1/instances/{INSTANCE}/registration-codes", headers=auth).json()[
            "code"
        ]
        verification = make_leaf(ca, code).pem
        for field in ("ca_certificate", "verification_certificate"):
            body = {"name": "x", "ca_certificate": ca.pem, "verification_certificate": verification}
            body[field] = body[field] + ca.key_pem
            response = client.post(
                f"/v1/instances/{INSTANCE}/ca-certificates", json=body, headers=auth
            )
            assert response.json()["code"] == "PrivateKeyRejected"
        response = client.post(
            f"/v1/instances/{INSTANCE}/authenticate",
            json={"certificate_chain": make_leaf(ca, "d").pem + ca.key_pem},
            headers=auth,
        )
        assert response.status_code == 422
        assert (
            client.post(
                f"/v1/instances/{INSTANCE}/ca-certificates",
                json={
                    "name": "ok",
                    "ca_certificate": ca.pem,
                    "verification_certificate": verification,
                },
                headers=auth,
            ).status_code
            == 201
        )

    good = _sdk(port, AK_SECRET)
    good.list_ca_certificate(
        models.ListCaCertificateRequest(mqtt_instance_id=INSTANCE, page_no="1", page_size="10")
    )
    with pytest.raises(TeaException) as refused:
        good.register_ca_certificate(
            models.RegisterCaCertificateRequest(
                mqtt_instance_id=INSTANCE,
                ca_name="k",
                ca_content=ca.pem + ca.key_pem,
                verification_content=verification,
            )
        )
    assert refused.value.code == "CertificateContentError"
    with pytest.raises(TeaException):
        _sdk(port, "not-the-secret").get_register_code(
            models.GetRegisterCodeRequest(mqtt_instance_id=INSTANCE)
        )

    server.stop()
    log = server.log()
    assert "GET /v1/instances 401" in log  # the log is real and has our lines
    stored = asyncio.run(
        _database_text(
            scratch_database_url,
            Path(scratch_database_url.removeprefix("sqlite:///"))
            if scratch_database_url.startswith("sqlite")
            else None,
        )
    )
    assert "Secrets CA" in stored  # the database dump is real
    for where, text in (("log", log), ("database", stored)):
        for secret in (TOKEN, AK_SECRET, WRONG_TOKEN):
            assert secret not in text, f"{secret!r} found in the {where}"
        for line in key_lines[1:-1]:
            assert line not in text, f"private key text found in the {where}"
        assert "PRIVATE KEY" not in text, f"private key armour found in the {where}"
