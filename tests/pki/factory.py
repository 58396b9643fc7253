"""Certificates built with `cryptography` for the pki tests: fast P-256 keys, cached RSA keys.

Nothing here is checked in: every key is generated when the tests run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

PrivateKey = (
    ec.EllipticCurvePrivateKey
    | rsa.RSAPrivateKey
    | ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
    | dsa.DSAPrivateKey
)
NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class Made:
    """A certificate and the key it certifies."""

    cert: x509.Certificate
    key: PrivateKey

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def p256() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@lru_cache(maxsize=16)
def rsa_key(bits: int = 2048, slot: int = 0) -> rsa.RSAPrivateKey:
    """RSA keys are slow to make: one per (size, slot) per test process."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@lru_cache(maxsize=4)
def dsa_key(bits: int = 2048) -> dsa.DSAPrivateKey:
    return dsa.generate_private_key(key_size=bits)


def cn(value: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, value)])


def _digest(signer: PrivateKey, digest: hashes.HashAlgorithm | None) -> hashes.HashAlgorithm | None:
    if isinstance(signer, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return None
    return digest or hashes.SHA256()


def make(
    subject: str | x509.Name,
    *,
    issuer: Made | None = None,
    key: PrivateKey | None = None,
    public_key: object | None = None,
    serial: int = 0x1001,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    ca: bool | None = None,
    path_length: int | None = None,
    key_usage: x509.KeyUsage | None = None,
    eku: Sequence[x509.ObjectIdentifier] | None = None,
    extra: Sequence[tuple[x509.ExtensionType, bool]] = (),
    digest: hashes.HashAlgorithm | None = None,
    issuer_name: x509.Name | None = None,
) -> Made:
    """One certificate; self-signed unless ``issuer``. ``ca=None`` omits basicConstraints."""
    key = key or p256()
    name = subject if isinstance(subject, x509.Name) else cn(subject)
    signer = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name or (issuer.cert.subject if issuer else name))
        .public_key(public_key or key.public_key())  # type: ignore[arg-type]
        .serial_number(serial)
        .not_valid_before(not_before or NOW - timedelta(days=1))
        .not_valid_after(not_after or NOW + timedelta(days=365))
    )
    if ca is not None:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=ca, path_length=path_length), critical=True
        )
    if key_usage is not None:
        builder = builder.add_extension(key_usage, critical=True)
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    for extension, critical in extra:
        builder = builder.add_extension(extension, critical=critical)
    return Made(builder.sign(signer, _digest(signer, digest)), key)


def key_usage(**enabled: bool) -> x509.KeyUsage:
    """A KeyUsage with only the named bits set, e.g. ``key_usage(digital_signature=True)``."""
    bits = {
        name: False
        for name in (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        )
    }
    bits.update(enabled)
    return x509.KeyUsage(**bits)


def pem_private_key(key: PrivateKey, fmt: serialization.PrivateFormat) -> str:
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode(
        "ascii"
    )
