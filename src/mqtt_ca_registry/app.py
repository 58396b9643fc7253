"""The ASGI application: routers, error handlers, middleware, and the database lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy import text

from mqtt_ca_registry import __version__
from mqtt_ca_registry.alibaba.router import router as alibaba_router
from mqtt_ca_registry.alibaba.signing import NonceCache, RequestVerifier, parse_access_keys
from mqtt_ca_registry.api.deps import require_token
from mqtt_ca_registry.api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from mqtt_ca_registry.api.openapi import install_openapi
from mqtt_ca_registry.api.problems import install_problem_handlers, problem_responses
from mqtt_ca_registry.backend import Backend
from mqtt_ca_registry.ca_certificates.router import router as ca_certificates_router
from mqtt_ca_registry.clock import Clock, SystemClock
from mqtt_ca_registry.config import Settings, get_settings
from mqtt_ca_registry.db.migrations import current_revision, head_revision
from mqtt_ca_registry.db.session import Database
from mqtt_ca_registry.device_certificates.caches import AuthenticationCaches
from mqtt_ca_registry.device_certificates.fast_route import AuthenticateRoute
from mqtt_ca_registry.device_certificates.router import router as device_certificates_router
from mqtt_ca_registry.events.router import router as events_router
from mqtt_ca_registry.instances.router import router as instances_router

DESCRIPTION = """
An emulator of the CA-certificate registry of Alibaba Cloud ApsaraMQ for MQTT.

* **Native REST API** under `/v1` (this page): instances, registration codes, CA certificates,
  device certificates, and `authenticate` — "would the broker accept this device?".
* Errors are RFC 9457 problem details with a stable `code`; every response has `X-Request-Id`.
* List endpoints use keyset pagination: pass `next_cursor` back as `cursor`.
"""

TAGS = [
    {
        "name": "instances",
        "description": "MQTT instances. Certificates need `enterprise_platinum`.",
    },
    {
        "name": "ca-certificates",
        "description": "Registration codes, CA registration with proof of possession, "
        "activate / deregister / delete (cascading to devices), download.",
    },
    {
        "name": "device-certificates",
        "description": "`authenticate` (would the broker accept this device?), auto-registered "
        "device certificates and their lifecycle.",
    },
    {"name": "events", "description": "The audit trail of each instance."},
    {
        "name": "alibaba",
        "description": "The Alibaba Cloud OpenAPI surface (`GET|POST /`) for the official SDK.",
    },
    {"name": "health", "description": "Liveness and readiness probes."},
]


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    database: Database | None = None,
    fast_routes: bool = True,
) -> FastAPI:
    """Build the app. Migrations are not run here: `serve` runs them once before workers start.

    ``fast_routes=False`` leaves the authenticate fast route out, so tests can compare it with
    the FastAPI route it stands in for.
    """
    settings = settings or get_settings()

    caches = AuthenticationCaches()

    def serve_from(database: Database) -> None:
        app.state.database = database
        app.state.backend = Backend(database, app.state.clock, settings, caches)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if database is not None:
            yield
            return
        serve_from(Database(settings.database_url))
        try:
            yield
        finally:
            await app.state.database.dispose()

    app: FastAPI = FastAPIOffline(
        title="mqtt-ca-registry",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        favicon_url="/static-offline-docs/favicon.png",
        # Swagger UI at /docs is fully local. ReDoc is not: its side menu always shows a
        # "by Redocly" badge loaded from cdn.redoc.ly, with no option to turn it off.
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    app.state.head_revision = head_revision()
    app.state.alibaba_verifier = RequestVerifier(
        parse_access_keys(settings.access_keys.get_secret_value()), NonceCache()
    )
    if database is not None:  # given by the caller (tests), who disposes of it
        serve_from(database)

    install_problem_handlers(app)
    install_openapi(app, settings)  # the token's lock only when a token is configured
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)

    app.include_router(_health_router())
    if fast_routes:
        # The connect call's fast route, tried before the documented FastAPI route it serves
        # for (device_certificates/fast_route.py); requests it does not take go on to that one.
        app.router.routes.append(AuthenticateRoute())
    v1 = APIRouter(dependencies=[Depends(require_token)], responses=problem_responses(401))
    # Device routes first: routes are tried in order, and authenticate is the hot path
    # (bench/: matching past two dozen routes costs ~0.1 ms a request). No path overlaps.
    v1.include_router(device_certificates_router)
    v1.include_router(instances_router)
    v1.include_router(ca_certificates_router)
    v1.include_router(events_router)
    app.include_router(v1)
    app.include_router(alibaba_router)
    return app


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Readiness: database reachable and migrated",
        responses={503: {"description": "Not ready"}},
    )
    async def readyz(request: Request) -> Any:
        database: Database = request.app.state.database
        expected: str = request.app.state.head_revision
        try:
            async with database.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                revision = await current_revision(connection)
        except Exception as exc:  # any failure to reach the database means "not ready"
            return JSONResponse(
                {"status": "unavailable", "detail": f"database unreachable ({type(exc).__name__})"},
                status_code=503,
            )
        if revision != expected:
            return JSONResponse(
                {
                    "status": "unavailable",
                    "detail": f"database at revision {revision}, expected {expected}; "
                    "run `mqtt-ca-registry migrate`",
                },
                status_code=503,
            )
        return {"status": "ready", "revision": revision}

    return router
