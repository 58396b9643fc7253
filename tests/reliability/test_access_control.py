"""With an API token set, /v1 needs it; health and docs stay open (in-process, both databases)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from mqtt_ca_registry.app import create_app
from mqtt_ca_registry.clock import FrozenClock
from mqtt_ca_registry.config import Settings
from mqtt_ca_registry.db.session import Database
from tests.instances.test_router import assert_problem

TOKEN = "s3cr3t-token-for-tests-0123456789"


@pytest.fixture
async def guarded(
    settings: Settings, clock: FrozenClock, database: Database
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        settings.model_copy(update={"api_token": SecretStr(TOKEN)}), clock=clock, database=database
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as c:
        yield c


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/instances"),
        ("POST", "/v1/instances"),
        ("GET", "/v1/instances/mqtt-cn-local"),
        ("DELETE", "/v1/instances/mqtt-cn-local"),
        ("POST", "/v1/instances/mqtt-cn-local/registration-codes"),
        ("GET", "/v1/instances/mqtt-cn-local/ca-certificates"),
        ("POST", "/v1/instances/mqtt-cn-local/authenticate"),
        ("GET", "/v1/instances/mqtt-cn-local/events"),
        ("GET", "/v1/instances/mqtt-cn-local/device-certificates"),
    ],
)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "]
)
async def test_fail_without_the_token(
    guarded: httpx.AsyncClient, method: str, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await guarded.request(method, path, headers=headers, json={})
    problem = assert_problem(response, 401, "Unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert TOKEN not in response.text
    assert "MQTT_CA_REGISTRY_API_TOKEN" in str(problem["detail"])


async def test_ok_with_the_token(guarded: httpx.AsyncClient) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    created = await guarded.post(
        "/v1/instances",
        json={"instance_id": "tok-one", "name": "t", "edition": "enterprise_platinum"},
        headers=headers,
    )
    assert created.status_code == 201
    events = await guarded.get("/v1/instances/tok-one/events", headers=headers)
    assert events.json()["items"][0]["actor"] == "api-token"


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/docs", "/openapi.json"])
async def test_open_paths(guarded: httpx.AsyncClient, path: str) -> None:
    assert (await guarded.get(path)).status_code == 200
