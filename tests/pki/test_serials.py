"""Serial numbers: every accepted spelling resolves to `openssl x509 -serial`'s form, lowered."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mqtt_ca_registry.errors import CertificateError, ErrorCode, InvalidInputError
from mqtt_ca_registry.pki.pem import load_single_certificate
from mqtt_ca_registry.pki.serials import canonical_sn, sn_of
from tests.pki.factory import make


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        pytest.param("0abc", "0abc", id="ok/canonical"),
        pytest.param("ABC", "0abc", id="ok/odd-digits-padded"),
        pytest.param("0A:BC", "0abc", id="ok/colons-upper"),
        pytest.param("0a:bc", "0abc", id="ok/colons-lower"),
        pytest.param("000000abc", "0abc", id="ok/extra-leading-zeros"),
        pytest.param("  0abc\n", "0abc", id="ok/surrounding-whitespace"),
        pytest.param("00:00:0A:bC", "0abc", id="ok/everything-at-once"),
        pytest.param("1", "01", id="ok/one"),
        pytest.param("ff", "ff", id="ok/high-bit-not-negative"),
        pytest.param("7F" * 64, "7f" * 64, id="ok/exactly-128-bytes"),
    ],
)
def test_canonical_sn_accepts_spellings(spelling: str, canonical: str) -> None:
    assert canonical_sn(spelling) == canonical


@pytest.mark.parametrize(
    ("spelling", "problem"),
    [
        pytest.param("", "is empty", id="fail/empty"),
        pytest.param("   ", "is empty", id="fail/blank"),
        pytest.param(":::", "is empty", id="fail/only-colons"),
        pytest.param("0xabc", "not hexadecimal", id="fail/0x-prefix"),
        pytest.param("ab cd", "not hexadecimal", id="fail/inner-space"),
        pytest.param("12g4", "not hexadecimal", id="fail/non-hex"),
        pytest.param("-01", "not hexadecimal", id="fail/sign"),
        pytest.param("1_000", "not hexadecimal", id="fail/underscore"),
        pytest.param("٣", "not hexadecimal", id="fail/unicode-digit"),
        pytest.param("00:00", "zero", id="fail/zero"),
        pytest.param("0" * 129, "longer than 128 bytes", id="fail/129-bytes"),
        pytest.param("a" * 127 + "é", "longer than 128 bytes", id="fail/128-chars-129-bytes"),
    ],
)
def test_canonical_sn_refuses(spelling: str, problem: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        canonical_sn(spelling, field="ca_sn")
    error = caught.value
    assert error.code is ErrorCode.INVALID_SN
    assert error.field == "ca_sn"
    assert problem in error.message
    assert "ca_sn" in error.message and "hexadecimal" in error.message


@given(st.integers(min_value=1, max_value=2**256))
def test_canonical_sn_round_trips_any_positive_value(value: int) -> None:
    spelled = format(value, "X")
    expected = canonical_sn(spelled)
    assert int(expected, 16) == value and len(expected) % 2 == 0
    pairs = ":".join(expected[i : i + 2] for i in range(0, len(expected), 2))
    assert canonical_sn(pairs.upper()) == expected
    assert canonical_sn("000" + spelled.lower()) == expected


def test_sn_of_matches_openssl_form() -> None:
    assert sn_of(make("x", serial=0xABC).cert, field="ca_certificate") == "0abc"
    assert sn_of(make("x", serial=0x1).cert, field="ca_certificate") == "01"


def test_sn_of_refuses_a_serial_too_long_to_address(tmp_path: Path, openssl_cli: None) -> None:
    # cryptography will not build a serial over 159 bits; OpenSSL will, and parsers accept it.
    run = functools.partial(subprocess.run, cwd=tmp_path, check=True, capture_output=True)
    run(["openssl", "ecparam", "-genkey", "-name", "prime256v1", "-out", "k.pem"])
    serial = "0x" + "7f" * 65
    run(
        [
            "openssl",
            "req",
            "-x509",
            "-new",
            "-key",
            "k.pem",
            "-subj",
            "/CN=big",
            "-days",
            "1",
            "-set_serial",
            serial,
            "-out",
            "big.pem",
        ]
    )
    cert = load_single_certificate(
        (tmp_path / "big.pem").read_text(), field="ca_certificate", max_bytes=65536
    )
    with pytest.raises(CertificateError) as caught:
        sn_of(cert, field="ca_certificate")
    assert caught.value.code is ErrorCode.INVALID_SN
    assert caught.value.field == "ca_certificate"
