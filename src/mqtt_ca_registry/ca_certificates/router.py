"""REST endpoints for registration codes and CA certificates (thin: rules live in the service)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from mqtt_ca_registry.api.deps import ClockDep, SettingsDep
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
    CaDetail,
    CaOut,
    CaRegister,
    RegistrationCodeOut,
    Status,
)
from mqtt_ca_registry.ca_certificates.service import CaCertificateService
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


@router.post(
    "/ca-certificates",
    status_code=status.HTTP_201_CREATED,
    summary="Register a CA certificate",
    description="Checks, in order: instance edition; name; no private key in the input; one "
    "parseable CA certificate; basicConstraints CA:TRUE; RSA 2048-8192 or EC P-256/384/521; "
    "CA validity; verification certificate signed by the CA's key (proof of possession) and "
    "valid; its CN is an unused code of this instance; serial unique. Active on success.",
    responses=_CERT_ERRORS,
)
async def register_ca_certificate(
    instance_id: InstancePath,
    body: CaRegister,
    session: WriteSessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> CaDetail:
    view = await CaCertificateService(session, clock, settings).register(
        instance_id,
        name=body.name,
        ca_certificate=body.ca_certificate,
        verification_certificate=body.verification_certificate,
    )
    return view.detail()


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
