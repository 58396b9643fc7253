"""`POST /v1/instances/{instance_id}/authenticate` without FastAPI's per-request machinery.

A connect is the call load tests make by the thousand, and FastAPI's routing past two dozen
routes, its dependency resolution and its response re-validation cost it more than the decision
itself (bench/, item 1). This route, tried first, serves the well-formed request itself, with the
same steps the FastAPI route takes: the bearer-token check (the same ``require_token``), the
body validated by the same ``ChainIn``, the same :class:`Authenticator`, the same ``Decision``
JSON. Exceptions go to the same exception handlers (problem details).

Anything else (a query string, another content type, a body ``ChainIn`` refuses, an instance id
outside the path's limits) is handed, body and all, to the FastAPI route, so every error a
client sees is the one the documented route produces. The OpenAPI document is the FastAPI
route's.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.security import HTTPAuthorizationCredentials
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Message, Receive, Scope, Send

from mqtt_ca_registry.api.deps import bearer_credentials, require_token
from mqtt_ca_registry.device_certificates.router import decision_of, get_authenticator
from mqtt_ca_registry.device_certificates.schemas import ChainIn

PATH = "/v1/instances/{instance_id}/authenticate"
_PATH = re.compile(r"/v1/instances/(?P<instance_id>[^/]{1,64})/authenticate")
_DECLINED = "mqtt_ca_registry.fast_route_declined"
_JSON = re.compile(r"application/(?:[\w.+-]*\+)?json\s*(?:;.*)?", re.IGNORECASE)


class AuthenticateRoute(Route):
    """Matches only a POST it can serve; everything else falls through to the router."""

    def __init__(self) -> None:
        super().__init__(PATH, endpoint=self._serve, methods=["POST"], include_in_schema=False)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope.get(_DECLINED)
            or scope.get("query_string")
            or _PATH.fullmatch(scope["path"]) is None
        ):
            return Match.NONE, {}
        return super().matches(scope)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._serve(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        body = await request.body()
        chain = _chain(request, body)
        if chain is None:
            await _decline(scope, body, send)
            return
        credentials: HTTPAuthorizationCredentials | None = await bearer_credentials(request)
        await require_token(request.app.state.settings, credentials)
        authenticator = await get_authenticator(request)
        outcome = await authenticator.authenticate(
            scope["path_params"]["instance_id"], chain.certificate_chain
        )
        payload = decision_of(outcome).model_dump_json(by_alias=True).encode()
        await Response(payload, media_type="application/json")(scope, receive, send)


def _chain(request: Request, body: bytes) -> ChainIn | None:
    """The body as the FastAPI route would accept it, or None to let that route answer."""
    content_type = request.headers.get("content-type")
    if not body or content_type is None or _JSON.fullmatch(content_type) is None:
        return None
    try:
        return ChainIn.model_validate_json(body)
    except ValidationError:
        return None


async def _decline(scope: Scope, body: bytes, send: Send) -> None:
    """Run the request through the app's router again, this route excluded."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    router: Any = scope["app"].router
    await router({**scope, _DECLINED: True}, replay, send)
