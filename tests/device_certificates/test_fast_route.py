"""The authenticate fast route answers exactly as the FastAPI route it stands in for.

Every request below goes to two apps on the same database: one with the fast route (the
default) and one without it (only the documented FastAPI route). Status, headers that matter and
the body (but its request id) must be the same. Counting the fast route's calls shows which
requests it served and which it handed on.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from pydantic import SecretStr

from mqtt_ca_registry.app import create_app
from mqtt_ca_registry.clock import FrozenClock
from mqtt_ca_registry.config import Settings
from mqtt_ca_registry.db.session import Database
from mqtt_ca_registry.device_certificates import fast_route
from tests.ca_certificates.helpers import registered_ca
from tests.support.certs import make_ca, make_leaf

TOKEN = "fast-route-token-0123456789abcdef"


@dataclass
class Pair:
    fast: httpx.AsyncClient
    plain: httpx.AsyncClient
    served: list[str]  # paths the fast route answered itself


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    calls: list[str] = []
    original = fast_route.AuthenticateRoute._serve

    async def counting(self: fast_route.AuthenticateRoute, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        calls.append(scope["path"])
        await original(self, scope, receive, send)

    monkeypatch.setattr(fast_route.AuthenticateRoute, "_serve", counting)
    yield calls


async def _pair(
    settings: Settings, clock: FrozenClock, database: Database, served: list[str]
) -> AsyncIterator[Pair]:
    clients = []
    for fast in (True, False):
        app = create_app(settings, clock=clock, database=database, fast_routes=fast)
        transport = httpx.ASGITransport(app=app)
        clients.append(httpx.AsyncClient(transport=transport, base_url="http://registry.test"))
    async with clients[0] as fast_client, clients[1] as plain_client:
        yield Pair(fast_client, plain_client, served)


@pytest.fixture
async def pair(
    settings: Settings, clock: FrozenClock, database: Database, served: list[str]
) -> AsyncIterator[Pair]:
    async for p in _pair(settings, clock, database, served):
        yield p


@pytest.fixture
async def guarded_pair(
    settings: Settings, clock: FrozenClock, database: Database, served: list[str]
) -> AsyncIterator[Pair]:
    guarded = settings.model_copy(update={"api_token": SecretStr(TOKEN)})
    async for p in _pair(guarded, clock, database, served):
        yield p


def _comparable(response: httpx.Response) -> tuple[object, ...]:
    try:
        body: object = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        body.pop("request_id", None)
    headers = {k: response.headers.get(k) for k in ("content-type", "allow", "www-authenticate")}
    return response.status_code, headers, body


async def _same(pair: Pair, method: str, path: str, **kwargs: object) -> httpx.Response:
    fast = await pair.fast.request(method, path, **kwargs)  # type: ignore[arg-type]
    plain = await pair.plain.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert _comparable(fast) == _comparable(plain)
    return fast


INSTANCE = "fast-route"


async def _instance(client: httpx.AsyncClient, edition: str = "enterprise_platinum") -> str:
    body = {"instance_id": INSTANCE, "name": "fast route", "edition": edition}
    response = await client.post("/v1/instances", json=body)
    assert response.status_code == 201, response.text
    return INSTANCE


async def test_serves_the_well_formed_connect(pair: Pair) -> None:
    instance = await _instance(pair.plain)
    ca = await registered_ca(pair.plain, instance)
    device = make_leaf(ca, "fast-1")
    path = f"/v1/instances/{instance}/authenticate"
    # First connect through the fast route; then the known device through both, compared.
    first = await pair.fast.post(path, json={"certificate_chain": device.pem})
    assert first.json()["reason_code"] == "auto_registered"
    assert pair.served == [path]
    known = await _same(pair, "POST", path, json={"certificate_chain": device.pem})
    assert known.json()["reason_code"] == "accepted"
    # Rejections and domain errors (raised inside the fast route) match too.
    stranger = make_leaf(make_ca("Unregistered CA"), "stranger")
    rejected = await _same(pair, "POST", path, json={"certificate_chain": stranger.pem})
    assert rejected.json()["reason_code"] == "unknown_issuer"
    garbage = await _same(pair, "POST", path, json={"certificate_chain": "not a certificate"})
    assert garbage.status_code == 422
    missing = await _same(
        pair, "POST", "/v1/instances/no-such-instance/authenticate", json={"certificate_chain": "x"}
    )
    assert missing.status_code == 404
    assert pair.served.count(path) == 4  # first, known, rejected, garbage: all served fast


async def test_an_edition_without_certificates_is_refused_the_same(pair: Pair) -> None:
    instance = await _instance(pair.plain, edition="professional")
    response = await _same(
        pair, "POST", f"/v1/instances/{instance}/authenticate", json={"certificate_chain": "x"}
    )
    assert response.status_code in (403, 409)


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"", {"content-type": "application/json"}),
        (b"{", {"content-type": "application/json"}),
        (b"[]", {"content-type": "application/json"}),
        (b'{"certificate_chain": 7}', {"content-type": "application/json"}),
        (b'{"certificate_chain": "x", "extra": 1}', {"content-type": "application/json"}),
        (b"{}", {"content-type": "application/json"}),
        (b'{"certificate_chain": "x"}', {"content-type": "text/plain"}),
        (b'{"certificate_chain": "x"}', {}),
        (b'{"certificate_chain": "x"}', {"content-type": "application/vnd.x+json"}),
        (b'{"certificate_chain": "\\ud800"}', {"content-type": "application/json"}),
    ],
)
async def test_bodies_it_does_not_take_get_the_fastapi_answer(
    pair: Pair, body: bytes, headers: dict[str, str]
) -> None:
    await _instance(pair.plain)
    await _same(
        pair, "POST", f"/v1/instances/{INSTANCE}/authenticate", content=body, headers=headers
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/v1/instances/{INSTANCE}/authenticate"),
        ("PUT", f"/v1/instances/{INSTANCE}/authenticate"),
        ("POST", f"/v1/instances/{INSTANCE}/authenticate?debug=1"),
        ("POST", f"/v1/instances/{'x' * 65}/authenticate"),
        ("POST", f"/v1/instances/{INSTANCE}/authenticate/"),
        ("POST", "/v1/instances//authenticate"),
    ],
)
async def test_other_requests_get_the_fastapi_answer(pair: Pair, method: str, path: str) -> None:
    await _instance(pair.plain)
    await _same(pair, method, path, content=json.dumps({"certificate_chain": "x"}).encode())


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "]
)
async def test_the_token_is_checked_the_same(guarded_pair: Pair, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    path = "/v1/instances/mqtt-cn-local/authenticate"
    response = await _same(
        guarded_pair, "POST", path, json={"certificate_chain": "x"}, headers=headers
    )
    assert response.status_code == 401
    assert guarded_pair.served == [path]  # a well-formed body: the fast route refused it itself


async def test_with_the_token_it_serves(guarded_pair: Pair) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    response = await _same(
        guarded_pair,
        "POST",
        "/v1/instances/no-such-instance/authenticate",
        json={"certificate_chain": "x"},
        headers=headers,
    )
    assert response.status_code == 404
    assert len(guarded_pair.served) == 1
