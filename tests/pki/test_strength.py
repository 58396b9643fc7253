"""OpenSSL's security-bit counting, repeated in Python (the agreement table checks the rest)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding

from mqtt_ca_registry.pki.strength import (
    ifc_ffc_security_bits,
    key_security_bits,
    min_bits,
    signature_security_bits,
)
from tests.pki.factory import dsa_key, make, rsa_key


@pytest.mark.parametrize(
    ("bits", "security"),
    [
        (1024, 80),
        (1962, 104),
        (1963, 112),
        (2048, 112),
        (2670, 120),
        (2671, 128),
        (3072, 128),
        (4096, 152),
        (7680, 192),
        (8192, 200),
        (15360, 256),
        (4, 0),
        (700000, 1200),
    ],
)
def test_rsa_security_bits(bits: int, security: int) -> None:
    assert ifc_ffc_security_bits(bits) == security


def test_rsa_security_bits_never_decrease() -> None:
    values = [ifc_ffc_security_bits(n) for n in range(512, 16400)]
    assert values == sorted(values)


@pytest.mark.parametrize(
    ("level", "bits"), [(-1, 0), (0, 0), (1, 80), (2, 112), (3, 128), (4, 192), (5, 256), (9, 256)]
)
def test_min_bits_per_level(level: int, bits: int) -> None:
    assert min_bits(level) == bits


@pytest.mark.parametrize(
    ("key", "security"),
    [
        pytest.param(lambda: ec.generate_private_key(ec.SECP192R1()), 80, id="secp192r1"),
        pytest.param(lambda: ec.generate_private_key(ec.SECP224R1()), 112, id="secp224r1"),
        pytest.param(lambda: ec.generate_private_key(ec.SECP256R1()), 128, id="p256"),
        pytest.param(lambda: ec.generate_private_key(ec.SECP384R1()), 192, id="p384"),
        pytest.param(lambda: ec.generate_private_key(ec.SECP521R1()), 256, id="p521"),
        pytest.param(ed25519.Ed25519PrivateKey.generate, 128, id="ed25519"),
        pytest.param(ed448.Ed448PrivateKey.generate, 224, id="ed448"),
        pytest.param(lambda: rsa_key(2048), 112, id="rsa2048"),
        pytest.param(lambda: dsa_key(1024), 80, id="dsa1024-160"),
        pytest.param(lambda: dsa_key(2048), 112, id="dsa2048-224"),
    ],
)
def test_key_security_bits(key: object, security: int) -> None:
    assert key_security_bits(make("k", key=key()).cert) == security  # type: ignore[operator]


@pytest.mark.parametrize(
    ("digest", "security"),  # MD5 (39) and SHA-1 (63): cryptography will not sign with them;
    # the agreement table covers them with OpenSSL-signed certificates.
    [
        (hashes.SHA224(), 112),
        (hashes.SHA256(), 128),
        (hashes.SHA384(), 192),
        (hashes.SHA512(), 256),
        (hashes.SHA3_256(), 128),
    ],
)
def test_signature_security_bits(digest: hashes.HashAlgorithm, security: int) -> None:
    issuer = make("issuer", key=rsa_key(2048))
    assert signature_security_bits(make("s", issuer=issuer, digest=digest).cert) == security


def test_eddsa_and_pss_signature_bits() -> None:
    assert signature_security_bits(make("e", key=ed25519.Ed25519PrivateKey.generate()).cert) == 128
    assert signature_security_bits(make("e", key=ed448.Ed448PrivateKey.generate()).cert) == 224
    from cryptography import x509

    from tests.pki.factory import NOW, cn

    key = rsa_key(2048)
    pss = (
        x509.CertificateBuilder()
        .subject_name(cn("pss"))
        .issuer_name(cn("pss"))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW)
        .not_valid_after(NOW.replace(year=NOW.year + 1))
        .sign(key, hashes.SHA256(), rsa_padding=padding.PSS(padding.MGF1(hashes.SHA256()), 32))
    )
    assert signature_security_bits(pss) == 128
