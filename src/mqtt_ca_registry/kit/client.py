"""The registry's REST API as the kit calls it: registration codes, CA registration, connects.

Failures become :class:`ServiceError` with the service's own problem ``detail`` and ``code``,
or a sentence saying why the service could not be reached.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from mqtt_ca_registry.kit.defaults import TOKEN_ENV, URL_ENV
from mqtt_ca_registry.kit.errors import KitError, ServiceError


class Registry:
    """A small synchronous client of one registry (``with Registry(url, token) as r: ...``)."""

    def __init__(self, url: str, token: str | None, *, timeout: float = 30.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise KitError(f"--url {url!r}: expected http://host:port or https://host:port")
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # Plain http has no TLS to verify; skipping the CA bundle load saves ~40 ms per call.
        # Redirects are not followed, so a plain-http client never reaches an https URL.
        verify = not self.url.startswith("http://")
        self._http = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout, verify=verify
        )

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def registration_code(self, instance: str) -> str:
        body = self._post(f"/v1/instances/{quote(instance, safe='')}/registration-codes", None)
        return str(body["code"])

    def register_ca(
        self, instance: str, name: str, ca_pem: str, verification_pem: str
    ) -> dict[str, Any]:
        return self._post(
            f"/v1/instances/{quote(instance, safe='')}/ca-certificates",
            {"name": name, "ca_certificate": ca_pem, "verification_certificate": verification_pem},
        )

    def authenticate(self, instance: str, chain: str) -> dict[str, Any]:
        return self._post(
            f"/v1/instances/{quote(instance, safe='')}/authenticate", {"certificate_chain": chain}
        )

    def _post(self, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        try:
            response = self._http.post(path, json=body)
        except httpx.TimeoutException:
            raise ServiceError(f"{self.url} did not answer in time") from None
        except httpx.TransportError as exc:
            raise ServiceError(
                f"cannot reach the registry at {self.url} ({exc or type(exc).__name__}); "
                f"is `mqtt-ca-registry serve` running there? (set --url or {URL_ENV})"
            ) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.is_success and isinstance(answer, dict):
            return answer
        raise ServiceError(_refusal(response, answer, self.url))


def _refusal(response: httpx.Response, answer: object, url: str) -> str:
    """The service's own words (RFC 9457 ``detail`` and ``code``), else what we got."""
    if isinstance(answer, dict) and "detail" in answer:
        code = f" ({answer['code']})" if answer.get("code") else ""
        detail = str(answer["detail"])
        fields = [f for f in answer.get("errors") or [] if isinstance(f, dict)]
        # Field messages that add to the detail (validation errors name the field there).
        extra = [
            f"{f.get('field')}: {f.get('message')}"
            for f in fields
            if str(f.get("message")) not in detail
        ]
        if extra:
            detail = f"{detail} [{'; '.join(extra)}]"
        hint = f" Pass --token or set {TOKEN_ENV}." if response.status_code == 401 else ""
        return f"refused{code}: {detail}{hint}"
    return (
        f"unexpected answer from {url}: HTTP {response.status_code} "
        f"{response.reason_phrase}; is --url the registry's address?"
    )
