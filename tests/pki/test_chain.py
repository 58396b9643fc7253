"""TrustStore behaviour beyond the OpenSSL agreement table: pinned clocks, anchors, robustness."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning

from mqtt_ca_registry.pki.chain import ChainDecision, RejectReason, TrustStore, chain_fingerprint
from tests.pki.factory import NOW, SECOND, Made, key_usage, make, rsa_key

ROOT = make(
    "Unit Root",
    ca=True,
    serial=0x0A,
    not_before=NOW - timedelta(days=30),
    not_after=NOW + timedelta(days=3650),
)
OTHER_ROOT = make("Unit Other Root", ca=True, serial=0x0B)
LEAF_START, LEAF_END = NOW - timedelta(days=1), NOW + timedelta(days=1)
LEAF = make(
    "device-001",
    issuer=ROOT,
    serial=0x1234,
    not_before=LEAF_START,
    not_after=LEAF_END,
    key_usage=key_usage(digital_signature=True),
)
STORE = TrustStore([("ca-root", ROOT.cert), ("ca-other", OTHER_ROOT.cert)])


def _decide(
    chain: list[Made], now: datetime, store: TrustStore = STORE, level: int = 2
) -> ChainDecision:
    return store.verify([m.cert for m in chain], now=now, security_level=level)


@pytest.mark.parametrize(
    ("now", "reason"),
    [
        pytest.param(
            LEAF_START - SECOND, RejectReason.not_yet_valid, id="fail/one-second-before-not-before"
        ),
        pytest.param(LEAF_START, None, id="ok/exactly-at-not-before"),
        pytest.param(LEAF_END - SECOND, None, id="ok/one-second-before-not-after"),
        pytest.param(LEAF_END, None, id="ok/exactly-at-not-after"),
        pytest.param(LEAF_END + SECOND, RejectReason.expired, id="fail/one-second-after-not-after"),
    ],
)
def test_leaf_validity_boundaries(now: datetime, reason: RejectReason | None) -> None:
    decision = _decide([LEAF], now)
    assert decision.reason == reason, decision.message
    assert decision.ok == (reason is None)


def test_accepted_decision_names_anchor_and_describes_leaf() -> None:
    decision = _decide([LEAF], NOW)
    assert decision.ok and decision.reason is None
    assert decision.anchor_key == "ca-root"
    assert decision.leaf is not None
    assert decision.leaf.sn == "1234" and decision.leaf.common_name == "device-001"
    assert "Unit Root" in decision.message


def test_the_same_store_follows_each_calls_clock() -> None:
    # pyOpenSSL's X509Store.set_time cannot be changed once set; the store must not reuse one.
    before, after = LEAF_START - SECOND, LEAF_END + SECOND
    assert [_decide([LEAF], t).reason for t in (before, NOW, after, NOW, before)] == [
        RejectReason.not_yet_valid,
        None,
        RejectReason.expired,
        None,
        RejectReason.not_yet_valid,
    ]


def test_concurrent_verifications_with_different_clocks() -> None:
    times = [LEAF_START - SECOND, NOW, LEAF_END + SECOND] * 30
    expected = {
        LEAF_START - SECOND: RejectReason.not_yet_valid,
        NOW: None,
        LEAF_END + SECOND: RejectReason.expired,
    }
    with ThreadPoolExecutor(max_workers=8) as pool:
        reasons = list(pool.map(lambda t: _decide([LEAF], t).reason, times))
    assert reasons == [expected[t] for t in times]


def test_naive_now_is_taken_as_utc() -> None:
    assert _decide([LEAF], (LEAF_END + SECOND).replace(tzinfo=None)).reason is RejectReason.expired


def test_expired_anchor_is_named_in_the_message() -> None:
    old_root = make(
        "Old Root", ca=True, not_before=NOW - timedelta(days=10), not_after=NOW - SECOND
    )
    leaf = make("device-002", issuer=old_root)
    decision = _decide([leaf], NOW, TrustStore([("old", old_root.cert)]))
    assert decision.reason is RejectReason.expired
    assert "registered CA certificate 'CN=Old Root'" in decision.message


def test_unknown_issuer_message_says_what_to_do() -> None:
    stranger = make("Stranger CA", ca=True)
    decision = _decide([make("device-003", issuer=stranger)], NOW)
    assert decision.reason is RejectReason.unknown_issuer
    assert "CN=device-003" in decision.message and "CN=Stranger CA" in decision.message
    assert "register" in decision.message


def test_empty_store_refuses_everything() -> None:
    decision = _decide([LEAF], NOW, TrustStore([]))
    assert decision.reason is RejectReason.unknown_issuer and decision.anchor_key is None


def test_empty_chain_is_malformed() -> None:
    decision = STORE.verify([], now=NOW)
    assert decision.reason is RejectReason.malformed and decision.leaf is None


def test_weak_leaf_key_message_gives_numbers() -> None:
    weak = make("device-rsa1024", issuer=ROOT, key=rsa_key(1024))
    decision = _decide([weak], NOW)
    assert decision.reason is RejectReason.weak_key
    assert "RSA 1024-bit" in decision.message and "80 bits" in decision.message
    assert _decide([weak], NOW, level=1).ok


def test_rejections_still_describe_the_leaf() -> None:
    decision = _decide([LEAF], LEAF_END + SECOND)
    assert decision.leaf is not None and decision.leaf.sn == "1234"


def test_anchor_keys_and_duplicates() -> None:
    store = TrustStore([("first", ROOT.cert), ("second", ROOT.cert), ("other", OTHER_ROOT.cert)])
    assert len(store) == 2 and store.keys == ("first", "other")
    assert _decide([LEAF], NOW, store).anchor_key == "first"


def test_unexpected_failure_becomes_a_refusal() -> None:
    decision = STORE.verify(["not a certificate"], now=NOW)  # type: ignore[list-item]
    assert decision.reason is RejectReason.other and not decision.ok


def test_non_positive_leaf_serial_is_refused_after_openssl_accepts(
    tmp_path: Path, openssl_cli: None
) -> None:
    run = lambda *a: subprocess.run(["openssl", *a], cwd=tmp_path, check=True, capture_output=True)  # noqa: E731
    run("ecparam", "-genkey", "-name", "prime256v1", "-out", "ca.key")
    run(
        "req",
        "-x509",
        "-new",
        "-key",
        "ca.key",
        "-subj",
        "/CN=Serial Root",
        "-days",
        "30",
        "-out",
        "ca.crt",
    )
    run("ecparam", "-genkey", "-name", "prime256v1", "-out", "leaf.key")
    run("req", "-new", "-key", "leaf.key", "-subj", "/CN=negative", "-out", "leaf.csr")
    run(
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-set_serial",
        "-5",
        "-days",
        "2",
        "-out",
        "leaf.crt",
    )
    root = x509.load_pem_x509_certificate((tmp_path / "ca.crt").read_bytes())
    with pytest.warns(CryptographyDeprecationWarning):
        leaf = x509.load_pem_x509_certificate((tmp_path / "leaf.crt").read_bytes())
    with pytest.warns(CryptographyDeprecationWarning):
        decision = TrustStore([("root", root)]).verify(
            [leaf], now=root.not_valid_before_utc + timedelta(hours=1)
        )
    assert decision.reason is RejectReason.malformed
    assert "serial" in decision.message and decision.leaf is None


def test_chain_fingerprint_is_stable_and_order_sensitive() -> None:
    one = chain_fingerprint([LEAF.cert, ROOT.cert])
    assert one == chain_fingerprint([LEAF.cert, ROOT.cert])
    assert one != chain_fingerprint([ROOT.cert, LEAF.cert])
    assert one != chain_fingerprint([LEAF.cert])
    assert len(one) == 64 and int(one, 16) >= 0
