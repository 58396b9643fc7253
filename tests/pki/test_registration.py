"""Registration checks 3-8 (docs/rules.md "Registering a CA"), in order, each with its own code."""

from __future__ import annotations

import contextlib
import secrets
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import PrivateFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from mqtt_ca_registry.errors import CertificateError, DomainError, ErrorCode
from mqtt_ca_registry.pki.registration import check_registration
from tests.pki.factory import (
    NOW,
    SECOND,
    Made,
    cn,
    dsa_key,
    make,
    p256,
    pem_private_key,
    rsa_key,
)
from tests.pki.openssl_seed import make_seed_ca, make_seed_verification

LIMIT = 64 * 1024
CODE = "i29adsjfp29jfj92jlajsdf0001"
CA_START = NOW - timedelta(days=30)
CA_END = NOW + timedelta(days=3650)
VER_START = NOW - timedelta(days=1)
VER_END = NOW + timedelta(days=300)


def _ca(key: object = None, **kwargs: object) -> Made:
    options: dict[str, object] = {"ca": True, "not_before": CA_START, "not_after": CA_END}
    options.update(kwargs)
    return make("Registry Test CA", key=key or p256(), serial=0x0ABC, **options)  # type: ignore[arg-type]


def _verification(ca: Made, code: str | None = CODE, **kwargs: object) -> Made:
    options: dict[str, object] = {"not_before": VER_START, "not_after": VER_END}
    options.update(kwargs)
    subject = cn(code) if code is not None else x509.Name([])
    return make(subject, issuer=ca, serial=0x77, **options)  # type: ignore[arg-type]


def _fake_rsa_public_key(bits: int) -> rsa.RSAPublicKey:
    """An RSA public key of any size without the cost of generating primes (never used to
    sign): step 6 must refuse oversized keys from the size alone."""
    modulus = secrets.randbits(bits) | (1 << (bits - 1)) | 1
    return rsa.RSAPublicNumbers(65537, modulus).public_key()


def _foreign_key_ca(public_key: object, signer: Made | None = None) -> Made:
    """A 'self-named' CA certificate carrying ``public_key``, signed by another key."""
    signer = signer or make("Registry Test CA", key=p256())
    return make(
        "Registry Test CA",
        issuer=signer,
        key=signer.key,
        public_key=public_key,
        ca=True,
        serial=0x0ABC,
        not_before=CA_START,
        not_after=CA_END,
    )


@dataclass(frozen=True)
class Case:
    ca_text: str
    verification_text: str
    now: datetime = NOW


def _pair(ca: Made, verification: Made | None = None) -> Case:
    return Case(ca.pem, (verification or _verification(ca)).pem)


# -- accepted --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["rsa", "ecc"], ids=["ok/seed-rsa", "ok/seed-ecc"])
def test_seed_openssl_flow_registers(tmp_path: Path, openssl_cli: None, kind: str) -> None:
    ca = make_seed_ca(tmp_path, kind)  # type: ignore[arg-type]
    verification = make_seed_verification(tmp_path, ca, CODE)
    evidence = check_registration(
        ca.pem, verification.read_text(), now=datetime.now(UTC), max_pem_bytes=LIMIT
    )
    assert evidence.registration_code == CODE
    serial = (
        subprocess.run(
            ["openssl", "x509", "-in", str(ca.cert), "-noout", "-serial"],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .removeprefix("serial=")
    )
    assert evidence.ca.sn == serial.lower()
    fingerprint = (
        subprocess.run(
            ["openssl", "x509", "-in", str(ca.cert), "-noout", "-fingerprint", "-sha256"],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .split("=", 1)[1]
    )
    assert evidence.ca.fingerprint_sha256 == fingerprint.replace(":", "").lower()
    assert evidence.ca.key_algorithm == ("RSA" if kind == "rsa" else "EC")
    assert evidence.ca.curve == (None if kind == "rsa" else "P-256")
    assert evidence.verification.common_name == CODE
    assert "CN=Example IoT Root CA" in evidence.ca.subject


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: _pair(_ca()), id="ok/p256"),
        pytest.param(lambda: _pair(_ca(ec.generate_private_key(ec.SECP384R1()))), id="ok/p384"),
        pytest.param(lambda: _pair(_ca(ec.generate_private_key(ec.SECP521R1()))), id="ok/p521"),
        pytest.param(lambda: _pair(_ca(rsa_key(2048))), id="ok/rsa-2048"),
    ],
)
def test_valid_registrations(build: Callable[[], Case]) -> None:
    case = build()
    evidence = check_registration(
        case.ca_text, case.verification_text, now=case.now, max_pem_bytes=LIMIT
    )
    assert evidence.registration_code == CODE
    assert evidence.ca.sn == "0abc"


