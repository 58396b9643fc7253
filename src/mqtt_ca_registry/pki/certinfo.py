"""What the registry records and shows about a certificate."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dh, dsa, ec, ed448, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from mqtt_ca_registry.errors import CertificateError, ErrorCode
from mqtt_ca_registry.pki.pem import der_to_pem
from mqtt_ca_registry.pki.serials import sn_of

#: NIST names for the curves users know by them; other curves keep OpenSSL's SECG name.
_NIST_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


@dataclass(frozen=True)
class CertificateInfo:
    """A certificate's identifying facts, ready to store or show."""

    sn: str
    fingerprint_sha256: str
    subject: str
    issuer: str
    common_name: str | None
    key_algorithm: str
    key_size: int
    curve: str | None
    not_before: datetime
    not_after: datetime
    pem: str


@dataclass(frozen=True)
class KeyFacts:
    """A public key's algorithm name, size in bits and curve (EC only)."""

    algorithm: str
    size: int
    curve: str | None


def curve_name(curve: ec.EllipticCurve) -> str:
    """``P-256``/``P-384``/``P-521`` for the NIST curves, else OpenSSL's name (``secp256k1``)."""
    return _NIST_CURVES.get(curve.name, curve.name)


def key_facts(cert: x509.Certificate) -> KeyFacts:
    """Describe the certificate's public key; unknown algorithms are named by their OID."""
    try:
        key = cert.public_key()
    except (UnsupportedAlgorithm, ValueError):
        return KeyFacts(f"unsupported ({cert.public_key_algorithm_oid.dotted_string})", 0, None)
    if isinstance(key, rsa.RSAPublicKey):
        return KeyFacts("RSA", key.key_size, None)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return KeyFacts("EC", key.curve.key_size, curve_name(key.curve))
    if isinstance(key, ed25519.Ed25519PublicKey):
        return KeyFacts("Ed25519", 256, None)
    if isinstance(key, ed448.Ed448PublicKey):
        return KeyFacts("Ed448", 456, None)
    if isinstance(key, dsa.DSAPublicKey):
        return KeyFacts("DSA", key.key_size, None)
    if isinstance(key, x25519.X25519PublicKey):
        return KeyFacts("X25519", 256, None)
    if isinstance(key, x448.X448PublicKey):
        return KeyFacts("X448", 448, None)
    if isinstance(key, dh.DHPublicKey):
        return KeyFacts("DH", key.key_size, None)
    return KeyFacts(type(key).__name__, 0, None)


def common_name(name: x509.Name) -> str | None:
    """The most specific (last) CN of ``name``, or None when it has none."""
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not values:
        return None
    value = values[-1].value
    return value if isinstance(value, str) else value.decode("utf-8", errors="replace")


def describe(cert: x509.Certificate, *, field: str) -> CertificateInfo:
    """Collect the facts the registry keeps about ``cert``.

    Raises :class:`CertificateError`: ``SERIAL_NOT_POSITIVE`` for a zero or negative serial,
    ``CERTIFICATE_MALFORMED`` when a name cannot be decoded (cryptography parses lazily, so a
    broken field only shows up here).
    """
    return describe_encoded(cert, cert.public_bytes(Encoding.DER), field=field)


def describe_encoded(cert: x509.Certificate, der: bytes, *, field: str) -> CertificateInfo:
    """:func:`describe` for a caller that already holds ``der``, ``cert``'s DER encoding.

    The fingerprint and the PEM text are made from ``der`` rather than from two more encodings
    of the certificate; the result is the same.
    """
    sn = sn_of(cert, field=field)
    try:
        subject = cert.subject.rfc4514_string()
        issuer = cert.issuer.rfc4514_string()
        cn = common_name(cert.subject)
    except ValueError:
        raise CertificateError(
            ErrorCode.CERTIFICATE_MALFORMED,
            f"The {field} has a subject or issuer name that cannot be decoded; reissue it "
            "with a plain distinguished name (e.g. -subj '/CN=device-001').",
            field=field,
        ) from None
    facts = key_facts(cert)
    return CertificateInfo(
        sn=sn,
        # What cert.fingerprint(SHA256()) hashes: the certificate's DER encoding.
        fingerprint_sha256=hashlib.sha256(der).hexdigest(),
        subject=subject,
        issuer=issuer,
        common_name=cn,
        key_algorithm=facts.algorithm,
        key_size=facts.size,
        curve=facts.curve,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        pem=der_to_pem(der),
    )
