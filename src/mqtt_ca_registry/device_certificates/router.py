"""REST endpoints for device certificates and the authenticate decision."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from mqtt_ca_registry.api.deps import ReadServices, WriteServices, backend_of
from mqtt_ca_registry.api.pagination import (
    DEFAULT_PAGE_SIZE,
    CursorQuery,
    Page,
    PageSizeQuery,
    decode_cursor,
    encode_cursor,
)
from mqtt_ca_registry.api.problems import problem_responses
from mqtt_ca_registry.device_certificates.authentication import Authenticator
from mqtt_ca_registry.device_certificates.outcomes import AuthOutcome
from mqtt_ca_registry.device_certificates.repository import DeviceRow
from mqtt_ca_registry.device_certificates.schemas import (
    ChainIn,
    Decision,
    DeviceDetail,
    DeviceOut,
    Status,
)
from mqtt_ca_registry.device_certificates.service import DevicePage
from mqtt_ca_registry.errors import ErrorCode, InvalidInputError
from mqtt_ca_registry.instances.router import InstancePath
from mqtt_ca_registry.models import DeviceStatus

router = APIRouter(prefix="/v1/instances/{instance_id}", tags=["device-certificates"])

CaSnPath = Annotated[str, Path(description="CA serial (any case, colons, leading zeros).")]
DeviceSnPath = Annotated[str, Path(description="Device certificate serial.")]
StatusQuery = Annotated[Status | None, Query(alias="status")]
_ERRORS = problem_responses(400, 403, 404, 409, 413, 422)
_DEVICE = "/ca-certificates/{ca_sn}/device-certificates/{device_sn}"


async def get_authenticator(request: Request) -> Authenticator:
    """The backend's authenticator, read straight from app.state: fewer dependency resolutions
    on the hot path (bench/, item 1)."""
    return backend_of(request).authenticator


AuthenticatorDep = Annotated[Authenticator, Depends(get_authenticator)]


def device_out(row: DeviceRow) -> DeviceOut:
    return DeviceOut(**_device_fields(row))


def device_detail_out(row: DeviceRow, pem: str) -> DeviceDetail:
    return DeviceDetail(**_device_fields(row), certificate_pem=pem)


def _device_fields(row: DeviceRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in DeviceOut.model_fields}


def decision_of(outcome: AuthOutcome) -> Decision:
    return Decision(
        decision="accepted" if outcome.accepted else "rejected",
        reason_code=outcome.reason,  # a ConnectReason's REST wire form is its value
        reason=outcome.message,
        auto_registered=outcome.auto_registered,
        device=device_out(outcome.device) if outcome.device else None,
        ca_sn=outcome.ca_sn,
    )


@router.post(
    "/authenticate",
    summary="Would the broker accept this device? (a connect attempt)",
    description="Decides as a TLS server requiring client certificates would (OpenSSL's "
    "`verify -purpose sslclient`, security level 2), against this instance's registered CAs; "
    "then the registry: a valid, unknown device is auto-registered (active). Input that is not "
    "a certificate is a 422 problem; a certificate that fails is a 200 `rejected` decision.",
    responses=_ERRORS,
)
async def authenticate(
    instance_id: InstancePath, body: ChainIn, authenticator: AuthenticatorDep
) -> Decision:
    return decision_of(await authenticator.authenticate(instance_id, body.certificate_chain))


@router.post(
    "/device-certificates",
    summary="Register a device certificate explicitly",
    description="The same checks as a connect. 201 when registered now, 200 when it already "
    "was (its status is left as it is).",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": DeviceOut, "description": "Already registered"}, **_ERRORS},
)
async def register_device_certificate(
    instance_id: InstancePath, body: ChainIn, authenticator: AuthenticatorDep, response: Response
) -> DeviceOut:
    registration = await authenticator.register(instance_id, body.certificate_chain)
    if not registration.created:
        response.status_code = status.HTTP_200_OK
    return device_out(registration.device)


def _page(page: DevicePage) -> Page[DeviceOut]:
    next_cursor = encode_cursor("device", page.items[-1].id) if page.has_more else None
    return Page(
        items=[device_out(r) for r in page.items], next_cursor=next_cursor, total=page.total
    )


def _after(cursor: str | None) -> int | None:
    after = decode_cursor(cursor, "device")
    if after is not None and not isinstance(after, int):
        raise InvalidInputError(ErrorCode.INVALID_CURSOR, "cursor is not valid.", field="cursor")
    return after


@router.get("/device-certificates", summary="List an instance's devices", responses=_ERRORS)
async def list_device_certificates(
    instance_id: InstancePath,
    services: ReadServices,
    ca_sn: Annotated[str | None, Query(description="Only devices of this CA.")] = None,
    status_: StatusQuery = None,
    page_size: PageSizeQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[DeviceOut]:
    page = await services.devices.list(
        instance_id, ca_sn=ca_sn, status=status_, after_id=_after(cursor), limit=page_size
    )
    return _page(page)


@router.get(
    "/ca-certificates/{ca_sn}/device-certificates",
    summary="List the devices of one CA",
    responses=_ERRORS,
)
async def list_ca_device_certificates(
    instance_id: InstancePath,
    ca_sn: CaSnPath,
    services: ReadServices,
    status_: StatusQuery = None,
    page_size: PageSizeQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[DeviceOut]:
    page = await services.devices.list(
        instance_id, ca_sn=ca_sn, status=status_, after_id=_after(cursor), limit=page_size
    )
    return _page(page)


@router.get(_DEVICE, summary="Get a device certificate", responses=_ERRORS)
async def get_device_certificate(
    instance_id: InstancePath,
    ca_sn: CaSnPath,
    device_sn: DeviceSnPath,
    request: Request,
) -> DeviceDetail:
    # Read straight from app.state, not through dependencies: this is the describe call load
    # tests make (bench/, item 8); found, it is one compiled statement and no session.
    async with backend_of(request).read() as services:
        found = await services.devices.detail(instance_id, ca_sn, device_sn)
    return device_detail_out(found.device, found.certificate_pem)


@router.post(_DEVICE + "/activate", summary="Activate a device certificate", responses=_ERRORS)
async def activate_device_certificate(
    instance_id: InstancePath,
    ca_sn: CaSnPath,
    device_sn: DeviceSnPath,
    services: WriteServices,
) -> DeviceOut:
    row = await services.devices.set_status(instance_id, ca_sn, device_sn, DeviceStatus.ACTIVE)
    return device_out(row)


@router.post(_DEVICE + "/deactivate", summary="Deactivate a device certificate", responses=_ERRORS)
async def deactivate_device_certificate(
    instance_id: InstancePath,
    ca_sn: CaSnPath,
    device_sn: DeviceSnPath,
    services: WriteServices,
) -> DeviceOut:
    row = await services.devices.set_status(instance_id, ca_sn, device_sn, DeviceStatus.INACTIVE)
    return device_out(row)


@router.delete(
    _DEVICE,
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a device certificate (it registers again at its next connect)",
    responses=_ERRORS,
)
async def delete_device_certificate(
    instance_id: InstancePath,
    ca_sn: CaSnPath,
    device_sn: DeviceSnPath,
    services: WriteServices,
) -> Response:
    await services.devices.delete(instance_id, ca_sn, device_sn)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
