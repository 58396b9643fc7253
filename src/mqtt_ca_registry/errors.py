"""Domain errors: protocol-neutral, each with a stable code and a message that says what to fix.

Front ends (REST, Alibaba OpenAPI) map :class:`ErrorCode` to their own wire form through one
table each; nothing here knows about HTTP. A message states the facts; where the fix is a call
to make, the error names it as a :class:`Remedy`, and each front end words that call in its own
terms (a REST path, an SDK action), from a table of its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    """Stable machine-readable codes, shared by every front end."""

    # Generic input problems.
    VALIDATION_FAILED = "ValidationFailed"
    INVALID_PARAMETER = "InvalidParameter"
    INVALID_CURSOR = "InvalidCursor"
    INVALID_SN = "InvalidSn"
    BODY_TOO_LARGE = "BodyTooLarge"
    UNAUTHORIZED = "Unauthorized"
    ROUTE_NOT_FOUND = "RouteNotFound"
    METHOD_NOT_ALLOWED = "MethodNotAllowed"
    INTERNAL_ERROR = "InternalError"
    DATABASE_UNAVAILABLE = "DatabaseUnavailable"
    # Requests the HTTP parser refuses before any route sees them.
    REQUEST_URI_TOO_LONG = "RequestUriTooLong"
    MALFORMED_REQUEST = "MalformedRequest"

    # Instances.
    INSTANCE_NOT_FOUND = "InstanceNotFound"
    INSTANCE_ALREADY_EXISTS = "InstanceAlreadyExists"
    INSTANCE_EDITION_NOT_SUPPORTED = "InstanceEditionNotSupported"

    # Certificate content (registration checks 2-8 and device input).
    INPUT_TOO_LARGE = "InputTooLarge"
    PRIVATE_KEY_REJECTED = "PrivateKeyRejected"
    CERTIFICATE_MISSING = "CertificateMissing"
    CERTIFICATE_MALFORMED = "CertificateMalformed"
    CERTIFICATE_NOT_SINGLE = "CertificateNotSingle"
    CHAIN_TOO_LONG = "ChainTooLong"
    SERIAL_NOT_POSITIVE = "SerialNotPositive"
    CA_NOT_CERTIFICATE_AUTHORITY = "CaBasicConstraintsMissing"
    CA_KEY_UNSUPPORTED = "CaKeyUnsupported"
    CA_EXPIRED = "CaExpired"
    CA_NOT_YET_VALID = "CaNotYetValid"
    VERIFICATION_ISSUER_MISMATCH = "VerificationIssuerMismatch"
    VERIFICATION_SIGNATURE_INVALID = "VerificationSignatureInvalid"
    VERIFICATION_EXPIRED = "VerificationExpired"
    VERIFICATION_NOT_YET_VALID = "VerificationNotYetValid"

    # Registration codes.
    REGISTER_CODE_ERROR = "RegisterCodeError"
    REGISTER_CODE_USED = "RegisterCodeUsed"

    # CA registry.
    SN_NOT_UNIQUE = "SnNotUnique"
    CA_ALREADY_REGISTERED = "CaAlreadyRegistered"
    CA_NOT_FOUND = "CaNotFound"

    # Devices.
    DEVICE_NOT_FOUND = "DeviceNotFound"
    CA_BINDING_INACTIVE = "CaBindingInactive"
    DEVICE_REJECTED = "DeviceRejected"


class Remedy(StrEnum):
    """A call that fixes the error, for the front end to name (with ``instance_id``)."""

    LIST_INSTANCES = "list_instances"
    GET_REGISTRATION_CODE = "get_registration_code"
    LIST_CA_CERTIFICATES = "list_ca_certificates"
    CONNECT_DEVICE = "connect_device"


@dataclass(frozen=True)
class FieldProblem:
    """One offending input field: where it is and what is wrong with it."""

    field: str
    message: str


@dataclass
class DomainError(Exception):
    """Base of every error a caller can cause. ``message`` is safe to show to the caller."""

    code: ErrorCode
    message: str
    field: str | None = None
    errors: Sequence[FieldProblem] = dataclasses.field(default_factory=tuple)
    remedy: Remedy | None = None
    remedy_args: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def worded(self, remedies: Mapping[Remedy, str]) -> str:
        """The message followed by its remedy, worded from a front end's ``remedies`` table."""
        if self.remedy is None:
            return self.message
        return f"{self.message} {remedies[self.remedy].format(**self.remedy_args)}"


class InvalidInputError(DomainError):
    """The request is malformed or out of limits."""


class CertificateError(InvalidInputError):
    """A certificate (CA, verification or device) failed a content check."""


class NotFoundError(DomainError):
    """The named thing does not exist."""


class ConflictError(DomainError):
    """The request collides with the registry's current state."""


class ForbiddenError(DomainError):
    """The operation is not allowed on this thing (e.g. the instance's edition)."""


class UnauthorizedError(DomainError):
    """Missing or wrong credentials."""


class UnavailableError(DomainError):
    """A dependency (the database) cannot be reached; the caller may retry."""
