"""Keyset pagination: opaque cursors and the page envelope every list endpoint returns."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from mqtt_ca_registry.errors import ErrorCode, InvalidInputError

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

PageSizeQuery = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page, 1-100.")]
CursorQuery = Annotated[
    str | None,
    Query(
        max_length=512, description="The `next_cursor` of the previous page; omit for the first."
    ),
]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list, with the cursor of the next page (null on the last)."""

    items: list[T]
    next_cursor: str | None
    total: int


def encode_cursor(kind: str, after: Any) -> str:
    """An opaque cursor pointing after ``after`` in a list of ``kind``."""
    raw = json.dumps({"k": kind, "a": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, kind: str) -> Any:
    """The position a cursor points after, or None for the first page."""
    if cursor is None or cursor == "":
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(data, dict) or data.get("k") != kind or "a" not in data:
            raise ValueError("wrong cursor kind")
        return data["a"]
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise InvalidInputError(
            ErrorCode.INVALID_CURSOR,
            "cursor is not one this list returned; pass next_cursor from the previous page "
            "unchanged, or omit it for the first page.",
            field="cursor",
        ) from exc