def test_evidence_describes_both_certificates() -> None:
    ca = _ca()
    evidence = check_registration(ca.pem, _verification(ca).pem, now=NOW, max_pem_bytes=LIMIT)
    assert evidence.ca.not_before == CA_START and evidence.ca.not_after == CA_END
    assert evidence.ca.key_algorithm == "EC" and evidence.ca.key_size == 256
    assert evidence.ca.pem == ca.pem
    assert evidence.verification.sn == "77"
    assert evidence.verification.issuer == evidence.ca.subject


def test_verification_without_cn_gives_no_code() -> None:
    ca = _ca()
    evidence = check_registration(
        ca.pem, _verification(ca, code=None).pem, now=NOW, max_pem_bytes=LIMIT
    )
    assert evidence.registration_code is None


# -- refused: one case per check and code ------------------------------------------------------


def _same_ca_at(now: datetime) -> Case:
    ca = _ca()
    return Case(
        ca.pem,
        _verification(
            ca, not_before=CA_START - timedelta(days=1), not_after=CA_END + timedelta(days=1)
        ).pem,
        now,
    )


def _verification_at(now: datetime) -> Case:
    ca = _ca()
    return Case(ca.pem, _verification(ca).pem, now)


def _rogue_verification() -> Case:
    ca = _ca()
    impostor = make("Registry Test CA", key=p256(), ca=True)  # same name, another key
    return Case(ca.pem, _verification(impostor).pem)


KEY_PEM = pem_private_key(rsa_key(2048), PrivateFormat.TraditionalOpenSSL)
GOOD = _ca()
GOOD_VERIFICATION = _verification(GOOD)

