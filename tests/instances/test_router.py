"""The instances REST API, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import httpx
import pytest

PLATINUM = {"name": "broker", "edition": "enterprise_platinum"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body  # type: ignore[no-any-return]


class TestCreateInstance:
    async def test_ok_generated_id(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/instances", json=PLATINUM)
        assert response.status_code == 201
        body = response.json()
        assert re.fullmatch(r"mqtt-cn-[a-z0-9]{10}", body["instance_id"])
        assert body["edition"] == "enterprise_platinum"
        assert body["instance_type"] == 1
        assert body["region_id"] == "cn-local"
        assert body["created_at"] == "2026-06-01T12:00:00Z"

    @pytest.mark.parametrize(
        ("edition", "instance_type"),
        [("basic", 0), ("enterprise_platinum", 1), ("professional", 4), ("serverless", 5)],
    )
    async def test_ok_each_edition(
        self, client: httpx.AsyncClient, edition: str, instance_type: int
    ) -> None:
        response = await client.post(
            "/v1/instances",
            json={
                "instance_id": f"my-{edition.replace('_', '-')}",
                "name": "x",
                "edition": edition,
                "tags": {"env": "ci"},
                "region_id": "cn-hangzhou",
            },
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["instance_type"] == instance_type
        assert body["tags"] == {"env": "ci"}
        assert body["region_id"] == "cn-hangzhou"

    async def test_fail_duplicate_id(self, client: httpx.AsyncClient) -> None:
        first = await client.post("/v1/instances", json={**PLATINUM, "instance_id": "dup-id"})
        assert first.status_code == 201
        second = await client.post("/v1/instances", json={**PLATINUM, "instance_id": "dup-id"})
        assert_problem(second, 409, "InstanceAlreadyExists")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            pytest.param({**PLATINUM, "edition": "gold"}, "edition", id="fail/unknown-edition"),
            pytest.param({**PLATINUM, "instance_id": "Bad_Id"}, "instance_id", id="fail/bad-id"),
            pytest.param({**PLATINUM, "instance_id": "ab"}, "instance_id", id="fail/short-id"),
            pytest.param({**PLATINUM, "instance_id": 5}, "instance_id", id="fail/id-not-string"),
            pytest.param({**PLATINUM, "name": ""}, "name", id="fail/empty-name"),
            pytest.param({**PLATINUM, "name": ["x"]}, "name", id="fail/name-wrong-type"),
            pytest.param({"edition": "basic"}, "name", id="fail/missing-name"),
            pytest.param({**PLATINUM, "tags": ["a"]}, "tags", id="fail/tags-wrong-type"),
            pytest.param(
                {**PLATINUM, "tags": {f"k{i}": "v" for i in range(21)}},
                "tags",
                id="fail/too-many-tags",
            ),
            pytest.param({**PLATINUM, "colour": "red"}, "colour", id="fail/unknown-field"),
            pytest.param({**PLATINUM, "region_id": "CN HZ"}, "region_id", id="fail/bad-region"),
        ],
    )
    async def test_fail_validation(
        self, client: httpx.AsyncClient, body: dict[str, object], field: str
    ) -> None:
        response = await client.post("/v1/instances", json=body)
        problem = assert_problem(response, 422, "ValidationFailed")
        fields = [e["field"] for e in problem["errors"]]  # type: ignore[attr-defined]
        assert any(f == field or f.startswith(field + ".") for f in fields), fields
        listed = await client.get("/v1/instances")
        assert listed.json()["total"] == 0  # nothing half-created

    async def test_fail_not_json(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/v1/instances", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert_problem(response, 422, "ValidationFailed")

    async def test_fail_oversized_body(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/v1/instances",
            content=b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}',
            headers={"content-type": "application/json"},
        )
        assert_problem(response, 413, "BodyTooLarge")

    async def test_fail_oversized_chunked_body(self, client: httpx.AsyncClient) -> None:
        async def chunks():  # type: ignore[no-untyped-def]
            for _ in range(40):
                yield b"x" * 65536

        response = await client.post(
            "/v1/instances", content=chunks(), headers={"content-type": "application/json"}
        )
        assert_problem(response, 413, "BodyTooLarge")


class TestListInstances:
    async def test_ok_keyset_pages(self, client: httpx.AsyncClient) -> None:
        for i in range(5):
            response = await client.post(
                "/v1/instances", json={**PLATINUM, "instance_id": f"inst-{i}"}
            )
            assert response.status_code == 201
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            params: dict[str, object] = {"page_size": 2}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get("/v1/instances", params=params)).json()
            assert page["total"] == 5
            seen += [i["instance_id"] for i in page["items"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages == 3
        assert seen == [f"inst-{i}" for i in range(5)]

    async def test_ok_empty(self, client: httpx.AsyncClient) -> None:
        page = (await client.get("/v1/instances")).json()
        assert page == {"items": [], "next_cursor": None, "total": 0}

    @pytest.mark.parametrize("cursor", ["garbage!", "eyJrIjoib3RoZXIiLCJhIjoxfQ", "%%%"])
    async def test_fail_bad_cursor(self, client: httpx.AsyncClient, cursor: str) -> None:
        response = await client.get("/v1/instances", params={"cursor": cursor})
        assert_problem(response, 400, "InvalidCursor")

    @pytest.mark.parametrize("size", ["0", "101", "ten"])
    async def test_fail_bad_page_size(self, client: httpx.AsyncClient, size: str) -> None:
        response = await client.get("/v1/instances", params={"page_size": size})
        assert_problem(response, 422, "ValidationFailed")


class TestGetInstance:
    async def test_ok(self, client: httpx.AsyncClient, platinum_instance: str) -> None:
        response = await client.get(f"/v1/instances/{platinum_instance}")
        assert response.status_code == 200
        assert response.json()["instance_id"] == platinum_instance

    async def test_fail_unknown(self, client: httpx.AsyncClient) -> None:
        assert_problem(await client.get("/v1/instances/nope-nope"), 404, "InstanceNotFound")

    async def test_fail_id_too_long(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/instances/" + "a" * 65)
        assert_problem(response, 422, "ValidationFailed")


class TestDeleteInstance:
    async def test_ok(self, client: httpx.AsyncClient, platinum_instance: str) -> None:
        response = await client.delete(f"/v1/instances/{platinum_instance}")
        assert response.status_code == 204
        assert response.content == b""
        again = await client.get(f"/v1/instances/{platinum_instance}")
        assert_problem(again, 404, "InstanceNotFound")

    async def test_fail_unknown(self, client: httpx.AsyncClient) -> None:
        assert_problem(await client.delete("/v1/instances/nope-nope"), 404, "InstanceNotFound")


class TestRequestIds:
    async def test_every_response_has_one(self, client: httpx.AsyncClient) -> None:
        for response in (
            await client.get("/healthz"),
            await client.get("/v1/instances"),
            await client.get("/v1/does-not-exist"),
            await client.post("/v1/instances", json={}),
        ):
            assert re.fullmatch(r"[0-9A-F-]{36}", response.headers["x-request-id"])

    async def test_caller_id_kept(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz", headers={"X-Request-Id": "my-trace-12345"})
        assert response.headers["x-request-id"] == "my-trace-12345"

    async def test_unsafe_caller_id_replaced(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz", headers={"X-Request-Id": "bad id\twith tab"})
        assert response.headers["x-request-id"] != "bad id\twith tab"


class TestHealth:
    async def test_healthz(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz")
        assert response.json() == {"status": "ok"}

    async def test_readyz(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/readyz")
        assert response.status_code == 200
        assert response.json()["status"] == "ready"

    async def test_unknown_route_is_problem(self, client: httpx.AsyncClient) -> None:
        assert_problem(await client.get("/v2/x"), 404, "RouteNotFound")
        not_allowed = await client.put("/v1/instances")
        assert_problem(not_allowed, 405, "MethodNotAllowed")
        assert not_allowed.headers["allow"] == "GET, POST"
