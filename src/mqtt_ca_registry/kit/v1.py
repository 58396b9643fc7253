"""X.509 v1 certificates, as ``openssl x509 -req`` makes them without an extfile.

cryptography's CertificateBuilder only writes v3, so the TBSCertificate of a v1 certificate
(RFC 5280 4.1, without the version field and without extensions) is encoded here and signed
with the issuer's key. Every field but the version comes from cryptography's own encoders
(names, public key), so only the outer structure is written by hand.
"""

from __future__ import annotations

import base64
from datetime import datetime
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

IssuerKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

# AlgorithmIdentifier OIDs (RFC 4055 for RSA, RFC 5758 for ECDSA), by digest name.
_RSA_OIDS = {
    "sha256": "1.2.840.113549.1.1.11",
    "sha384": "1.2.840.113549.1.1.12",
    "sha512": "1.2.840.113549.1.1.13",
}
_ECDSA_OIDS = {
    "sha256": "1.2.840.10045.4.3.2",
    "sha384": "1.2.840.10045.4.3.3",
    "sha512": "1.2.840.10045.4.3.4",
}
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_NULL = b"\x05\x00"


def _tlv(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes((tag, length)) + content
    size = (length.bit_length() + 7) // 8
    return bytes((tag, 0x80 | size)) + length.to_bytes(size, "big") + content


def _integer(value: int) -> bytes:
    # Positive only: one extra byte keeps the sign bit clear.
    return _tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


@lru_cache(maxsize=16)
def _oid(dotted: str) -> bytes:
    first, second, *rest = (int(p) for p in dotted.split("."))
    body = bytearray([first * 40 + second])
    for arc in rest:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return _tlv(0x06, bytes(body))


@lru_cache(maxsize=64)  # a fleet's certificates share a few start and end seconds
def _time(moment: datetime) -> bytes:
    # RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
    if moment.year < 2050:
        return _tlv(0x17, moment.strftime("%y%m%d%H%M%SZ").encode())
    return _tlv(0x18, moment.strftime("%Y%m%d%H%M%SZ").encode())


@lru_cache(maxsize=16)
def _name(name: x509.Name) -> bytes:
    return name.public_bytes()


def signature_algorithm(issuer_key: IssuerKey, digest: str) -> bytes:
    """The DER AlgorithmIdentifier for a signature by ``issuer_key`` over ``digest``."""
    if isinstance(issuer_key, rsa.RSAPrivateKey):
        return _tlv(0x30, _oid(_RSA_OIDS[digest]) + _NULL)
    return _tlv(0x30, _oid(_ECDSA_OIDS[digest]))


def sign_v1(
    *,
    subject: x509.Name,
    issuer: x509.Name,
    public_key_der: bytes,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    issuer_key: IssuerKey,
    digest: str = "sha256",
) -> bytes:
    """A DER X.509 v1 certificate (UTC datetimes; ``public_key_der`` is the SPKI)."""
    algorithm = signature_algorithm(issuer_key, digest)
    tbs = _tlv(
        0x30,
        _integer(serial)
        + algorithm
        + _name(issuer)
        + _tlv(0x30, _time(not_before) + _time(not_after))
        + subject.public_bytes()
        + public_key_der,
    )
    hash_algorithm = _HASHES[digest]()
    if isinstance(issuer_key, rsa.RSAPrivateKey):
        signature = issuer_key.sign(tbs, padding.PKCS1v15(), hash_algorithm)
    else:
        signature = issuer_key.sign(tbs, ec.ECDSA(hash_algorithm))
    return _tlv(0x30, tbs + algorithm + _tlv(0x03, b"\x00" + signature))


def spki_der(public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey) -> bytes:
    """The SubjectPublicKeyInfo DER of a public key."""
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def pem(der: bytes, label: str = "CERTIFICATE") -> bytes:
    """PEM armour with 64-column lines, as OpenSSL writes it."""
    text = base64.b64encode(der)
    lines = b"\n".join(text[i : i + 64] for i in range(0, len(text), 64))
    return b"-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label.encode(), lines, label.encode())
