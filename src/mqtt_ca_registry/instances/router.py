"""REST endpoints for instances (thin: validation in schemas, rules in the service)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from mqtt_ca_registry.api.deps import ReadServices, WriteServices
from mqtt_ca_registry.api.pagination import (
    DEFAULT_PAGE_SIZE,
    CursorQuery,
    Page,
    PageSizeQuery,
    decode_cursor,
    encode_cursor,
)
from mqtt_ca_registry.api.problems import problem_responses
from mqtt_ca_registry.instances.schemas import InstanceCreate, InstanceOut
from mqtt_ca_registry.models import Edition, Instance

router = APIRouter(prefix="/v1/instances", tags=["instances"])

InstancePath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        description="The instance id, e.g. mqtt-cn-local (the default instance).",
        examples=["mqtt-cn-local"],
        # Swagger UI fills the field from the parameter's examples, not the schema's.
        openapi_examples={"default": {"summary": "the default instance", "value": "mqtt-cn-local"}},
    ),
]


def instance_out(instance: Instance) -> InstanceOut:
    edition = Edition(instance.edition)
    return InstanceOut(
        instance_id=instance.instance_id,
        name=instance.name,
        edition=edition,
        instance_type=edition.instance_type,
        region_id=instance.region_id,
        tags=dict(instance.tags or {}),
        created_at=instance.created_at,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(400, 409, 413, 422),
    summary="Create an instance",
)
async def create_instance(body: InstanceCreate, services: WriteServices) -> InstanceOut:
    return instance_out(await services.instances.create(body))


@router.get("", summary="List instances", responses=problem_responses(400, 422))
async def list_instances(
    services: ReadServices,
    page_size: PageSizeQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[InstanceOut]:
    after = decode_cursor(cursor, "instances")
    if after is not None and not isinstance(after, str):
        after = str(after)
    page = await services.instances.list(after=after, limit=page_size)
    items = [instance_out(i) for i in page.items]
    next_cursor = encode_cursor("instances", items[-1].instance_id) if page.has_more else None
    return Page(items=items, next_cursor=next_cursor, total=page.total)


@router.get("/{instance_id}", summary="Get an instance", responses=problem_responses(404, 422))
async def get_instance(instance_id: InstancePath, services: ReadServices) -> InstanceOut:
    return instance_out(await services.instances.get(instance_id))


@router.delete(
    "/{instance_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404, 422),
    summary="Delete an instance with its CA bindings and device registrations",
)
async def delete_instance(instance_id: InstancePath, services: WriteServices) -> Response:
    await services.instances.delete(instance_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
