"""`GET|POST /`: the Alibaba Cloud OpenAPI front end (RPC style, version 2020-04-20).

Dispatches on ``Action`` (query or form) or the ``x-acs-action`` header, verifies the request's
signature, and runs one thin adapter over the same services the REST API uses. Every domain
error goes through one table to Alibaba's documented ``Code``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from mqtt_ca_registry.alibaba import ca_actions, device_actions
from mqtt_ca_registry.alibaba.context import ActionContext
from mqtt_ca_registry.alibaba.errors import TABLE, error_response, sdk_message
from mqtt_ca_registry.alibaba.params import Params
from mqtt_ca_registry.alibaba.signing import (
    RequestVerifier,
    SignatureError,
    SignedRequest,
    action_of,
)
from mqtt_ca_registry.db.session import is_database_unavailable
from mqtt_ca_registry.errors import DomainError, ErrorCode
from mqtt_ca_registry.request_context import current_request_id, set_actor

logger = logging.getLogger(__name__)

API_VERSION = "2020-04-20"
Action = Callable[[ActionContext, Params], Awaitable[dict[str, Any]]]

ACTIONS: dict[str, Action] = {
    "RegisterCaCertificate": ca_actions.register_ca_certificate,
    "GetRegisterCode": ca_actions.get_register_code,
    "GetCaCertificate": ca_actions.get_ca_certificate,
    "ListCaCertificate": ca_actions.list_ca_certificate,
    "ActiveCaCertificate": ca_actions.active_ca_certificate,
    "InactivateCaCertificate": ca_actions.inactivate_ca_certificate,
    "DeleteCaCertificate": ca_actions.delete_ca_certificate,
    "GetDeviceCertificate": device_actions.get_device_certificate,
    "ListDeviceCertificate": device_actions.list_device_certificate,
    "ListDeviceCertificateByCaSn": device_actions.list_device_certificate_by_ca_sn,
    "ActiveDeviceCertificate": device_actions.active_device_certificate,
    "InactivateDeviceCertificate": device_actions.inactivate_device_certificate,
    "DeleteDeviceCertificate": device_actions.delete_device_certificate,
    "ListInstances": ca_actions.list_instances,
}

DESCRIPTION = (
    """
The Alibaba Cloud OpenAPI surface of ApsaraMQ for MQTT (`onsmqtt`, version `2020-04-20`), for the
official SDK pointed at this server, unchanged:

```python
from alibabacloud_onsmqtt20200420.client import Client
from alibabacloud_onsmqtt20200420 import models
from alibabacloud_tea_openapi.models import Config

client = Client(Config(endpoint="127.0.0.1:8000", protocol="http",
                       access_key_id="LTAI5tLocalEmulatorKey",
                       access_key_secret="local-emulator-secret"))
code = client.get_register_code(
    models.GetRegisterCodeRequest(mqtt_instance_id="mqtt-cn-local")).body.register_code
```

The action comes from the `Action` parameter or the `x-acs-action` header; every parameter is in
the query string (a form body is read too). Signatures: ACS3-HMAC-SHA256 (the SDK's default) and
RPC HMAC-SHA1 (`signature_algorithm="v2"`). Actions: """
    + ", ".join(ACTIONS)
    + """.
Errors are `{RequestId, HostId, Code, Message, Recommend}` with Alibaba's documented codes. A
browser `GET /` without an action is redirected to this page.
"""
)

router = APIRouter(tags=["alibaba"])


def _host(request: Request) -> str:
    return request.headers.get("host", "localhost")


def _fail(request: Request, code: str, status: int, message: str) -> JSONResponse:
    return error_response(
        code, status, message, request_id=current_request_id() or "-", host=_host(request)
    )


def _domain_error(request: Request, error: DomainError) -> JSONResponse:
    mapped = TABLE[error.code]
    return _fail(request, mapped.code, mapped.status, sdk_message(error))


async def _authenticate(request: Request, signed: SignedRequest) -> JSONResponse | None:
    settings = request.app.state.settings
    if not settings.alibaba_verify_signatures:
        set_actor("unsigned")
        return None
    verifier: RequestVerifier = request.app.state.alibaba_verifier
    try:
        set_actor(verifier.verify(signed, now=request.app.state.clock.now()))
    except SignatureError as error:
        return _fail(request, str(error.code), error.http_status, error.message)
    return None


_ERROR_FIELDS = ("RequestId", "HostId", "Code", "Message", "Recommend")


def _error_response(description: str) -> dict[str, Any]:
    """An OpenAPI response entry for Alibaba's error body (alibaba/errors.py)."""
    body = {
        "type": "object",
        "required": list(_ERROR_FIELDS),
        "properties": {name: {"type": "string"} for name in _ERROR_FIELDS},
    }
    return {"description": description, "content": {"application/json": {"schema": body}}}


_ROUTE = {
    "summary": "Alibaba Cloud OpenAPI (onsmqtt 2020-04-20)",
    "description": DESCRIPTION,
    "response_class": JSONResponse,
    "responses": {
        200: {"description": "The action's documented response, plus RequestId."},
        307: {"description": "A browser GET without an action: redirect to /docs"},
        400: _error_response("Invalid parameter, version or signature; unknown instance or Sn"),
        401: _error_response("Certificate content error, used registration code, Sn not unique"),
        403: _error_response("The instance's edition cannot hold certificates"),
        404: _error_response("No or unknown Action, or unknown AccessKeyId"),
        503: _error_response("The database is unavailable; retry"),
    },
}


@router.get("/", operation_id="alibaba_openapi_get", **_ROUTE)  # type: ignore[arg-type]
@router.post("/", operation_id="alibaba_openapi_post", **_ROUTE)  # type: ignore[arg-type]
async def alibaba_openapi(request: Request) -> Response:
    body = await request.body()
    signed = SignedRequest.from_http(
        request.method, request.query_params.multi_items(), dict(request.headers), body
    )
    action = action_of(signed)
    if action is None:
        if request.method == "GET" and "authorization" not in signed.headers:
            return RedirectResponse("/docs", status_code=307)
        return _fail(request, "InvalidAction.NotFound", 404, "No Action given.")
    denied = await _authenticate(request, signed)
    if denied is not None:
        return denied
    parameters = dict([*signed.query, *signed.form])
    version = parameters.get("Version") or signed.headers.get("x-acs-version")
    if version != API_VERSION:
        return _fail(
            request,
            "InvalidVersion",
            400,
            f"Specified parameter Version is not valid: use {API_VERSION}.",
        )
    handler = ACTIONS.get(action)
    if handler is None:
        return _fail(
            request,
            "InvalidAction.NotFound",
            404,
            f"Action {action[:64]!r} is not one this emulator serves; see /docs.",
        )
    context = ActionContext(request.app.state.backend)
    try:
        result = await handler(context, Params([*signed.query, *signed.form]))
    except DomainError as error:
        return _domain_error(request, error)
    except Exception as error:
        if not is_database_unavailable(error):
            raise
        logger.warning("database unavailable during %s: %s", action, type(error).__name__)
        return _domain_error(
            request,
            DomainError(ErrorCode.DATABASE_UNAVAILABLE, "The database is unreachable; retry."),
        )
    return JSONResponse({"RequestId": current_request_id(), **result})
