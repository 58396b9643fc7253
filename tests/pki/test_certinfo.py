"""What the registry records about a certificate."""

from __future__ import annotations

from datetime import UTC

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
from cryptography.x509.oid import NameOID

from mqtt_ca_registry.pki.certinfo import describe
from tests.pki.factory import dsa_key, make, rsa_key


@pytest.mark.parametrize(
    ("key", "algorithm", "size", "curve"),
    [
        pytest.param(
            lambda: ec.generate_private_key(ec.SECP256R1()), "EC", 256, "P-256", id="p256"
        ),
        pytest.param(
            lambda: ec.generate_private_key(ec.SECP384R1()), "EC", 384, "P-384", id="p384"
        ),
        pytest.param(
            lambda: ec.generate_private_key(ec.SECP521R1()), "EC", 521, "P-521", id="p521"
        ),
        pytest.param(
            lambda: ec.generate_private_key(ec.SECP256K1()), "EC", 256, "secp256k1", id="k1"
        ),
        pytest.param(lambda: rsa_key(2048), "RSA", 2048, None, id="rsa"),
        pytest.param(ed25519.Ed25519PrivateKey.generate, "Ed25519", 256, None, id="ed25519"),
        pytest.param(ed448.Ed448PrivateKey.generate, "Ed448", 456, None, id="ed448"),
        pytest.param(lambda: dsa_key(1024), "DSA", 1024, None, id="dsa"),
    ],
)
def test_key_description(key: object, algorithm: str, size: int, curve: str | None) -> None:
    info = describe(make("k", key=key()).cert, field="ca_certificate")  # type: ignore[operator]
    assert (info.key_algorithm, info.key_size, info.curve) == (algorithm, size, curve)


def test_names_fingerprint_dates_and_pem() -> None:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example, Inc."),
            x509.NameAttribute(NameOID.COMMON_NAME, "first"),
            x509.NameAttribute(NameOID.COMMON_NAME, "device-42"),
        ]
    )
    made = make(subject, serial=0xABC)
    info = describe(made.cert, field="device_certificate")
    assert info.sn == "0abc"
    assert info.fingerprint_sha256 == made.cert.fingerprint(hashes.SHA256()).hex()
    assert (
        len(info.fingerprint_sha256) == 64
        and info.fingerprint_sha256 == info.fingerprint_sha256.lower()
    )
    assert info.subject == "CN=device-42,CN=first,O=Example\\, Inc.,C=CN"
    assert info.issuer == info.subject
    assert info.common_name == "device-42"
    assert info.not_before.tzinfo is UTC and info.not_after > info.not_before
    assert info.pem == made.pem


def test_no_common_name() -> None:
    made = make(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "only org")]))
    assert describe(made.cert, field="x").common_name is None
