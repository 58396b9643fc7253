"""REST endpoints for registration codes and CA certificates (thin: rules live in the service)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from mqtt_ca_registry.api.deps import ClockDep, SettingsDep
from mqtt_ca_registry.api.multipart import MULTIPART, MultipartRoute, form_fields, validated
from mqtt_ca_registry.api.pagination import (
    DEFAULT_PAGE_SIZE,
    CursorQuery,
    Page,
    PageSizeQuery,
    decode_cursor,
    encode_cursor,
)
from mqtt_ca_registry.api.problems import problem_responses
from mqtt_ca_registry.ca_certificates.schemas import (
    CA_NAME_MAX,
    CaDetail,
    CaOut,
    CaRegister,
    RegistrationCodeOut,
    Status,
)
from mqtt_ca_registry.ca_certificates.service import CaCertificateService
from mqtt_ca_registry.clock import Clock
from mqtt_ca_registry.config import Settings
from mqtt_ca_registry.db.session import ReadSessionDep, WriteSessionDep
from mqtt_ca_registry.errors import ErrorCode, InvalidInputError
from mqtt_ca_registry.instances.router import InstancePath
from mqtt_ca_registry.models import CaBindingStatus

router = APIRouter(prefix="/v1/instances/{instance_id}", tags=["ca-certificates"])

SnPath = Annotated[
    str,
    Path(description="CA serial: hex in any case, colons and leading zeros allowed."),
]
_CERT_ERRORS = problem_responses(400, 403, 404, 409, 413, 422)


@router.post(
    "/registration-codes",
    status_code=status.HTTP_201_CREATED,
    summary="Get a registration code",
    description="A fresh, single-use code. Put it as the Common Name of the verification "
    "certificate's CSR (`openssl req -new -key verificationCert.key -out verificationCert.csr`).",
    responses=problem_responses(403, 404, 422),
)
async def issue_registration_code(
    instance_id: InstancePath, session: WriteSessionDep, clock: ClockDep, settings: SettingsDep
) -> RegistrationCodeOut:
    code = await CaCertificateService(session, clock, settings).issue_registration_code(instance_id)
    return RegistrationCodeOut(
        code=code.code,
        instance_id=code.instance_id,
        created_at=code.created_at,
        expires_at=code.expires_at,
    )


_REGISTER_DESCRIPTION = (
    "Checks, in order: instance edition; name; no private key in the input; one parseable CA "
    "certificate; basicConstraints CA:TRUE; RSA 2048-8192 or EC P-256/384/521; CA validity; "
    "verification certificate signed by the CA's key (proof of possession) and valid; its CN is "
    "an unused code of this instance; serial unique. Active on success.\n\n"
    "Send the PEMs as JSON strings, or upload the files as `multipart/form-data` (choose it in "
    "the body's content-type list here): `curl -F ca_certificate=@CA.crt "
    "-F verification_certificate=@verificationCert.crt -F name=my-ca "
    "$BASE/v1/instances/mqtt-cn-local/ca-certificates`."
)
# The upload form, documented beside the JSON body (the multipart route itself is not in the
# schema: one operation, two content types, so Swagger UI offers file pickers for it).
_UPLOAD_FORM = {
    "type": "object",
    "required": ["name", "ca_certificate", "verification_certificate"],
    "properties": {
        "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": CA_NAME_MAX,
            "description": "CaName, 1-64 characters.",
            "examples": ["my-ca"],
        },
        "ca_certificate": {
            "type": "string",
            "format": "binary",
            "description": "CA.crt (PEM; a DER file is read too).",
        },
        "verification_certificate": {
            "type": "string",
            "format": "binary",
            "description": "verificationCert.crt: signed by the CA's key, CN = a registration "
            "code.",
        },
    },
}


async def _register(
    instance_id: str, body: CaRegister, session: AsyncSession, clock: Clock, settings: Settings
) -> CaDetail:
    view = await CaCertificateService(session, clock, settings).register(
        instance_id,
        name=body.name,
        ca_certificate=body.ca_certificate,
        verification_certificate=body.verification_certificate,
    )
    return view.detail()


async def register_ca_certificate_upload(
    instance_id: InstancePath,
    request: Request,
    session: WriteSessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> CaDetail:
    """The same registration from uploaded files (``curl -F ca_certificate=@CA.crt ...``)."""
    body = validated(CaRegister, await form_fields(request))
    return await _register(instance_id, body, session, clock, settings)


# Added before the JSON route: it takes only multipart requests and passes the rest on.
router.add_api_route(
    "/ca-certificates",
    register_ca_certificate_upload,
    methods=["POST"],
    status_code=status.HTTP_201_CREATED,
    include_in_schema=False,
    route_class_override=MultipartRoute,
)


@router.post(
    "/ca-certificates",
    status_code=status.HTTP_201_CREATED,
    summary="Register a CA certificate",
    description=_REGISTER_DESCRIPTION,
    responses=_CERT_ERRORS,
    openapi_extra={"requestBody": {"content": {MULTIPART: {"schema": _UPLOAD_FORM}}}},
)
async def register_ca_certificate(
    instance_id: InstancePath,
    body: CaRegister,
    session: WriteSessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> CaDetail:
    return await _register(instance_id, body, session, clock, settings)


@router.get("/ca-certificates", summary="List CA certificates", responses=_CERT_ERRORS)
async def list_ca_certificates(
    instance_id: InstancePath,
    session: ReadSessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    sn: Annotated[str | None, Query(description="Only the CA with this serial.")] = None,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    page_size: PageSizeQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[CaOut]:
    after = decode_cursor(cursor, "ca")
    if after is not None and not isinstance(after, int):
        raise InvalidInputError(ErrorCode.INVALID_CURSOR, "cursor is not valid.", field="cursor")
    page = await CaCertificateService(session, clock, settings).list(
        instance_id, sn=sn, status=status_, after_id=after, limit=page_size
    )
    next_cursor = encode_cursor("ca", page.items[-1].binding.id) if page.has_more else None
    return Page(items=[v.out() for v in page.items], next_cursor=next_cursor, total=page.total)


@router.get("/ca-certificates/{sn}", summary="Get a CA certificate", responses=_CERT_ERRORS)
async def get_ca_certificate(
    instance_id: InstancePath,
    sn: SnPath,
    session: ReadSessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> CaDetail:
    return (await CaCertificateService(session, clock, settings).get(instance_id, sn)).detail()


@router.get(
    "/ca-certificates/{sn}/pem",
    summary="Download a CA certificate",
    response_class=Response,
    responses={200: {"content": {"application/x-pem-file": {}}}, **_CERT_ERRORS},
)
async def download_ca_certificate(
    instance_id: InstancePath,
    sn: SnPath,
    session: ReadSessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    view = await CaCertificateService(session, clock, settings).get(instance_id, sn)
    return Response(
        content=view.certificate.certificate_pem,
        media_type="application/x-pem-file",
        headers={"Content-Disposition": f'attachment; filename="{view.certificate.sn}.pem"'},
    )


@router.post(
    "/ca-certificates/{sn}/activate",
    summary="Activate a CA certificate (its devices on this instance become active)",
    responses=_CERT_ERRORS,
)
async def activate_ca_certificate(
    instance_id: InstancePath,
    sn: SnPath,
    session: WriteSessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> CaOut:
    service = CaCertificateService(session, clock, settings)
    return (await service.set_status(instance_id, sn, CaBindingStatus.ACTIVE)).out()


@router.post(
    "/ca-certificates/{sn}/deactivate",
    summary="Deregister a CA certificate (its devices on this instance become inactive)",
    responses=_CERT_ERRORS,
)
async def deactivate_ca_certificate(
    instance_id: InstancePath,
    sn: SnPath,
    session: WriteSessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> CaOut:
    service = CaCertificateService(session, clock, settings)
    return (await service.set_status(instance_id, sn, CaBindingStatus.INACTIVE)).out()


@router.delete(
    "/ca-certificates/{sn}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a CA certificate with its device certificates on this instance",
    responses=_CERT_ERRORS,
)
async def delete_ca_certificate(
    instance_id: InstancePath,
    sn: SnPath,
    session: WriteSessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    await CaCertificateService(session, clock, settings).delete(instance_id, sn)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
