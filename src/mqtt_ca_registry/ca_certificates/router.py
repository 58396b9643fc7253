"""REST endpoints for registration codes and CA certificates (thin: rules live in the service)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status

from mqtt_ca_registry.api.deps import ReadServices, WriteServices
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
from mqtt_ca_registry.backend import Services
from mqtt_ca_registry.ca_certificates.schemas import (
    CA_NAME_MAX,
    CaDetail,
    CaOut,
    CaRegister,
    RegistrationCodeOut,
    Status,
)
from mqtt_ca_registry.ca_certificates.service import CaView
from mqtt_ca_registry.errors import ErrorCode, InvalidInputError
from mqtt_ca_registry.instances.router import InstancePath
from mqtt_ca_registry.models import CaBindingStatus

router = APIRouter(prefix="/v1/instances/{instance_id}", tags=["ca-certificates"])

SnPath = Annotated[
    str,
    Path(description="CA serial: hex in any case, colons and leading zeros allowed."),
]
_CERT_ERRORS = problem_responses(400, 403, 404, 409, 413, 422)


def _fields(view: CaView) -> dict[str, Any]:
    b, c = view.binding, view.certificate
    return {
        "sn": c.sn,
        "name": b.name,
        "status": b.status,
        "fingerprint_sha256": c.fingerprint_sha256,
        "subject": c.subject,
        "issuer": c.issuer,
        "key_algorithm": c.key_algorithm,
        "key_size": c.key_size,
        "curve": c.curve,
        "not_before": c.not_before,
        "not_after": c.not_after,
        "registered_at": b.registered_at,
        "registration_code": b.registration_code,
        "instance_id": b.instance_id,
        "device_count": view.device_count,
    }


def ca_out(view: CaView) -> CaOut:
    return CaOut(**_fields(view))


def ca_detail(view: CaView) -> CaDetail:
    return CaDetail(
        **_fields(view),
        certificate_pem=view.certificate.certificate_pem,
        verification_certificate_pem=view.binding.verification_certificate_pem,
    )


@router.post(
    "/registration-codes",
    status_code=status.HTTP_201_CREATED,
    summary="Get a registration code",
    description="A fresh, single-use code. Put it as the Common Name of the verification "
    "certificate's CSR (`openssl req -new -key verificationCert.key -out verificationCert.csr`).",
    responses=problem_responses(403, 404, 422),
)
async def issue_registration_code(
    instance_id: InstancePath, services: WriteServices
) -> RegistrationCodeOut:
    code = await services.cas.issue_registration_code(instance_id)
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


async def _register(instance_id: str, body: CaRegister, services: Services) -> CaDetail:
    view = await services.cas.register(
        instance_id,
        name=body.name,
        ca_certificate=body.ca_certificate,
        verification_certificate=body.verification_certificate,
    )
    return ca_detail(view)


async def register_ca_certificate_upload(
    instance_id: InstancePath,
    request: Request,
    services: WriteServices,
) -> CaDetail:
    """The same registration from uploaded files (``curl -F ca_certificate=@CA.crt ...``)."""
    body = validated(CaRegister, await form_fields(request))
    return await _register(instance_id, body, services)


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
    services: WriteServices,
) -> CaDetail:
    return await _register(instance_id, body, services)


@router.get("/ca-certificates", summary="List CA certificates", responses=_CERT_ERRORS)
async def list_ca_certificates(
    instance_id: InstancePath,
    services: ReadServices,
    sn: Annotated[str | None, Query(description="Only the CA with this serial.")] = None,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    page_size: PageSizeQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[CaOut]:
    after = decode_cursor(cursor, "ca")
    if after is not None and not isinstance(after, int):
        raise InvalidInputError(ErrorCode.INVALID_CURSOR, "cursor is not valid.", field="cursor")
    page = await services.cas.list(
        instance_id, sn=sn, status=status_, after_id=after, limit=page_size
    )
    next_cursor = encode_cursor("ca", page.items[-1].binding.id) if page.has_more else None
    return Page(items=[ca_out(v) for v in page.items], next_cursor=next_cursor, total=page.total)


@router.get("/ca-certificates/{sn}", summary="Get a CA certificate", responses=_CERT_ERRORS)
async def get_ca_certificate(
    instance_id: InstancePath,
    sn: SnPath,
    services: ReadServices,
) -> CaDetail:
    return ca_detail(await services.cas.get(instance_id, sn))


@router.get(
    "/ca-certificates/{sn}/pem",
    summary="Download a CA certificate",
    response_class=Response,
    responses={200: {"content": {"application/x-pem-file": {}}}, **_CERT_ERRORS},
)
async def download_ca_certificate(
    instance_id: InstancePath,
    sn: SnPath,
    services: ReadServices,
) -> Response:
    view = await services.cas.get(instance_id, sn)
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
    services: WriteServices,
) -> CaOut:
    return ca_out(await services.cas.set_status(instance_id, sn, CaBindingStatus.ACTIVE))


@router.post(
    "/ca-certificates/{sn}/deactivate",
    summary="Deregister a CA certificate (its devices on this instance become inactive)",
    responses=_CERT_ERRORS,
)
async def deactivate_ca_certificate(
    instance_id: InstancePath,
    sn: SnPath,
    services: WriteServices,
) -> CaOut:
    return ca_out(await services.cas.set_status(instance_id, sn, CaBindingStatus.INACTIVE))


@router.delete(
    "/ca-certificates/{sn}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a CA certificate with its device certificates on this instance",
    responses=_CERT_ERRORS,
)
async def delete_ca_certificate(
    instance_id: InstancePath,
    sn: SnPath,
    services: WriteServices,
) -> Response:
    await services.cas.delete(instance_id, sn)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
