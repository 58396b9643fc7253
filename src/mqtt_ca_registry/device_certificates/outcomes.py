"""What a connect attempt comes to, in the registry's own terms (no wire form here).

Each front end maps these to its wire form through one table of its own: the REST API sends
:class:`ConnectReason`'s values as ``reason_code``; explicit registration's outcome is a
:class:`Registration` or a :class:`DomainError` (problem details, Alibaba codes); the MQTT
gateway's CONNACK codes will be one more table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mqtt_ca_registry.device_certificates.repository import DeviceRow
from mqtt_ca_registry.errors import ConflictError, ErrorCode, InvalidInputError
from mqtt_ca_registry.pki.certinfo import CertificateInfo
from mqtt_ca_registry.pki.chain import RejectReason

CHAIN_FIELD = "certificate_chain"


class ConnectReason(StrEnum):
    """Why a connect attempt is accepted or refused. The values are the REST ``reason_code``s
    (a contract: clients match on them)."""

    accepted = "accepted"
    auto_registered = "auto_registered"
    # The certificates themselves (pki's RejectReason, the same values).
    expired = "expired"
    not_yet_valid = "not_yet_valid"
    bad_signature = "bad_signature"
    unknown_issuer = "unknown_issuer"
    purpose = "purpose"
    weak_key = "weak_key"
    weak_digest = "weak_digest"
    invalid_ca = "invalid_ca"
    path_length_exceeded = "path_length_exceeded"
    name_constraints = "name_constraints"
    unsupported_extension = "unsupported_extension"
    chain_too_long = "chain_too_long"
    malformed = "malformed"
    other = "other"
    # The registry: the chain is good, but the CA or the device may not connect.
    ca_inactive = "ca_inactive"
    device_inactive = "device_inactive"
    serial_conflict = "serial_conflict"

    @classmethod
    def of(cls, reason: RejectReason) -> ConnectReason:
        """The connect reason of a chain refused by pki."""
        return cls(reason.value)


@dataclass(frozen=True)
class AuthOutcome:
    """A connect decision, and the device record it concerns (if any)."""

    accepted: bool
    reason: ConnectReason
    message: str  # says what happened and, on a refusal, what to fix
    auto_registered: bool
    device: DeviceRow | None
    ca_sn: str | None
    leaf: CertificateInfo | None = None


@dataclass(frozen=True)
class Registration:
    """An explicit registration's result: the device, and whether this call created it."""

    device: DeviceRow
    created: bool


# Why an explicit registration is refused, when it is not for its certificates.
_REFUSALS: dict[ConnectReason, ErrorCode] = {
    ConnectReason.serial_conflict: ErrorCode.SN_NOT_UNIQUE,
    ConnectReason.ca_inactive: ErrorCode.CA_BINDING_INACTIVE,
}


def registration_of(outcome: AuthOutcome) -> Registration:
    """An explicit registration's result from the connect decision it makes (same checks).

    Registered now, or already (its status left as it is); otherwise the domain error: a
    serial taken by another certificate or an inactive CA are conflicts, any other refusal is
    the device's certificates (DEVICE_REJECTED, with the reason code in the message).
    """
    device = outcome.device
    if device is not None and outcome.reason is ConnectReason.auto_registered:
        return Registration(device, created=True)
    if device is not None and outcome.reason in (
        ConnectReason.accepted,
        ConnectReason.device_inactive,
    ):
        return Registration(device, created=False)
    code = _REFUSALS.get(outcome.reason)
    if code is not None:
        raise ConflictError(code, outcome.message, field=CHAIN_FIELD)
    raise InvalidInputError(
        ErrorCode.DEVICE_REJECTED,
        f"{outcome.message} (reason_code {outcome.reason.value})",
        field=CHAIN_FIELD,
    )