REFUSALS = [
    # step 2: presence and size, both fields before anything else
    pytest.param(
        lambda: Case("", GOOD_VERIFICATION.pem),
        ErrorCode.CERTIFICATE_MISSING,
        "ca_certificate",
        id="fail/empty-ca",
    ),
    pytest.param(
        lambda: Case(KEY_PEM, " \n"),
        ErrorCode.CERTIFICATE_MISSING,
        "verification_certificate",
        id="fail/empty-verification-before-key-check",
    ),
    pytest.param(
        lambda: Case(GOOD.pem + " " * LIMIT, GOOD_VERIFICATION.pem),
        ErrorCode.INPUT_TOO_LARGE,
        "ca_certificate",
        id="fail/oversize-ca",
    ),
    pytest.param(
        lambda: Case(GOOD.pem, GOOD_VERIFICATION.pem * 200),
        ErrorCode.INPUT_TOO_LARGE,
        "verification_certificate",
        id="fail/oversize-verification",
    ),
    # step 3: private keys in either field, before parsing either
    pytest.param(
        lambda: Case(GOOD.pem + KEY_PEM, GOOD_VERIFICATION.pem),
        ErrorCode.PRIVATE_KEY_REJECTED,
        "ca_certificate",
        id="fail/private-key-in-ca",
    ),
    pytest.param(
        lambda: Case("garbage", KEY_PEM),
        ErrorCode.PRIVATE_KEY_REJECTED,
        "verification_certificate",
        id="fail/private-key-in-verification-before-ca-parse",
    ),
    # step 4: exactly one parseable CA certificate
    pytest.param(
        lambda: Case("garbage", GOOD_VERIFICATION.pem),
        ErrorCode.CERTIFICATE_MALFORMED,
        "ca_certificate",
        id="fail/garbage-ca",
    ),
    pytest.param(
        lambda: Case(GOOD.pem + _ca().pem, GOOD_VERIFICATION.pem),
        ErrorCode.CERTIFICATE_NOT_SINGLE,
        "ca_certificate",
        id="fail/two-certificates-in-ca",
    ),
    # step 5: basicConstraints CA:TRUE
    pytest.param(
        lambda: _pair(_ca(ca=False)),
        ErrorCode.CA_NOT_CERTIFICATE_AUTHORITY,
        "ca_certificate",
        id="fail/ca-false",
    ),
    pytest.param(
        lambda: _pair(_ca(ca=None)),
        ErrorCode.CA_NOT_CERTIFICATE_AUTHORITY,
        "ca_certificate",
        id="fail/no-basic-constraints",
    ),
    pytest.param(
        lambda: _pair(_ca(ca=False, not_after=NOW - SECOND)),
        ErrorCode.CA_NOT_CERTIFICATE_AUTHORITY,
        "ca_certificate",
        id="fail/ca-false-and-expired-reports-step-5",
    ),
    # step 6: RSA 2048-8192 or EC P-256/P-384/P-521
    pytest.param(
        lambda: _pair(_ca(rsa_key(1024))),
        ErrorCode.CA_KEY_UNSUPPORTED,
        "ca_certificate",
        id="fail/rsa-1024",
    ),
    pytest.param(
        lambda: _pair(_foreign_key_ca(_fake_rsa_public_key(2047))),
        ErrorCode.CA_KEY_UNSUPPORTED,
        "ca_certificate",
        id="fail/rsa-2047",
    ),
    pytest.param(
        lambda: _pair(_foreign_key_ca(_fake_rsa_public_key(8193))),
        ErrorCode.CA_KEY_UNSUPPORTED,
        "ca_certificate",
        id="fail/rsa-8193",
    ),
    pytest.param(
        lambda: _pair(_foreign_key_ca(_fake_rsa_public_key(16384))),
        ErrorCode.CA_KEY_UNSUPPORTED,
        "ca_certificate",
        id="fail/rsa-16384",
    ),
    pytest.param(
        lambda: _pair(_ca(ed25519.Ed25519PrivateKey.generate())),
        ErrorCode.CA_KEY_UNSUPPORTED,
        "ca_certificate",
        id="fail/ed25519",
    ),
    pytest.param(
        lambda: _pair(_ca(dsa_key(2048))),
        ErrorCode.CA_KEY_UNSUPPORTED,
        "ca_certificate",
        id="fail/dsa",
    ),
    pytest.param(
        lambda: _pair(_ca(ec.generate_private_key(ec.SECP256K1()))),
        ErrorCode.CA_KEY_UNSUPPORTED,
        "ca_certificate",
        id="fail/secp256k1",
    ),
    pytest.param(
        lambda: _pair(_ca(rsa_key(1024), not_after=NOW - SECOND)),
        ErrorCode.CA_KEY_UNSUPPORTED,
        "ca_certificate",
        id="fail/weak-and-expired-reports-step-6",
    ),
    # step 7: validity window, one second either side of each end
    pytest.param(
        lambda: _same_ca_at(CA_START - SECOND),
        ErrorCode.CA_NOT_YET_VALID,
        "ca_certificate",
        id="fail/one-second-before-not-before",
    ),
    pytest.param(
        lambda: _same_ca_at(CA_END + SECOND),
        ErrorCode.CA_EXPIRED,
        "ca_certificate",
        id="fail/one-second-after-not-after",
    ),
    # step 8: the verification certificate
    pytest.param(
        lambda: Case(GOOD.pem, "garbage"),
        ErrorCode.CERTIFICATE_MALFORMED,
        "verification_certificate",
        id="fail/garbage-verification",
    ),
    pytest.param(
        lambda: Case(GOOD.pem, GOOD_VERIFICATION.pem * 2),
        ErrorCode.CERTIFICATE_NOT_SINGLE,
        "verification_certificate",
        id="fail/two-verification-certificates",
    ),
    pytest.param(
        lambda: _pair(GOOD, _verification(make("Another CA", ca=True))),
        ErrorCode.VERIFICATION_ISSUER_MISMATCH,
        "verification_certificate",
        id="fail/issuer-mismatch",
    ),
    pytest.param(
        _rogue_verification,
        ErrorCode.VERIFICATION_SIGNATURE_INVALID,
        "verification_certificate",
        id="fail/signed-by-another-key-same-issuer-name",
    ),
    pytest.param(
        lambda: _pair(_foreign_key_ca(_fake_rsa_public_key(8192))),
        ErrorCode.VERIFICATION_SIGNATURE_INVALID,
        "verification_certificate",
        id="fail/rsa-8192-passes-step-6-fails-possession",
    ),
    pytest.param(
        lambda: _verification_at(VER_START - SECOND),
        ErrorCode.VERIFICATION_NOT_YET_VALID,
        "verification_certificate",
        id="fail/verification-one-second-before-not-before",
    ),
    pytest.param(
        lambda: _verification_at(VER_END + SECOND),
        ErrorCode.VERIFICATION_EXPIRED,
        "verification_certificate",
        id="fail/verification-one-second-after-not-after",
    ),
]


