"""Loading certificates from user text: limits, pasted private keys, PEM and base64 DER."""

from __future__ import annotations

import base64
import contextlib
import subprocess
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.utils import CryptographyDeprecationWarning
from hypothesis import given, settings
from hypothesis import strategies as st

from mqtt_ca_registry.errors import CertificateError, DomainError, ErrorCode
from mqtt_ca_registry.pki.pem import (
    contains_private_key,
    load_certificates,
    load_single_certificate,
    to_pem,
)
from mqtt_ca_registry.pki.serials import sn_of
from tests.pki.factory import dsa_key, make, p256, pem_private_key, rsa_key

FIELD = "ca_certificate"
LIMIT = 64 * 1024
MALFORMED_HINT = "expected a PEM certificate (-----BEGIN CERTIFICATE-----) or base64 DER"

CERT = make("Loader CA", ca=True)
OTHER = make("Other CA", ca=True)
PrivateFormat = serialization.PrivateFormat


def _single(text: str, **kwargs: int) -> x509.Certificate:
    return load_single_certificate(text, field=FIELD, max_bytes=kwargs.get("max_bytes", LIMIT))


def _refusal(text: str, *, single: bool = True, max_count: int = 4) -> CertificateError:
    with pytest.raises(CertificateError) as caught:
        if single:
            _single(text)
        else:
            load_certificates(text, field=FIELD, max_bytes=LIMIT, max_count=max_count)
    assert caught.value.field == FIELD
    return caught.value


def _key_texts() -> list[object]:
    ec_key, rsa = p256(), rsa_key(2048)
    encrypted = ec_key.private_bytes(
        serialization.Encoding.PEM,
        PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    ).decode()
    return [
        pytest.param(pem_private_key(rsa, PrivateFormat.TraditionalOpenSSL), id="rsa-private-key"),
        pytest.param(
            pem_private_key(ec_key, PrivateFormat.TraditionalOpenSSL), id="ec-private-key"
        ),
        pytest.param(pem_private_key(ec_key, PrivateFormat.PKCS8), id="pkcs8-private-key"),
        pytest.param(encrypted, id="encrypted-private-key"),
        pytest.param(pem_private_key(ec_key, PrivateFormat.OpenSSH), id="openssh-private-key"),
        pytest.param(
            pem_private_key(dsa_key(1024), PrivateFormat.TraditionalOpenSSL), id="dsa-private-key"
        ),
        pytest.param(
            pem_private_key(ec_key, PrivateFormat.PKCS8).replace("PRIVATE KEY", "Private Key"),
            id="label-in-other-case",
        ),
    ]


KEY_TEXTS = _key_texts()


# -- limits and emptiness ------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n\t  "], ids=["fail/empty", "fail/whitespace"])
def test_empty_input_is_missing(text: str) -> None:
    error = _refusal(text)
    assert error.code is ErrorCode.CERTIFICATE_MISSING
    assert FIELD in error.message


def test_oversize_input_names_the_limit() -> None:
    error = _refusal(CERT.pem + "#" * LIMIT)
    assert error.code is ErrorCode.INPUT_TOO_LARGE
    assert str(LIMIT) in error.message


def test_size_counts_utf8_bytes_not_characters() -> None:
    text = CERT.pem + "é" * 40  # 80 bytes of trailing text
    assert _single(text, max_bytes=len(CERT.pem) + 80).serial_number == CERT.cert.serial_number
    with pytest.raises(CertificateError) as caught:
        _single(text, max_bytes=len(CERT.pem) + 79)
    assert caught.value.code is ErrorCode.INPUT_TOO_LARGE


# -- private keys ------------------------------------------------------------------------


@pytest.mark.parametrize("key_text", KEY_TEXTS)
def test_pasted_private_key_is_refused_without_echoing_it(key_text: str) -> None:
    for text in (key_text, CERT.pem + key_text, key_text + CERT.pem):
        assert contains_private_key(text)
        error = _refusal(text)
        assert error.code is ErrorCode.PRIVATE_KEY_REJECTED
        assert "never send private keys" in error.message
        assert "-----BEGIN CERTIFICATE-----" in error.message
        for line in key_text.splitlines():
            if "-----" not in line and len(line) > 8:
                assert line not in error.message and line not in str(error)


