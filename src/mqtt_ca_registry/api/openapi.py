"""The OpenAPI document as this server's settings make it.

FastAPI documents the bearer token on every /v1 operation (Swagger UI draws a lock on each).
Without ``MQTT_CA_REGISTRY_API_TOKEN`` nothing asks for a token, so the document says so: no
security requirement, no scheme, no 401 answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from mqtt_ca_registry.config import Settings


def without_token_security(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (changed in place) with the bearer-token security and 401 answers removed."""
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict):
                operation.pop("security", None)
                operation.get("responses", {}).pop("401", None)
    document.get("components", {}).pop("securitySchemes", None)
    return document


def install_openapi(app: FastAPI, settings: Settings) -> None:
    """Serve the document that matches ``settings`` (cached, like FastAPI's own)."""
    if settings.api_token is not None:
        return
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = without_token_security(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
