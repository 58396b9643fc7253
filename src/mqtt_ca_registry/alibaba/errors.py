"""The Alibaba wire form of every error, from one table (docs/alibaba-api.md, "Error codes")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.responses import JSONResponse

from mqtt_ca_registry.errors import DomainError, ErrorCode, Remedy

# Codes the real service does not document are marked as the emulator's own.
EMULATOR_PREFIX = "Emulator."


@dataclass(frozen=True)
class AlibabaError:
    code: str
    status: int


PARAMETER = AlibabaError("ParameterFieldCheckFailed", 400)
CERTIFICATE_CONTENT = AlibabaError("CertificateContentError", 401)

TABLE: dict[ErrorCode, AlibabaError] = {
    ErrorCode.VALIDATION_FAILED: PARAMETER,
    ErrorCode.INVALID_PARAMETER: PARAMETER,
    ErrorCode.INVALID_CURSOR: PARAMETER,
    ErrorCode.INVALID_SN: PARAMETER,
    ErrorCode.BODY_TOO_LARGE: PARAMETER,
    ErrorCode.UNAUTHORIZED: AlibabaError("PermissionCheckFailed", 403),
    ErrorCode.ROUTE_NOT_FOUND: AlibabaError("InvalidAction.NotFound", 404),
    ErrorCode.METHOD_NOT_ALLOWED: AlibabaError("InvalidAction.NotFound", 404),
    ErrorCode.INTERNAL_ERROR: AlibabaError("InternalError", 417),
    ErrorCode.DATABASE_UNAVAILABLE: AlibabaError("ServiceUnavailable", 503),
    ErrorCode.REQUEST_URI_TOO_LONG: AlibabaError(EMULATOR_PREFIX + "RequestUriTooLong", 414),
    ErrorCode.MALFORMED_REQUEST: AlibabaError(EMULATOR_PREFIX + "MalformedRequest", 400),
    ErrorCode.INSTANCE_NOT_FOUND: AlibabaError("MqttInstanceNotFound", 400),
    ErrorCode.INSTANCE_ALREADY_EXISTS: PARAMETER,
    ErrorCode.INSTANCE_EDITION_NOT_SUPPORTED: AlibabaError(
        EMULATOR_PREFIX + "InstanceEditionNotSupported", 403
    ),
    ErrorCode.INPUT_TOO_LARGE: CERTIFICATE_CONTENT,
    ErrorCode.PRIVATE_KEY_REJECTED: CERTIFICATE_CONTENT,
    ErrorCode.CERTIFICATE_MISSING: CERTIFICATE_CONTENT,
    ErrorCode.CERTIFICATE_MALFORMED: CERTIFICATE_CONTENT,
    ErrorCode.CERTIFICATE_NOT_SINGLE: CERTIFICATE_CONTENT,
    ErrorCode.CHAIN_TOO_LONG: CERTIFICATE_CONTENT,
    ErrorCode.SERIAL_NOT_POSITIVE: CERTIFICATE_CONTENT,
    ErrorCode.CA_NOT_CERTIFICATE_AUTHORITY: CERTIFICATE_CONTENT,
    ErrorCode.CA_KEY_UNSUPPORTED: CERTIFICATE_CONTENT,
    ErrorCode.CA_EXPIRED: CERTIFICATE_CONTENT,
    ErrorCode.CA_NOT_YET_VALID: CERTIFICATE_CONTENT,
    ErrorCode.VERIFICATION_ISSUER_MISMATCH: CERTIFICATE_CONTENT,
    ErrorCode.VERIFICATION_SIGNATURE_INVALID: CERTIFICATE_CONTENT,
    ErrorCode.VERIFICATION_EXPIRED: CERTIFICATE_CONTENT,
    ErrorCode.VERIFICATION_NOT_YET_VALID: CERTIFICATE_CONTENT,
    ErrorCode.REGISTER_CODE_ERROR: AlibabaError("RegisterCodeError", 400),
    ErrorCode.REGISTER_CODE_USED: AlibabaError("RegisterCodeUsed", 401),
    ErrorCode.SN_NOT_UNIQUE: AlibabaError("SnNotUnique", 401),
    ErrorCode.CA_ALREADY_REGISTERED: AlibabaError("SnNotUnique", 401),
    ErrorCode.CA_NOT_FOUND: AlibabaError("FindCaBySnError", 400),
    ErrorCode.DEVICE_NOT_FOUND: AlibabaError("FindDeviceBySnError", 400),
    ErrorCode.CA_BINDING_INACTIVE: AlibabaError(EMULATOR_PREFIX + "CaCertificateInactive", 400),
    ErrorCode.DEVICE_REJECTED: CERTIFICATE_CONTENT,
}

# The documented messages; ours follow them with what to fix.
DOCUMENTED_MESSAGES: dict[str, str] = {
    "ParameterFieldCheckFailed": "Failed to validate the parameters. "
    "The parameters may be missing or invalid.",
    "MqttInstanceNotFound": "Specified instance is not found.",
    "FindCaBySnError": "Failed to find the CA by the SN. Please check sn is valid.",
    "FindDeviceBySnError": "Failed to find the device certificate by the SN.",
    "RegisterCodeError": "Register code error in verification certificate.",
    "RegisterCodeUsed": "Register code has been used.",
    "CertificateContentError": "Certificate content error, please check ca/verification "
    "certificate content.",
    "SnNotUnique": "Sn is not unique in global.",
    "InternalError": "An error occurred while processing your request. Try again later.",
    "InvalidAction.NotFound": "Specified api is not found, please check your url and method.",
}


# The services' messages name fields as the REST API does; an SDK caller knows them by the
# action's parameter names. Only the unambiguous snake_case names are rewritten.
SDK_PARAMETERS = {
    "instance_id": "MqttInstanceId",
    "ca_sn": "CaSn",
    "device_sn": "DeviceSn",
    "ca_certificate": "CaContent",
    "verification_certificate": "VerificationContent",
}
_REST_FIELD = re.compile(r"\b(" + "|".join(SDK_PARAMETERS) + r")\b")


def sdk_field_names(message: str) -> str:
    """``message`` with REST field names replaced by the SDK's parameter names."""
    return _REST_FIELD.sub(lambda match: SDK_PARAMETERS[match.group(1)], message)


# How an SDK caller makes the call that fixes an error (errors.Remedy): actions and their
# parameters, never REST paths.
REMEDIES: dict[Remedy, str] = {
    Remedy.LIST_INSTANCES: "List instances with ListInstances.",
    Remedy.GET_REGISTRATION_CODE: "Get a code with GetRegisterCode (MqttInstanceId="
    "{instance_id}) and put it as the CN of the verification CSR.",
    Remedy.LIST_CA_CERTIFICATES: "List them with ListCaCertificate (MqttInstanceId={instance_id}).",
    Remedy.CONNECT_DEVICE: "Devices register on their first successful TLS connect to the "
    "instance; list them with ListDeviceCertificate.",
}


def sdk_message(error: DomainError) -> str:
    """A domain error's message in the SDK's terms: its parameters, its actions."""
    return sdk_field_names(error.worded(REMEDIES))


def error_response(
    code: str, status: int, message: str, *, request_id: str, host: str
) -> JSONResponse:
    """The body the SDK turns into ClientException/ServerException fields."""
    documented = DOCUMENTED_MESSAGES.get(code)
    full = f"{documented} {message}" if documented and documented not in message else message
    return JSONResponse(
        {
            "RequestId": request_id,
            "HostId": host,
            "Code": code,
            "Message": full,
            "Recommend": f"http://{host}/docs#/alibaba",
        },
        status_code=status,
    )
