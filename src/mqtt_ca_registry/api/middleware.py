"""Pure ASGI middleware (no per-request thread hop or body copy): request ids, access log,
body size limit, and the last-resort 500 that still carries the request id."""

from __future__ import annotations

import json
import logging
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mqtt_ca_registry.api.problems import PROBLEM_CONTENT_TYPE, TYPE_BASE
from mqtt_ca_registry.errors import ErrorCode
from mqtt_ca_registry.request_context import (
    REQUEST_ID_HEADER,
    bind_request_id,
    reset_actor,
    set_actor,
    unbind_request_id,
)

access_log = logging.getLogger("mqtt_ca_registry.access")
error_log = logging.getLogger("mqtt_ca_registry.errors")


async def send_problem(
    send: Send, status: int, code: ErrorCode, detail: str, request_id: str
) -> None:
    """Send a problem response straight from middleware (before routing)."""
    body = json.dumps(
        {
            "type": TYPE_BASE + str(code),
            "title": "Content too large" if status == 413 else "Internal server error",
            "status": status,
            "detail": detail,
            "code": str(code),
            "request_id": request_id,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_CONTENT_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                (REQUEST_ID_HEADER.lower().encode(), request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    """Gives every request an id (header ``X-Request-Id``, every log line) and logs it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None
        )
        request_id, token = bind_request_id(incoming)
        # Requests on one keep-alive connection share a task: start each one anonymous.
        actor_token = set_actor("anonymous")
        scope.setdefault("state", {})["request_id"] = request_id
        started_at = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            error_log.exception("unexpected error")
            if status:
                raise
            status = 500
            await send_problem(
                send,
                500,
                ErrorCode.INTERNAL_ERROR,
                f"An unexpected error occurred; quote request id {request_id} when reporting it.",
                request_id,
            )
        finally:
            if access_log.isEnabledFor(logging.INFO):
                # The path only: query strings of the Alibaba API carry PEMs and signatures.
                access_log.info(
                    "%s %s %d %.1fms",
                    scope["method"],
                    scope["path"],
                    status,
                    (time.perf_counter() - started_at) * 1000,
                )
            reset_actor(actor_token)
            unbind_request_id(token)


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` with a 413 problem before the app reads them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        request_id = scope.get("state", {}).get("request_id", "-")
        detail = (
            f"The request body is larger than {self.max_bytes} bytes "
            "(setting MQTT_CA_REGISTRY_MAX_BODY_BYTES); send less."
        )
        if declared is not None:
            if declared.isdigit() and int(declared) > self.max_bytes:
                await send_problem(send, 413, ErrorCode.BODY_TOO_LARGE, detail, request_id)
                return
            await self.app(scope, receive, send)
            return
        # No Content-Length (chunked): read up to the limit first, then replay it to the app.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await send_problem(send, 413, ErrorCode.BODY_TOO_LARGE, detail, request_id)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
