"""REST endpoints for instances (thin: validation in schemas, rules in the service)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from mqtt_ca_registry.api.deps import ClockDep
from mqtt_ca_registry.api.pagination import DEFAULT_PAGE_SIZE, CursorQuery, Page, PageSizeQuery
from mqtt_ca_registry.api.problems import problem_responses
from mqtt_ca_registry.db.session import ReadSessionDep, WriteSessionDep
from mqtt_ca_registry.instances.schemas import InstanceCreate, InstanceOut
from mqtt_ca_registry.instances.service import InstanceService, to_out

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


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(400, 409, 413, 422),
    summary="Create an instance",
)
async def create_instance(
    body: InstanceCreate, session: WriteSessionDep, clock: ClockDep
) -> InstanceOut:
    return to_out(await InstanceService(session, clock).create(body))


@router.get("", summary="List instances", responses=problem_responses(400, 422))
async def list_instances(
    session: ReadSessionDep,
    clock: ClockDep,
    page_size: PageSizeQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[InstanceOut]:
    return await InstanceService(session, clock).list(page_size=page_size, cursor=cursor)


@router.get("/{instance_id}", summary="Get an instance", responses=problem_responses(404, 422))
async def get_instance(
    instance_id: InstancePath, session: ReadSessionDep, clock: ClockDep
) -> InstanceOut:
    return to_out(await InstanceService(session, clock).get(instance_id))


@router.delete(
    "/{instance_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404, 422),
    summary="Delete an instance with its CA bindings and device registrations",
)
async def delete_instance(
    instance_id: InstancePath, session: WriteSessionDep, clock: ClockDep
) -> Response:
    await InstanceService(session, clock).delete(instance_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