def test_private_key_checked_before_parsing_and_count() -> None:
    key_text = pem_private_key(p256(), PrivateFormat.PKCS8)
    error = _refusal("garbage " + key_text + CERT.pem * 9, single=False, max_count=2)
    assert error.code is ErrorCode.PRIVATE_KEY_REJECTED


def test_base64_der_private_key_is_refused() -> None:
    der = p256().private_bytes(
        serialization.Encoding.DER, PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    text = base64.encodebytes(der).decode()
    assert not contains_private_key(text)
    error = _refusal(text)
    assert error.code is ErrorCode.PRIVATE_KEY_REJECTED
    assert text.splitlines()[0] not in error.message


def test_a_certificate_alone_has_no_private_key() -> None:
    assert not contains_private_key(CERT.pem)
    assert not contains_private_key("-----BEGIN PUBLIC KEY-----")


# -- accepted forms --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(CERT.pem, id="ok/pem"),
        pytest.param(CERT.pem.replace("\n", "\r\n"), id="ok/crlf"),
        pytest.param(
            f"Certificate:\n  Data: ...\nsubject=CN = x\n{CERT.pem}\ntrailer", id="ok/text-around"
        ),
        pytest.param(
            CERT.pem.replace("CERTIFICATE-----", "X509 CERTIFICATE-----"), id="ok/x509-label"
        ),
        pytest.param(
            base64.b64encode(CERT.cert.public_bytes(serialization.Encoding.DER)).decode(),
            id="ok/base64-der-one-line",
        ),
        pytest.param(
            base64.encodebytes(CERT.cert.public_bytes(serialization.Encoding.DER)).decode(),
            id="ok/base64-der-wrapped",
        ),
        pytest.param(
            "  "
            + base64.encodebytes(CERT.cert.public_bytes(serialization.Encoding.DER))
            .decode()
            .replace("\n", "\r\n  "),
            id="ok/base64-der-crlf-indented",
        ),
    ],
)
def test_accepted_forms_load_the_same_certificate(text: str) -> None:
    assert _single(text) == CERT.cert


def test_chain_keeps_order() -> None:
    chain = load_certificates(
        CERT.pem + "\n\n" + OTHER.pem, field=FIELD, max_bytes=LIMIT, max_count=2
    )
    assert chain == [CERT.cert, OTHER.cert]


def test_to_pem_is_normalised() -> None:
    text = to_pem(_single(CERT.pem.replace("\n", "\r\n")))
    assert text == CERT.pem
    assert text.startswith("-----BEGIN CERTIFICATE-----\n") and text.endswith("-----\n")
    assert "\r" not in text


# -- refusals ---------------------------------------------------------------------------------


def test_two_certificates_where_one_is_expected() -> None:
    error = _refusal(CERT.pem + OTHER.pem)
    assert error.code is ErrorCode.CERTIFICATE_NOT_SINGLE
    assert "2 certificates" in error.message


def test_chain_is_counted_before_anything_is_decoded() -> None:
    flood = "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n" * 50
    assert _refusal(flood, single=False).code is ErrorCode.CHAIN_TOO_LONG
    assert _refusal(flood).code is ErrorCode.CERTIFICATE_NOT_SINGLE


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("-----BEGIN CERTIFICATE-----" * 9000, id="unclosed-begins"),
        pytest.param(("-----BEGIN " + "A" * 60) * 4000, id="private-key-label-runs"),
        pytest.param("-" * 250_000, id="dashes"),
    ],
)
def test_hostile_text_is_refused_in_linear_time(text: str) -> None:
    started = time.perf_counter()
    with pytest.raises(CertificateError):
        load_certificates(text, field=FIELD, max_bytes=len(text), max_count=4)
    # Generous bound: the quadratic scan this guards against took over 20 s on the first case.
    assert time.perf_counter() - started < 1.0


