"""Certificates made with `cryptography` for HTTP-level tests (fast P-256 keys by default)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: PrivateKey

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL
            if not isinstance(self.key, ed25519.Ed25519PrivateKey)
            else serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    @property
    def sn(self) -> str:
        digits = format(self.cert.serial_number, "x")
        return digits if len(digits) % 2 == 0 else "0" + digits


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@lru_cache(maxsize=8)
def rsa_key(bits: int = 2048, slot: int = 0) -> rsa.RSAPrivateKey:
    """RSA keys are slow to make: one per (size, slot) per test process."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def name(cn: str, org: str = "mqtt-ca-registry tests") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _sign_hash(key: PrivateKey) -> hashes.HashAlgorithm | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def make_ca(
    cn: str = "Test Root CA",
    *,
    key: PrivateKey | None = None,
    serial: int | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    basic_constraints: bool | None = True,
    issuer: Issued | None = None,
    subject: x509.Name | None = None,
) -> Issued:
    """A CA (self-signed unless ``issuer``); basic_constraints None omits the extension."""
    key = key or ec_key()
    subject = subject or name(cn)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(not_before or NOW - timedelta(days=1))
        .not_valid_after(not_after or NOW + timedelta(days=3650))
    )
    if basic_constraints is not None:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=basic_constraints, path_length=None), critical=True
        )
    signer = issuer.key if issuer else key
    return Issued(builder.sign(signer, _sign_hash(signer)), key)


def make_leaf(
    issuer: Issued,
    cn: str,
    *,
    key: PrivateKey | None = None,
    serial: int | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    client_auth: bool | None = None,
    issuer_name: x509.Name | None = None,
) -> Issued:
    """An end-entity certificate (also a verification certificate: CN = registration code)."""
    key = key or ec_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(cn))
        .issuer_name(issuer_name or issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(not_before or NOW - timedelta(days=1))
        .not_valid_after(not_after or NOW + timedelta(days=300))
    )
    if client_auth is not None:
        usage = [
            ExtendedKeyUsageOID.CLIENT_AUTH if client_auth else ExtendedKeyUsageOID.SERVER_AUTH
        ]
        builder = builder.add_extension(x509.ExtendedKeyUsage(usage), critical=False)
    return Issued(builder.sign(issuer.key, _sign_hash(issuer.key)), key)
