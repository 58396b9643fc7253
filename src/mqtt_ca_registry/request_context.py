"""Request context: the id and the actor of the call being handled (any front end), for
log lines and audit events. Context variables: each request, connect or task sees its own."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

REQUEST_ID_HEADER = "X-Request-Id"
_current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
_current_actor: contextvars.ContextVar[str] = contextvars.ContextVar("actor", default="anonymous")
# A caller-supplied id is kept only if it is short and harmless in a log line.
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str | None:
    """The id of the request being handled, if any."""
    return _current_request_id.get()


def new_request_id() -> str:
    """A fresh id: an upper-case UUID, as Alibaba's RequestId looks."""
    return str(uuid.uuid4()).upper()


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every log record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current_request_id.get() or "-"
        return True


def bind_request_id(incoming: str | None) -> tuple[str, contextvars.Token[str | None]]:
    """Adopt a harmless caller-supplied id or make one; bind it for this request's logs."""
    request_id = incoming if incoming and _ACCEPTABLE_ID.match(incoming) else new_request_id()
    return request_id, _current_request_id.set(request_id)


def unbind_request_id(token: contextvars.Token[str | None]) -> None:
    _current_request_id.reset(token)


def current_actor() -> str:
    """Who is acting in this request: "api-token", an AccessKeyId, "anonymous" or "system"."""
    return _current_actor.get()


def set_actor(actor: str) -> contextvars.Token[str]:
    """Record who is acting (never pass a secret). Scoped to the current request's context."""
    return _current_actor.set(actor)


def reset_actor(token: contextvars.Token[str]) -> None:
    _current_actor.reset(token)
