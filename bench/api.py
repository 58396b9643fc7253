"""The few calls the benchmark makes to set up its data, through the public REST API."""

from __future__ import annotations

import httpx

from bench.certs import Ca


def client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, trust_env=False, timeout=60)


def _ok(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 300:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.text}")
    return response


def create_instance(http: httpx.Client, instance_id: str) -> str:
    body = {"instance_id": instance_id, "name": instance_id, "edition": "enterprise_platinum"}
    _ok(http.post("/v1/instances", json=body))
    return instance_id


def registration_code(http: httpx.Client, instance_id: str) -> str:
    code: str = _ok(http.post(f"/v1/instances/{instance_id}/registration-codes")).json()["code"]
    return code


def register_ca(http: httpx.Client, instance_id: str, ca: Ca, name: str) -> str:
    """Register ``ca`` on the instance with a fresh code and proof of possession; its Sn."""
    body = {
        "name": name,
        "ca_certificate": ca.pem,
        "verification_certificate": ca.verification_pem(registration_code(http, instance_id)),
    }
    sn: str = _ok(http.post(f"/v1/instances/{instance_id}/ca-certificates", json=body)).json()["sn"]
    return sn
