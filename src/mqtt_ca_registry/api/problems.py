"""RFC 9457 problem details: the REST wire form of every error, from one table."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from mqtt_ca_registry.db.session import is_database_unavailable
from mqtt_ca_registry.errors import DomainError, ErrorCode, FieldProblem, Remedy
from mqtt_ca_registry.request_context import current_request_id

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://mqtt-ca-registry.dev/problems/"

# The one table from domain codes to HTTP statuses for the REST front end.
HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.VALIDATION_FAILED: 422,
    ErrorCode.INVALID_PARAMETER: 400,
    ErrorCode.INVALID_CURSOR: 400,
    ErrorCode.INVALID_SN: 400,
    ErrorCode.BODY_TOO_LARGE: 413,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.ROUTE_NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.DATABASE_UNAVAILABLE: 503,
    ErrorCode.REQUEST_URI_TOO_LONG: 414,
    ErrorCode.MALFORMED_REQUEST: 400,
    ErrorCode.INSTANCE_NOT_FOUND: 404,
    ErrorCode.INSTANCE_ALREADY_EXISTS: 409,
    ErrorCode.INSTANCE_EDITION_NOT_SUPPORTED: 403,
    ErrorCode.INPUT_TOO_LARGE: 413,
    ErrorCode.PRIVATE_KEY_REJECTED: 422,
    ErrorCode.CERTIFICATE_MISSING: 422,
    ErrorCode.CERTIFICATE_MALFORMED: 422,
    ErrorCode.CERTIFICATE_NOT_SINGLE: 422,
    ErrorCode.CHAIN_TOO_LONG: 422,
    ErrorCode.SERIAL_NOT_POSITIVE: 422,
    ErrorCode.CA_NOT_CERTIFICATE_AUTHORITY: 422,
    ErrorCode.CA_KEY_UNSUPPORTED: 422,
    ErrorCode.CA_EXPIRED: 422,
    ErrorCode.CA_NOT_YET_VALID: 422,
    ErrorCode.VERIFICATION_ISSUER_MISMATCH: 422,
    ErrorCode.VERIFICATION_SIGNATURE_INVALID: 422,
    ErrorCode.VERIFICATION_EXPIRED: 422,
    ErrorCode.VERIFICATION_NOT_YET_VALID: 422,
    ErrorCode.REGISTER_CODE_ERROR: 422,
    ErrorCode.REGISTER_CODE_USED: 409,
    ErrorCode.SN_NOT_UNIQUE: 409,
    ErrorCode.CA_ALREADY_REGISTERED: 409,
    ErrorCode.CA_NOT_FOUND: 404,
    ErrorCode.DEVICE_NOT_FOUND: 404,
    ErrorCode.CA_BINDING_INACTIVE: 409,
    ErrorCode.DEVICE_REJECTED: 422,
}

# How a REST caller makes the call that fixes an error (errors.Remedy).
REMEDIES: dict[Remedy, str] = {
    Remedy.LIST_INSTANCES: "List instances with GET /v1/instances.",
    Remedy.GET_REGISTRATION_CODE: "Get a code with POST /v1/instances/{instance_id}/"
    "registration-codes and put it as the CN of the verification CSR.",
    Remedy.LIST_CA_CERTIFICATES: "List them with GET /v1/instances/{instance_id}/ca-certificates.",
    Remedy.CONNECT_DEVICE: "Devices register on their first successful connect "
    "(POST /v1/instances/{instance_id}/authenticate).",
}

_TITLES: dict[int, str] = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    414: "URI too long",
    422: "Unprocessable content",
    500: "Internal server error",
    503: "Service unavailable",
}


def title_of(status: int) -> str:
    """The problem title of an HTTP status."""
    return _TITLES.get(status, "Error")


class ProblemField(BaseModel):
    """One offending field of a request."""

    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every REST error is rendered."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str | None = None
    errors: list[ProblemField] | None = None


def problem_response(
    code: ErrorCode,
    detail: str,
    *,
    status: int | None = None,
    errors: Sequence[FieldProblem] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Render one problem. ``status`` defaults to the table's."""
    status = status or HTTP_STATUS[code]
    body: dict[str, Any] = {
        "type": TYPE_BASE + str(code),
        "title": title_of(status),
        "status": status,
        "detail": detail,
        "code": str(code),
        "request_id": current_request_id(),
    }
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return JSONResponse(body, status_code=status, media_type=PROBLEM_CONTENT_TYPE, headers=headers)


