"""Why a device chain is refused: one reason enum, and OpenSSL's verify errors mapped onto it.

OpenSSL reports a failure as an ``X509_V_ERR_*`` number, a depth and the certificate at fault.
:func:`openssl_rejection` turns that into a :class:`RejectReason` and a sentence that names the
certificate and says what to fix. The numbers are OpenSSL's stable ABI (x509_vfy.h), identical
in OpenSSL 3.0 and 4.0 for every code used here.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

from cryptography import x509


class RejectReason(StrEnum):
    """Machine-readable reason a device chain is refused by its certificates alone (the
    registry's own reasons, such as an inactive CA, are the service's ConnectReason)."""

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


class Phase(IntEnum):
    """Where in ``X509_verify_cert`` an error arises; earlier phases are reported first."""

    build = 1  # build_chain: finding issuers up to a trust anchor
    extensions = 2  # check_extensions: CA flags, critical extensions, path length (+ purpose)
    late = 3  # after the security-level checks: signatures, validity times, name constraints


# X509_V_ERR_* -> (reason, phase, what to do). Codes missing here map to "other".
_FIX_ISSUER = (
    "register the issuing CA on this instance (and keep it active), or send the intermediate "
    "CA certificates after the device certificate"
)
_OPENSSL: dict[int, tuple[RejectReason, Phase, str]] = {
    2: (RejectReason.unknown_issuer, Phase.build, _FIX_ISSUER),
    18: (RejectReason.unknown_issuer, Phase.build, "use a certificate issued by a registered CA"),
    19: (RejectReason.unknown_issuer, Phase.build, "register that root CA, or use one that is"),
    20: (RejectReason.unknown_issuer, Phase.build, _FIX_ISSUER),
    21: (RejectReason.unknown_issuer, Phase.build, _FIX_ISSUER),
    22: (RejectReason.chain_too_long, Phase.build, "send a shorter chain"),
    27: (RejectReason.unknown_issuer, Phase.build, _FIX_ISSUER),
    28: (RejectReason.unknown_issuer, Phase.build, _FIX_ISSUER),
    55: (RejectReason.chain_too_long, Phase.build, "remove the loop from the chain"),
    24: (RejectReason.malformed, Phase.extensions, "reissue the issuing CA with a public key"),
    # 26, 66-68 come from the purpose and level checks pyOpenSSL does not run (we do); they are
    # listed so that `openssl verify`'s numbers map onto the same reasons.
    26: (RejectReason.purpose, Phase.extensions, "reissue it for TLS client authentication"),
    66: (RejectReason.weak_key, Phase.build, "reissue it with a stronger key"),
    67: (RejectReason.weak_key, Phase.extensions, "reissue the CA with a stronger key"),
    68: (RejectReason.weak_digest, Phase.extensions, "reissue it signed with SHA-256 or better"),
    25: (
        RejectReason.path_length_exceeded,
        Phase.extensions,
        "the chain is deeper than that CA's pathlen allows; issue from a CA higher up",
    ),
    34: (
        RejectReason.unsupported_extension,
        Phase.extensions,
        "reissue it without the unknown critical extension (or mark it non-critical)",
    ),
    37: (RejectReason.invalid_ca, Phase.extensions, "reissue it without CA markings"),
    38: (RejectReason.unsupported_extension, Phase.extensions, "proxy certificates are not used"),
    40: (RejectReason.unsupported_extension, Phase.extensions, "proxy certificates are not used"),
    79: (
        RejectReason.invalid_ca,
        Phase.extensions,
        "an issuing certificate needs basicConstraints CA:TRUE (create it with "
        "`-extensions v3_ca`)",
    ),
    94: (
        RejectReason.malformed,
        Phase.extensions,
        "use a named curve (e.g. prime256v1) instead of explicit EC parameters",
    ),
    4: (RejectReason.bad_signature, Phase.late, "reissue it from the CA it names as issuer"),
    6: (RejectReason.bad_signature, Phase.late, "the issuer's public key cannot be decoded"),
    7: (
        RejectReason.bad_signature,
        Phase.late,
        "it was not signed by the CA it names as issuer; reissue it from that CA",
    ),
    9: (
        RejectReason.not_yet_valid,
        Phase.late,
        "wait until it starts, or reissue it with a start date in the past",
    ),
    10: (RejectReason.expired, Phase.late, "issue a new certificate"),
    13: (RejectReason.malformed, Phase.late, "its notBefore date cannot be read; reissue it"),
    14: (RejectReason.malformed, Phase.late, "its notAfter date cannot be read; reissue it"),
    32: (
        RejectReason.invalid_ca,
        Phase.late,
        "the issuing CA's keyUsage must include keyCertSign; reissue the CA",
    ),
    41: (RejectReason.malformed, Phase.late, "reissue it with well-formed extensions"),
    42: (RejectReason.malformed, Phase.late, "reissue it with a well-formed policy extension"),
    76: (RejectReason.bad_signature, Phase.late, "sign it with RSA, ECDSA or EdDSA"),
    77: (
        RejectReason.bad_signature,
        Phase.late,
        "its signature algorithm does not match the issuer's key type",
    ),
    78: (RejectReason.malformed, Phase.late, "its two signature algorithm fields disagree"),
}
for _code in (47, 48, 49, 51, 52, 53):
    _OPENSSL[_code] = (
        RejectReason.name_constraints,
        Phase.late,
        "its names are outside what the issuing CA's nameConstraints allow",
    )

TIME_ERRORS = frozenset({9, 10})


def reason_for_code(code: int) -> RejectReason:
    """The reason an OpenSSL ``X509_V_ERR_*`` number maps to (unknown codes: ``other``)."""
    return _OPENSSL.get(code, (RejectReason.other, Phase.late, ""))[0]


def phase_of(code: int) -> Phase:
    """The verification phase an OpenSSL error number belongs to (unknown codes: ``late``)."""
    return _OPENSSL.get(code, (RejectReason.other, Phase.late, ""))[1]


def subject_of(cert: x509.Certificate) -> str:
    """A certificate's subject for messages; never raises."""
    try:
        return cert.subject.rfc4514_string() or "(empty subject)"
    except Exception:
        return "(undecodable subject)"


def issuer_of(cert: x509.Certificate) -> str:
    """A certificate's issuer name for messages; never raises."""
    try:
        return cert.issuer.rfc4514_string() or "(empty issuer)"
    except Exception:
        return "(undecodable issuer)"


def role(depth: int, *, is_anchor: bool) -> str:
    """How a message refers to the certificate at ``depth``."""
    if depth == 0:
        return "device certificate"
    return "registered CA certificate" if is_anchor else "intermediate CA certificate"


def openssl_rejection(
    code: int, openssl_message: str, cert: x509.Certificate | None, depth: int, *, is_anchor: bool
) -> tuple[RejectReason, str]:
    """Reason and human sentence for OpenSSL's verify error ``code`` on ``cert`` at ``depth``."""
    reason, _phase, fix = _OPENSSL.get(code, (RejectReason.other, Phase.late, ""))
    who = role(depth, is_anchor=is_anchor)
    name = subject_of(cert) if cert is not None else "(unknown)"
    detail = openssl_message
    if cert is not None and code in TIME_ERRORS:
        start = cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
        end = cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
        detail = f"{openssl_message}: valid from {start} to {end}"
    elif code in (2, 20, 21) and cert is not None:
        detail = f"{openssl_message}: its issuer '{issuer_of(cert)}' is unknown"
    sentence = f"The {who} '{name}' was refused ({detail})"
    return reason, f"{sentence}; {fix}." if fix else f"{sentence}."
