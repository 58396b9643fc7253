"""Registering a CA: the certificate checks 3-8 of docs/rules.md "Registering a CA".

Items 1-2 (instance, ``CaName``) and 9-10 (registration code, serial uniqueness) need the
database and live in the service. The checks run in the documented order and stop at the first
failure, each with its own :class:`ErrorCode` and a message that says what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mqtt_ca_registry.errors import CertificateError, ErrorCode
from mqtt_ca_registry.pki.certinfo import CertificateInfo, describe, key_facts
from mqtt_ca_registry.pki.pem import (
    check_no_private_key,
    check_text_limits,
    load_single_certificate,
)

CA_FIELD = "ca_certificate"
VERIFICATION_FIELD = "verification_certificate"

MIN_RSA_BITS = 2048
MAX_RSA_BITS = 8192
ALLOWED_CURVES = ("secp256r1", "secp384r1", "secp521r1")

_ACCEPTED_KEYS = (
    "accepted CA keys are RSA of 2048 to 8192 bits or EC on P-256, P-384 or P-521; create one "
    "with `openssl genrsa -out CA.key 2048` or `openssl ecparam -genkey -name prime256v1 -out "
    "CA.key`"
)
_POSSESSION = (
    "Proof of possession failed: the verification certificate was not signed by this CA's "
    "private key; sign it with -CA CA.crt -CAkey CA.key."
)


@dataclass(frozen=True)
class RegistrationEvidence:
    """What the certificate checks established; the service matches the code and stores it."""

    ca: CertificateInfo
    verification: CertificateInfo
    registration_code: str | None


def _fail(code: ErrorCode, field: str, message: str) -> CertificateError:
    return CertificateError(code, message, field=field)


def _utc(moment: datetime) -> datetime:
    # A naive datetime is taken as UTC, the convention of cryptography's *_utc properties.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _stamp(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_registration(
    ca_text: str, verification_text: str, *, now: datetime, max_pem_bytes: int
) -> RegistrationEvidence:
    """Run registration checks 3-8 on the two PEM texts at time ``now`` (aware UTC).

    Returns the described CA and verification certificates and the verification certificate's
    subject CN (the registration code, or None when it has no CN). Raises
    :class:`CertificateError` for the first failed check.
    """
    now = _utc(now)
    # Item 2's presence and size limits, then item 3 on BOTH inputs before parsing either:
    # a key pasted in the second field must not be missed because the first one fails to parse.
    for text, field in ((ca_text, CA_FIELD), (verification_text, VERIFICATION_FIELD)):
        check_text_limits(text, field=field, max_bytes=max_pem_bytes)
    for text, field in ((ca_text, CA_FIELD), (verification_text, VERIFICATION_FIELD)):
        check_no_private_key(text, field=field)

    ca = load_single_certificate(ca_text, field=CA_FIELD, max_bytes=max_pem_bytes)  # item 4
    _check_basic_constraints(ca)  # item 5
    _check_ca_key(ca)  # item 6
    _check_validity(ca, now, CA_FIELD, ErrorCode.CA_NOT_YET_VALID, ErrorCode.CA_EXPIRED)  # 7
    ca_info = describe(ca, field=CA_FIELD)  # raises SERIAL_NOT_POSITIVE (item 7)

    verification = load_single_certificate(  # item 8
        verification_text, field=VERIFICATION_FIELD, max_bytes=max_pem_bytes
    )
    _check_issued_by(verification, ca)
    _check_validity(
        verification,
        now,
        VERIFICATION_FIELD,
        ErrorCode.VERIFICATION_NOT_YET_VALID,
        ErrorCode.VERIFICATION_EXPIRED,
    )
    verification_info = describe(verification, field=VERIFICATION_FIELD)
    return RegistrationEvidence(ca_info, verification_info, verification_info.common_name)


def _check_basic_constraints(ca: x509.Certificate) -> None:
    try:
        constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        raise _fail(
            ErrorCode.CA_NOT_CERTIFICATE_AUTHORITY,
            CA_FIELD,
            "The CA certificate has no basicConstraints CA:TRUE (BasicConstraints extension "
            "should be set to true in CA certificate); create it with `-extensions v3_ca`.",
        ) from None
    except Exception:
        # cryptography decodes extensions lazily and reports a broken or duplicated one through
        # several exception types (ValueError, DuplicateExtension, ...); all mean "malformed".
        raise _fail(
            ErrorCode.CERTIFICATE_MALFORMED,
            CA_FIELD,
            "The CA certificate has extensions that cannot be decoded (or one appears twice); "
            "expected a well-formed X.509 v3 CA certificate created with `-extensions v3_ca`.",
        ) from None
    if not constraints.ca:
        raise _fail(
            ErrorCode.CA_NOT_CERTIFICATE_AUTHORITY,
            CA_FIELD,
            "The CA certificate has basicConstraints CA:FALSE (BasicConstraints extension "
            "should be set to true in CA certificate): it is an end-entity certificate. "
            "Register the CA that issued it, or create a CA certificate with `-extensions v3_ca`.",
        )


def _check_ca_key(ca: x509.Certificate) -> None:
    # Only the public key's size is read here, so an oversized RSA key is refused before any
    # signature work is spent on it.
    try:
        key = ca.public_key()
    except (UnsupportedAlgorithm, ValueError):
        key = None
    if isinstance(key, rsa.RSAPublicKey) and MIN_RSA_BITS <= key.key_size <= MAX_RSA_BITS:
        return
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in ALLOWED_CURVES:
        return
    facts = key_facts(ca)
    found = f"{facts.algorithm} {facts.size}-bit" if facts.size else facts.algorithm
    if facts.curve is not None:
        found = f"EC on curve {facts.curve}"
    raise _fail(
        ErrorCode.CA_KEY_UNSUPPORTED,
        CA_FIELD,
        f"The CA certificate's key is {found}; {_ACCEPTED_KEYS}.",
    )


def _check_validity(
    cert: x509.Certificate,
    now: datetime,
    field: str,
    not_yet_code: ErrorCode,
    expired_code: ErrorCode,
) -> None:
    what = "CA certificate" if field == CA_FIELD else "verification certificate"
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    window = f"valid from {_stamp(not_before)} to {_stamp(not_after)}, now is {_stamp(now)}"
    # Both ends inclusive, as RFC 5280 section 4.1.2.5 defines the validity period.
    if now < not_before:
        raise _fail(
            not_yet_code,
            field,
            f"The {what} is not yet valid ({window}); wait until it starts, or reissue it "
            "with a start date in the past (check the signing machine's clock).",
        )
    if now > not_after:
        raise _fail(
            expired_code,
            field,
            f"The {what} has expired ({window}); issue a new one (e.g. `-days 3650` for a "
            "CA, `-days 300` for a verification certificate).",
        )


def _check_issued_by(verification: x509.Certificate, ca: x509.Certificate) -> None:
    try:
        issuer, subject = verification.issuer, ca.subject
        mismatch = issuer != subject
        shown = (issuer.rfc4514_string(), subject.rfc4514_string()) if mismatch else ("", "")
    except ValueError:  # a name cryptography cannot decode (it parses names lazily)
        raise _fail(
            ErrorCode.CERTIFICATE_MALFORMED,
            VERIFICATION_FIELD,
            "The verification certificate's issuer name cannot be decoded; create it again with "
            "the product documentation's `openssl x509 -req ... -CA CA.crt -CAkey CA.key` command.",
        ) from None
    if mismatch:
        raise _fail(
            ErrorCode.VERIFICATION_ISSUER_MISMATCH,
            VERIFICATION_FIELD,
            f"The verification certificate's issuer is '{shown[0]}' but the CA certificate's "
            f"subject is '{shown[1]}'; create the verification certificate with `openssl x509 "
            "-req -in verificationCert.csr -CA CA.crt -CAkey CA.key -CAcreateserial -out "
            "verificationCert.crt -days 300 -sha512` using this CA.",
        )
    try:
        # cryptography checks the signature with the CA's public key; it also re-checks the
        # issuer name (done above, with a better message) and the key/algorithm pairing.
        verification.verify_directly_issued_by(ca)
    except (InvalidSignature, TypeError, ValueError, UnsupportedAlgorithm):
        raise _fail(
            ErrorCode.VERIFICATION_SIGNATURE_INVALID,
            VERIFICATION_FIELD,
            _POSSESSION,
        ) from None