def _field_name(loc: Sequence[int | str]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] or parts
    return ".".join(parts) or "body"


def _validation_errors(exc: RequestValidationError) -> list[FieldProblem]:
    problems = []
    for error in exc.errors():
        message = str(error.get("msg", "invalid value"))
        # Never echo the offending input back: it may be a pasted secret.
        problems.append(FieldProblem(field=_field_name(error.get("loc", ())), message=message))
    return problems


async def _on_domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    detail = exc.worded(REMEDIES)
    errors = exc.errors or ((FieldProblem(exc.field, detail),) if exc.field else ())
    headers = {"WWW-Authenticate": "Bearer"} if exc.code is ErrorCode.UNAUTHORIZED else None
    return problem_response(exc.code, detail, errors=errors, headers=headers)


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(exc)
    summary = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
    return problem_response(
        ErrorCode.VALIDATION_FAILED, f"The request is not valid. {summary}", errors=errors
    )


def _routes(routes: Iterable[Any]) -> Iterator[Route]:
    """Every route, through included routers (FastAPI nests them)."""
    for route in routes:
        if isinstance(route, Route):
            yield route
        nested = getattr(getattr(route, "original_router", None), "routes", None)
        if nested is not None:
            yield from _routes(nested)


def _allowed_methods(request: Request) -> str:
    """Every method some route takes at this path (Starlette reports only the first route's)."""
    methods: set[str] = set()
    for route in _routes(request.app.router.routes):
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match is not Match.NONE and route.methods:
            methods |= route.methods
    return ", ".join(sorted(methods))


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return problem_response(ErrorCode.ROUTE_NOT_FOUND, "No such endpoint; see /docs.")
    if exc.status_code == 405:
        return problem_response(
            ErrorCode.METHOD_NOT_ALLOWED,
            "This endpoint does not take that method; see /docs.",
            headers={"Allow": _allowed_methods(request)},  # RFC 9110
        )
    if exc.status_code == 413:
        return problem_response(ErrorCode.BODY_TOO_LARGE, str(exc.detail))
    code = ErrorCode.INVALID_PARAMETER if exc.status_code < 500 else ErrorCode.INTERNAL_ERROR
    return problem_response(code, str(exc.detail), status=exc.status_code)


async def _on_database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    logger.warning("database unavailable: %s: %s", type(exc).__name__, exc)
    return problem_response(
        ErrorCode.DATABASE_UNAVAILABLE,
        "The database is unreachable or busy; retry shortly.",
        headers={"Retry-After": "1"},
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    if is_database_unavailable(exc):
        return await _on_database_unavailable(request, exc)
    logger.error("unexpected error", exc_info=exc)
    return problem_response(
        ErrorCode.INTERNAL_ERROR,
        f"An unexpected error occurred; quote request id {current_request_id()} when reporting it.",
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error through the table above."""
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(OperationalError, _on_database_unavailable)
    app.add_exception_handler(DBAPIError, _on_unexpected)
    app.add_exception_handler(OSError, _on_unexpected)


# `model` puts Problem in the components, but FastAPI files its schema under application/json;
# errors are sent as application/problem+json, so that media type needs the schema too.
_PROBLEM_SCHEMA = {"schema": {"$ref": "#/components/schemas/Problem"}}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting problem bodies for the given statuses."""
    return {
        s: {
            "model": Problem,
            "content": {PROBLEM_CONTENT_TYPE: dict(_PROBLEM_SCHEMA)},
            "description": _TITLES[s],
        }
        for s in statuses
    }
