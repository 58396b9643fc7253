"""``multipart/form-data`` beside JSON on one path and method.

:class:`MultipartRoute` takes only multipart requests and lets every other one go on to the next
route on the path (the JSON route, with FastAPI's own body handling untouched).
:func:`form_fields` reads the form into the text fields a JSON body would carry, so both routes
validate the same model and call the same service: same checks, limits and errors.
"""

from __future__ import annotations

import base64
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile
from starlette.routing import Match
from starlette.types import Scope

MULTIPART = "multipart/form-data"
M = TypeVar("M", bound=BaseModel)


def is_multipart(scope: Scope) -> bool:
    """Whether the request's Content-Type is multipart/form-data."""
    content_type = next((v for k, v in scope.get("headers", ()) if k == b"content-type"), b"")
    return content_type.split(b";", 1)[0].strip().lower() == MULTIPART.encode()


class MultipartRoute(APIRoute):
    """An APIRoute that matches only multipart/form-data requests."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE and not is_multipart(scope):
            return Match.NONE, {}
        return match, child_scope


def _text(data: bytes) -> str:
    # A text file (PEM) as it is; a binary one (a DER certificate) as base64, which the
    # certificate loader reads as it reads base64 DER sent in JSON.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii")


async def form_fields(request: Request) -> dict[str, str]:
    """Every part of the form as text, uploaded files included (the last of a repeated name)."""
    fields: dict[str, str] = {}
    async with request.form() as form:
        for name, value in form.multi_items():
            fields[name] = _text(await value.read()) if isinstance(value, UploadFile) else value
    return fields


def validated(model: type[M], fields: dict[str, Any]) -> M:
    """``fields`` as ``model``, or the RequestValidationError FastAPI raises for a JSON body."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors) from None