@pytest.mark.parametrize(("build", "code", "field"), REFUSALS)
def test_refusals(build: Callable[[], Case], code: ErrorCode, field: str) -> None:
    case = build()
    with pytest.raises(CertificateError) as caught:
        check_registration(case.ca_text, case.verification_text, now=case.now, max_pem_bytes=LIMIT)
    assert caught.value.code is code
    assert caught.value.field == field
    assert KEY_PEM.splitlines()[1] not in caught.value.message


@pytest.mark.parametrize(
    ("now", "ok"),
    [
        pytest.param(CA_END, True, id="ok/exactly-at-ca-not-after"),
        pytest.param(CA_START, True, id="ok/exactly-at-ca-not-before"),
        pytest.param(CA_END + SECOND, False, id="fail/ca-not-after-plus-one-second"),
    ],
)
def test_ca_validity_boundaries(now: datetime, ok: bool) -> None:
    case = _same_ca_at(now)
    if ok:
        check_registration(case.ca_text, case.verification_text, now=now, max_pem_bytes=LIMIT)
    else:
        with pytest.raises(CertificateError):
            check_registration(case.ca_text, case.verification_text, now=now, max_pem_bytes=LIMIT)


def test_verification_exactly_at_not_after_is_accepted() -> None:
    case = _verification_at(VER_END)
    assert check_registration(
        case.ca_text, case.verification_text, now=VER_END, max_pem_bytes=LIMIT
    )


@pytest.mark.parametrize(
    ("build", "fragments"),
    [
        pytest.param(
            lambda: _pair(_ca(ca=None)),
            [
                "BasicConstraints extension should be set to true in CA certificate",
                "-extensions v3_ca",
            ],
            id="no-basic-constraints",
        ),
        pytest.param(
            lambda: _pair(_ca(ca=False)), ["CA:FALSE", "-extensions v3_ca"], id="ca-false"
        ),
        pytest.param(
            lambda: _pair(_ca(rsa_key(1024))),
            ["RSA 1024-bit", "2048 to 8192", "P-256, P-384 or P-521"],
            id="rsa-1024",
        ),
        pytest.param(
            lambda: _pair(_ca(ec.generate_private_key(ec.SECP256K1()))),
            ["secp256k1", "P-256"],
            id="secp256k1",
        ),
        pytest.param(
            lambda: _same_ca_at(CA_END + SECOND),
            ["expired", CA_END.strftime("%Y-%m-%dT%H:%M:%SZ")],
            id="expired-dates",
        ),
        pytest.param(
            _rogue_verification,
            ["proof of possession failed", "-CA CA.crt -CAkey CA.key"],
            id="possession",
        ),
    ],
)
def test_messages_say_what_to_fix(build: Callable[[], Case], fragments: list[str]) -> None:
    case = build()
    with pytest.raises(CertificateError) as caught:
        check_registration(case.ca_text, case.verification_text, now=case.now, max_pem_bytes=LIMIT)
    for fragment in fragments:
        assert fragment.lower() in caught.value.message.lower()


def test_seed_verification_is_v1_without_extensions(tmp_path: Path, openssl_cli: None) -> None:
    ca = make_seed_ca(tmp_path, "ecc")
    verification = x509.load_pem_x509_certificate(
        make_seed_verification(tmp_path, ca, CODE).read_bytes()
    )
    assert verification.version is x509.Version.v1
    assert len(verification.extensions) == 0
    assert isinstance(verification.signature_hash_algorithm, hashes.SHA512)


def test_seed_verification_from_another_seed_ca_fails_possession(
    tmp_path: Path, openssl_cli: None
) -> None:
    # Two seed CAs share the seed's subject: the issuer names match, only the key differs.
    ca, other = make_seed_ca(tmp_path, "ecc"), make_seed_ca(tmp_path, "ecc")
    verification = make_seed_verification(tmp_path, other, CODE)
    with pytest.raises(CertificateError) as caught:
        check_registration(
            ca.pem, verification.read_text(), now=datetime.now(UTC), max_pem_bytes=LIMIT
        )
    assert caught.value.code is ErrorCode.VERIFICATION_SIGNATURE_INVALID


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["ca", "verification"]))
def test_any_text_gives_evidence_or_a_domain_error(text: str, which: str) -> None:
    ca_text, verification_text = (
        (text, GOOD_VERIFICATION.pem) if which == "ca" else (GOOD.pem, text)
    )
    with contextlib.suppress(DomainError):
        check_registration(ca_text, verification_text, now=NOW, max_pem_bytes=LIMIT)
