"""Whatever a user pastes, the certificate package answers or refuses with a DomainError.

Anything else (a ValueError from a lazily decoded field, an OpenSSL error, a RecursionError)
would reach the client as a 500. TrustStore.verify never raises by design, so for it the
property is that it never falls back to its "internal error" refusal.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import given, note, seed
from hypothesis import strategies as st

from mqtt_ca_registry.errors import DomainError
from mqtt_ca_registry.pki import (
    CertificateInfo,
    TrustStore,
    canonical_sn,
    check_registration,
    describe,
    load_certificates,
    load_single_certificate,
)
from tests.fuzz.budget import SEED, fuzz_settings
from tests.fuzz.certificate_inputs import (
    PKI,
    certificate_texts,
    parse_der,
    parsed_certificates,
)
from tests.support.certs import NOW

T = TypeVar("T")
MAX_BYTES = 16 * 1024  # small, so the size limit is within reach of generated text
MAX_COUNT = 10
CANONICAL_SN = re.compile(r"(?:[0-9a-f]{2})+")
STORE = TrustStore([("root", PKI.root.cert), ("expired", PKI.expired_root.cert)])
PROPERTY = fuzz_settings(ci=400, local=100)


def answers_or_refuses(call: Callable[[], T]) -> T | None:
    """Run ``call``: its result, or None when it raised a DomainError. Anything else fails."""
    try:
        return call()
    except DomainError as error:
        assert error.message, "a DomainError must say what to fix"
        return None


def note_certificates(certs: list[x509.Certificate]) -> None:
    """On failure, print each certificate as base64 DER, ready for `openssl asn1parse`."""
    for cert in certs:
        note(base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode())


@contextmanager
def no_internal_errors() -> Iterator[None]:
    """Fail if the chain verifier logs an unexpected failure (its catch-all refusal)."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect(level=logging.ERROR)
    verifier_log = logging.getLogger("mqtt_ca_registry.pki.chain")
    verifier_log.addHandler(handler)
    try:
        yield
    finally:
        verifier_log.removeHandler(handler)
    assert not records, [record.getMessage() for record in records]


def _text_or_surrogates(text: str) -> st.SearchStrategy[str]:
    return st.sampled_from([text, text + "\udcff"])


texts = certificate_texts.flatmap(
    lambda text: _text_or_surrogates(text) if len(text) < 100 else st.just(text)
)


@PROPERTY
@seed(SEED)
@given(text=texts)
def test_load_certificates(text: str) -> None:
    certs = answers_or_refuses(
        lambda: load_certificates(text, field="chain", max_bytes=MAX_BYTES, max_count=MAX_COUNT)
    )
    if certs is not None:
        assert 1 <= len(certs) <= MAX_COUNT
        assert all(isinstance(cert, x509.Certificate) for cert in certs)


@PROPERTY
@seed(SEED)
@given(text=texts)
def test_load_single_certificate(text: str) -> None:
    cert = answers_or_refuses(
        lambda: load_single_certificate(text, field="ca_certificate", max_bytes=MAX_BYTES)
    )
    assert cert is None or isinstance(cert, x509.Certificate)


@PROPERTY
@seed(SEED)
@given(cert=parsed_certificates)
def test_describe(cert: x509.Certificate) -> None:
    note_certificates([cert])
    info = answers_or_refuses(lambda: describe(cert, field="device_certificate"))
    if info is not None:
        assert isinstance(info, CertificateInfo)
        assert CANONICAL_SN.fullmatch(info.sn)
        assert len(info.fingerprint_sha256) == 64


@PROPERTY
@seed(SEED)
@given(
    ca_text=st.one_of(st.just(PKI.root.pem), texts),
    verification_text=st.one_of(st.just(PKI.verification.pem), texts),
)
def test_check_registration(ca_text: str, verification_text: str) -> None:
    evidence = answers_or_refuses(
        lambda: check_registration(ca_text, verification_text, now=NOW, max_pem_bytes=MAX_BYTES)
    )
    if evidence is not None:
        assert CANONICAL_SN.fullmatch(evidence.ca.sn)


def test_check_registration_accepts_the_real_pair() -> None:
    """The baseline the property mutates: the untouched pair passes every check."""
    evidence = check_registration(
        PKI.root.pem, PKI.verification.pem, now=NOW, max_pem_bytes=MAX_BYTES
    )
    assert evidence.registration_code is not None


_sn_alphabet = st.sampled_from("0123456789abcdefABCDEF: \t\n-x+_٣０ＡᏍ\x00")


@PROPERTY
@seed(SEED)
@given(value=st.one_of(st.text(_sn_alphabet, max_size=300), st.text(max_size=300)))
def test_canonical_sn(value: str) -> None:
    sn = answers_or_refuses(lambda: canonical_sn(value))
    if sn is not None:
        assert CANONICAL_SN.fullmatch(sn)
        assert canonical_sn(sn) == sn  # canonical spellings are fixed points


_real_chain_parts = st.sampled_from(
    [PKI.device.cert, PKI.deep_device.cert, PKI.intermediate.cert, PKI.root.cert]
)


@PROPERTY
@seed(SEED)
@given(
    chain=st.lists(st.one_of(parsed_certificates, _real_chain_parts), max_size=4),
    security_level=st.sampled_from([0, 1, 2, 3]),
)
def test_trust_store_verify(chain: list[x509.Certificate], security_level: int) -> None:
    note_certificates(chain)
    with no_internal_errors():
        decision = STORE.verify(chain, now=NOW, security_level=security_level)
    if decision.ok:
        assert decision.anchor_key in STORE.keys and decision.leaf is not None
    else:
        assert decision.reason is not None and decision.message


@PROPERTY
@seed(SEED)
@given(text=texts)
def test_authenticate_pipeline(text: str) -> None:
    """Text in, decision out, as a device connect runs: load the chain, then verify it."""
    chain = answers_or_refuses(
        lambda: load_certificates(text, field="chain", max_bytes=MAX_BYTES, max_count=MAX_COUNT)
    )
    if chain is not None:
        note_certificates(chain)
        with no_internal_errors():
            STORE.verify(chain, now=NOW)


def test_real_chains_are_accepted() -> None:
    """The baseline the properties mutate: untouched chains to the anchor are accepted."""
    for chain in ([PKI.device.cert], [PKI.deep_device.cert, PKI.intermediate.cert]):
        decision = STORE.verify(chain, now=NOW)
        assert decision.ok, decision.message
    assert parse_der(b"") is None
