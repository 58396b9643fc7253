"""The OpenAPI document the service serves, built from the app without a server or database."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from mqtt_ca_registry.app import create_app
from mqtt_ca_registry.config import Settings


@cache
def openapi_document() -> dict[str, Any]:
    """What ``GET /openapi.json`` returns (a JSON round trip, so keys and values match)."""
    # As a server with an API token serves it (the fuzzed servers have one): with the token's
    # security scheme and 401 answers.
    app = create_app(Settings(database_url="sqlite:///unused.db", api_token="fuzz-api-token"))
    document: dict[str, Any] = json.loads(json.dumps(app.openapi()))
    return document


def documented_statuses(path: str, method: str) -> set[int]:
    """The response statuses the document lists for one operation."""
    responses = openapi_document()["paths"][path][method.lower()]["responses"]
    return {int(status) for status in responses}