def test_chain_over_max_count() -> None:
    error = _refusal(CERT.pem * 5, single=False, max_count=4)
    assert error.code is ErrorCode.CHAIN_TOO_LONG
    assert "at most 4" in error.message


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        pytest.param("hello world", "", id="fail/garbage"),
        pytest.param("aGVsbG8gd29ybGQ=", "not a parseable", id="fail/base64-not-der"),
        pytest.param(
            CERT.pem.replace("MII", "MIJ", 1), "not a parseable", id="fail/corrupted-pem-body"
        ),
        pytest.param(
            CERT.pem.split("-----END")[0], "without its END line", id="fail/missing-end-line"
        ),
        pytest.param(
            CERT.pem + "-----BEGIN CERTIFICATE-----\nAAAA\n",
            "without its END",
            id="fail/second-block-cut",
        ),
        pytest.param(
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
            "not valid",
            id="fail/pem-body-not-base64",
        ),
        pytest.param(
            "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
            "certificate signing request",
            id="fail/csr-pasted",
        ),
        pytest.param(
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            "'PUBLIC KEY' block",
            id="fail/public-key-pasted",
        ),
    ],
)
def test_unparseable_input_is_malformed(text: str, detail: str) -> None:
    error = _refusal(text)
    assert error.code is ErrorCode.CERTIFICATE_MALFORMED
    assert FIELD in error.message and MALFORMED_HINT in error.message
    assert detail in error.message


def test_malformed_member_of_a_chain_is_named_by_position() -> None:
    broken = OTHER.pem.replace("MII", "MIJ", 1)
    error = _refusal(CERT.pem + broken, single=False)
    assert error.code is ErrorCode.CERTIFICATE_MALFORMED
    assert "certificate 2 of 2" in error.message


@pytest.mark.parametrize("serial", ["-5", "0"], ids=["fail/negative-serial", "fail/zero-serial"])
def test_non_positive_serial_from_openssl(tmp_path: Path, openssl_cli: None, serial: str) -> None:
    subprocess.run(
        ["openssl", "ecparam", "-genkey", "-name", "prime256v1", "-out", "k.pem"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-new",
            "-key",
            "k.pem",
            "-subj",
            "/CN=odd serial",
            "-days",
            "30",
            "-set_serial",
            serial,
            "-out",
            "c.pem",
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    text = (tmp_path / "c.pem").read_text()
    error = _refusal(text)
    assert error.code is ErrorCode.SERIAL_NOT_POSITIVE
    assert "positive" in error.message
    # A certificate loaded by other means is refused by sn_of as well.
    with pytest.warns(CryptographyDeprecationWarning):
        cert = x509.load_pem_x509_certificate(text.encode())
    with pytest.raises(CertificateError) as caught, pytest.warns(CryptographyDeprecationWarning):
        sn_of(cert, field=FIELD)
    assert caught.value.code is ErrorCode.SERIAL_NOT_POSITIVE


# -- robustness -----------------------------------------------------------------------------


def _only_domain_errors(text: str) -> None:
    with contextlib.suppress(DomainError):
        load_certificates(text, field=FIELD, max_bytes=4096, max_count=3)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_gives_a_certificate_or_a_domain_error(text: str) -> None:
    _only_domain_errors(text)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=len(CERT.pem) - 1), st.characters())
def test_mutated_pem_gives_a_certificate_or_a_domain_error(position: int, char: str) -> None:
    _only_domain_errors(CERT.pem[:position] + char + CERT.pem[position + 1 :])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_any_base64_gives_a_certificate_or_a_domain_error(data: bytes) -> None:
    _only_domain_errors(base64.b64encode(data).decode())
    _only_domain_errors(
        "-----BEGIN CERTIFICATE-----\n"
        + base64.b64encode(data).decode()
        + "\n-----END CERTIFICATE-----"
    )
