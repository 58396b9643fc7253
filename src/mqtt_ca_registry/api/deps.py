"""Dependencies shared by the REST routers: the app's clock and settings, the API token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mqtt_ca_registry.clock import Clock
from mqtt_ca_registry.config import Settings
from mqtt_ca_registry.errors import ErrorCode, UnauthorizedError
from mqtt_ca_registry.request_context import set_actor


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]

_bearer = HTTPBearer(auto_error=False, description="Needed when MQTT_CA_REGISTRY_API_TOKEN is set.")


async def bearer_credentials(request: Request) -> HTTPAuthorizationCredentials | None:
    """The request's bearer credentials, parsed exactly as the dependency below gets them."""
    credentials: HTTPAuthorizationCredentials | None = await _bearer(request)
    return credentials


async def require_token(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """With an API token configured, every /v1 call must present it as a bearer token."""
    if settings.api_token is None:
        return
    # hmac.compare_digest: constant time, so the token cannot be guessed byte by byte.
    expected = settings.api_token.get_secret_value().encode()
    offered = credentials.credentials.encode() if credentials else b""
    if credentials is None or not hmac.compare_digest(offered, expected):
        raise UnauthorizedError(
            ErrorCode.UNAUTHORIZED,
            "Missing or wrong API token; send "
            "'Authorization: Bearer <MQTT_CA_REGISTRY_API_TOKEN>'.",
        )
    set_actor("api-token")
