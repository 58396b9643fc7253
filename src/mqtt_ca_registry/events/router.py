"""GET /v1/instances/{id}/events: the audit trail of one instance, newest first."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BeforeValidator

from mqtt_ca_registry.api.deps import ReadServices
from mqtt_ca_registry.api.pagination import (
    DEFAULT_PAGE_SIZE,
    CursorQuery,
    Page,
    PageSizeQuery,
    decode_cursor,
    encode_cursor,
)
from mqtt_ca_registry.api.problems import problem_responses
from mqtt_ca_registry.errors import ErrorCode, InvalidInputError
from mqtt_ca_registry.events.recorder import EventType
from mqtt_ca_registry.events.schemas import EventOut
from mqtt_ca_registry.instances.router import InstancePath

router = APIRouter(prefix="/v1/instances/{instance_id}", tags=["events"])
_RFC3339_START = re.compile(r"\d{4}-\d\d-\d\d[Tt ]")


def _rfc3339_text(value: object) -> object:
    # pydantic also reads numbers ("0.5") as Unix times; the filters are RFC 3339 only.
    if isinstance(value, str) and not _RFC3339_START.match(value.strip()):
        raise ValueError("expected an RFC 3339 time, e.g. 2026-06-01T12:00:00Z")
    return value


TimeFilter = Annotated[datetime | None, BeforeValidator(_rfc3339_text)]


def _utc(name: str, moment: datetime | None) -> datetime | None:
    """The filter time in UTC; naive times and times outside UTC's range are refused."""
    if moment is None:
        return None
    problem = None
    if moment.tzinfo is None:
        problem = f"{name} needs a time zone, e.g. 2026-06-01T12:00:00Z."
    else:
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            problem = f"{name} is outside the representable range once converted to UTC."
    raise InvalidInputError(ErrorCode.INVALID_PARAMETER, problem, field=name)


@router.get(
    "/events",
    summary="List an instance's audit events (newest first)",
    description="Every state change and every rejected authentication, with time, actor, "
    "request id and outcome. Events of a deleted instance stay listed.",
    responses=problem_responses(400, 404, 422),
)
async def list_events(
    instance_id: InstancePath,
    services: ReadServices,
    type_: Annotated[
        list[EventType] | None, Query(alias="type", description="Only these types (repeatable).")
    ] = None,
    since: Annotated[TimeFilter, Query(description="Only events at or after (RFC 3339).")] = None,
    until: Annotated[TimeFilter, Query(description="Only events before (RFC 3339).")] = None,
    page_size: PageSizeQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[EventOut]:
    since, until = _utc("since", since), _utc("until", until)
    repository = services.events
    if not await repository.any_for(instance_id):
        await services.instances.get(instance_id)  # 404 for unknown instances
    before = decode_cursor(cursor, "events")
    if before is not None and not isinstance(before, int):
        raise InvalidInputError(ErrorCode.INVALID_CURSOR, "cursor is not valid.", field="cursor")
    types = [t.value for t in type_ or []]
    rows = await repository.page(
        instance_id, types=types, since=since, until=until, before_id=before, limit=page_size + 1
    )
    items = [EventOut.model_validate(row, from_attributes=True) for row in rows[:page_size]]
    next_cursor = encode_cursor("events", items[-1].id) if len(rows) > page_size else None
    total = await repository.count(instance_id, types=types, since=since, until=until)
    return Page(items=items, next_cursor=next_cursor, total=total)
