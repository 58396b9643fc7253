"""Dependencies shared by the REST routers: the backend's services, clock and settings, the API
token."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mqtt_ca_registry.backend import Backend, Services
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


def backend_of(request: Request) -> Backend:
    """The app's backend (dependencies are ``async def``: FastAPI runs a plain ``def`` one on a
    worker thread, a hop that costs more than what it does)."""
    backend: Backend = request.app.state.backend
    return backend


async def _read_services(request: Request) -> AsyncIterator[Services]:
    async with backend_of(request).read() as services:
        yield services


async def _write_services(request: Request) -> AsyncIterator[Services]:
    async with backend_of(request).write() as services:
        yield services


# scope="function": commit before the response is sent, so a failed commit is what the client
# sees; a 2xx always means the change is durable.
ReadServices = Annotated[Services, Depends(_read_services, scope="function")]
WriteServices = Annotated[Services, Depends(_write_services, scope="function")]

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
