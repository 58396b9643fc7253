"""Shared steps of the CA tests: get a code, prove possession, register."""

from __future__ import annotations

import httpx

from tests.support.certs import Issued, make_ca, make_leaf


async def new_code(client: httpx.AsyncClient, instance_id: str) -> str:
    response = await client.post(f"/v1/instances/{instance_id}/registration-codes")
    assert response.status_code == 201, response.text
    code: str = response.json()["code"]
    return code


async def register(
    client: httpx.AsyncClient,
    instance_id: str,
    ca: Issued,
    *,
    name: str = "test-ca",
    code: str | None = None,
    verification: str | None = None,
) -> httpx.Response:
    """Register ``ca`` with a fresh code and a verification certificate signed by its key."""
    if verification is None:
        code = code or await new_code(client, instance_id)
        verification = make_leaf(ca, code).pem
    return await client.post(
        f"/v1/instances/{instance_id}/ca-certificates",
        json={"name": name, "ca_certificate": ca.pem, "verification_certificate": verification},
    )


async def registered_ca(client: httpx.AsyncClient, instance_id: str, **kwargs: object) -> Issued:
    ca = make_ca(**kwargs)  # type: ignore[arg-type]
    response = await register(client, instance_id, ca)
    assert response.status_code == 201, response.text
    return ca
