"""Certificates the benchmark makes for itself: P-256 CAs, verification and device certificates.

P-256 is the common choice for device fleets and the costlier one to verify (see the issue's
figures), so the hot-path numbers are not flattered by a cheap RSA issuer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NOW = datetime.now(UTC)
_BEFORE = NOW - timedelta(days=1)
_AFTER = NOW + timedelta(days=365)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mqtt-ca-registry bench"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def sn(cert: x509.Certificate) -> str:
    digits = format(cert.serial_number, "x")
    return digits if len(digits) % 2 == 0 else "0" + digits


@dataclass(frozen=True)
class Ca:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> str:
        return pem(self.cert)

    @property
    def sn(self) -> str:
        return sn(self.cert)

    def verification_pem(self, registration_code: str) -> str:
        """The proof of possession: a certificate whose CN is the code, signed by this CA."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(registration_code))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_BEFORE)
            .not_valid_after(_AFTER)
            .sign(self.key, hashes.SHA256())
        )
        return pem(cert)


def make_ca(cn: str) -> Ca:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_BEFORE)
        .not_valid_after(NOW + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Ca(cert, key)


class DeviceFactory:
    """Device certificates under one CA; one shared device key keeps generation fast."""

    def __init__(self, ca: Ca, prefix: str) -> None:
        self.ca = ca
        self.prefix = prefix
        self._key = ec.generate_private_key(ec.SECP256R1()).public_key()
        self._count = 0

    def issue(self) -> x509.Certificate:
        self._count += 1
        return (
            x509.CertificateBuilder()
            .subject_name(_name(f"{self.prefix}-{self._count}"))
            .issuer_name(self.ca.cert.subject)
            .public_key(self._key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(_BEFORE)
            .not_valid_after(_AFTER)
            .sign(self.ca.key, hashes.SHA256())
        )

    def many(self, count: int) -> Iterator[x509.Certificate]:
        for _ in range(count):
            yield self.issue()


def chain_body(cert: x509.Certificate) -> str:
    """The JSON body of POST .../authenticate for this device."""
    return json.dumps({"certificate_chain": pem(cert)})
