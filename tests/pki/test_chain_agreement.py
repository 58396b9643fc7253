"""Device chains: our decision equals `openssl verify -purpose sslclient -auth_level N`.

Every case is made with the openssl command line; the same files go to ``openssl verify``
(``-attime`` pinned to the epoch we pass as ``now``) and to :class:`TrustStore`. The test
asserts the expected outcome, and that OpenSSL agrees on accepted/refused and on the reason
category (its first reported error number mapped through :func:`reason_for_code`).

The system ``openssl`` is 3.0; pyOpenSSL bundles 4.0. Where the two differ, the case says what
3.0 answers (``openssl_30``) and the test asserts that separately. Investigated differences:

* at exactly ``notAfter`` OpenSSL 3.0 says "expired": its ``X509_cmp_time`` returns -1 for
  "earlier than or equal", so ``notAfter <= now`` fails. OpenSSL 4.0 compares
  ``now > notAfter`` (x509_vfy.c ``ossl_x509_check_cert_time``), RFC 5280's inclusive window,
  and so do we (and registration).

A second oracle, :func:`test_purpose_rules_match_bundled_openssl`, switches the sslclient
purpose on inside pyOpenSSL's own OpenSSL 4.0 (through its private bindings, test-only) and
checks our Python purpose rules against it on every case that does not depend on a security
level, which pyOpenSSL cannot set at all.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from OpenSSL import crypto

from mqtt_ca_registry.pki.chain import RejectReason, TrustStore
from mqtt_ca_registry.pki.chain_reasons import reason_for_code
from tests.pki.factory import cn, p256
from tests.pki.openssl_lab import OpensslLab, OpensslVerdict

R = RejectReason
DAY = 86400


@dataclass(frozen=True)
class Scenario:
    anchors: list[str]
    chain: list[str]  # leaf first
    attime: int
    level: int = 2
    partial_chain: bool = False


class Lab(OpensslLab):
    """The shared certificates of the agreement table, made on first use."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        # Every certificate made by `openssl x509 -days` starts at or after this second.
        self.t0 = int(time.time())
        self.now = self.t0 + 3600

    def at(self, anchors: list[str], chain: list[str], **kwargs: object) -> Scenario:
        return Scenario(anchors, chain, kwargs.pop("attime", self.now), **kwargs)  # type: ignore[arg-type]

    @cached_property
    def root_rsa(self) -> str:
        return self.root("Lab Root RSA", "rsa:2048")

    @cached_property
    def root_ec(self) -> str:
        return self.root("Lab Root EC", "ec:P-256")

    @cached_property
    def intermediate(self) -> str:
        return self.issue(
            "Lab Intermediate",
            issuer=self.root_rsa,
            issuer_key="rsa:2048",
            key="ec:P-256#int",
            ext="int_ca",
        )

    def leaf(
        self,
        name: str,
        *,
        ext: str | None = "leaf_client",
        key: str = "ec:P-256#leaf",
        issuer: str | None = None,
        issuer_key: str = "rsa:2048",
        **kwargs: object,
    ) -> str:
        return self.issue(
            name, issuer=issuer or self.root_rsa, issuer_key=issuer_key, key=key, ext=ext, **kwargs
        )  # type: ignore[arg-type]

    def window_start(self) -> int:
        """A start time inside the registered root's validity and not in the future: OpenSSL
        re-signs a template only while the template itself is valid."""
        start = int(self.load(self.root_rsa).not_valid_before_utc.timestamp()) + 1
        while time.time() < start + 1:
            time.sleep(0.2)
        return start

    def fake_rsa(self, bits: int) -> str:
        """A public key file with an RSA modulus of exactly ``bits`` bits (never a real key)."""
        modulus = secrets.randbits(bits) | (1 << (bits - 1)) | 1
        key = rsa.RSAPublicNumbers(65537, modulus).public_key()
        name = f"fake-rsa-{bits}.pem"
        (self.directory / name).write_bytes(
            key.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        return name

    def timed_leaf(
        self,
        name: str,
        start: int,
        end: int,
        *,
        issuer: str | None = None,
        issuer_key: str = "rsa:2048",
        usage: x509.ObjectIdentifier = ExtendedKeyUsageOID.CLIENT_AUTH,
        digest: str = "sha256",
    ) -> str:
        """A leaf valid exactly from ``start`` to ``end`` (epoch seconds), signed by OpenSSL."""
        # `openssl x509 -in cert -CA ...` re-signs only a self-signed input.
        own_key = p256()
        template = (
            x509.CertificateBuilder()
            .subject_name(cn(name))
            .issuer_name(cn(name))
            .public_key(own_key.public_key())
            .serial_number(0x5151)
            .not_valid_before(datetime.fromtimestamp(start, UTC))
            .not_valid_after(datetime.fromtimestamp(end, UTC))
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .sign(own_key, hashes.SHA256())
        )
        return self.resign(
            name, template, issuer=issuer or self.root_rsa, issuer_key=issuer_key, digest=digest
        )


@dataclass(frozen=True)
class Case:
    id: str
    expect: RejectReason | None  # None: accepted
    build: Callable[[Lab], Scenario]
    openssl_30: RejectReason | str | None = "agrees"  # what OpenSSL 3.0 says when it differs


def _intermediate_chain(
    lab: Lab,
    ext: str,
    *,
    key: str = "ec:P-256#int2",
    digest: str = "sha256",
    name: str | None = None,
) -> Scenario:
    inter = lab.issue(
        name or f"Int {ext} {key} {digest}",
        issuer=lab.root_rsa,
        issuer_key="rsa:2048",
        key=key,
        ext=ext,
        digest=digest,
    )
    leaf = lab.leaf(f"leaf under {inter}", issuer=inter, issuer_key=key)
    return lab.at([lab.root_rsa], [leaf, inter])


def _pathlen(lab: Lab) -> Scenario:
    i0 = lab.issue(
        "Int pathlen0",
        issuer=lab.root_rsa,
        issuer_key="rsa:2048",
        key="ec:P-256#i0",
        ext="int_ca_pathlen0",
    )
    i1 = lab.issue(
        "Int below pathlen0", issuer=i0, issuer_key="ec:P-256#i0", key="ec:P-256#i1", ext="int_ca"
    )
    leaf = lab.leaf("leaf too deep", issuer=i1, issuer_key="ec:P-256#i1")
    return lab.at([lab.root_rsa], [leaf, i1, i0])


def _bad_signature(lab: Lab) -> Scenario:
    # Same subject as the registered root, another RSA key: a v1 leaf (no AKID to tell them
    # apart) chains to the registered root by name and fails its signature check.
    impostor = lab.root("Lab Root RSA", "rsa:2048#impostor", file="impostor-root.crt")
    leaf = lab.leaf("forged leaf", issuer=impostor, issuer_key="rsa:2048#impostor", ext=None)
    return lab.at([lab.root_rsa], [leaf])


def _window(
    lab: Lab,
    offset: int,
    *,
    end: bool,
    usage: x509.ObjectIdentifier = ExtendedKeyUsageOID.CLIENT_AUTH,
    digest: str = "sha256",
) -> Scenario:
    start, stop = lab.window_start(), lab.now + DAY
    leaf = lab.timed_leaf(
        f"window {end} {offset} {usage.dotted_string} {digest}",
        start,
        stop,
        usage=usage,
        digest=digest,
    )
    return lab.at([lab.root_rsa], [leaf], attime=(stop if end else start) + offset)


def _expired_intermediate(lab: Lab) -> Scenario:
    key = serialization.load_pem_private_key(
        (lab.directory / lab.key("ec:P-256#int")).read_bytes(), password=None
    )
    template = (
        x509.CertificateBuilder()
        .subject_name(cn("Expired Intermediate"))
        .issuer_name(cn("Expired Intermediate"))
        .public_key(key.public_key())  # type: ignore[arg-type]
        .serial_number(0x6161)
        .not_valid_before(datetime.fromtimestamp(lab.window_start(), UTC))
        .not_valid_after(datetime.fromtimestamp(lab.now + 600, UTC))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())  # type: ignore[arg-type]
    )
    inter = lab.resign("expired-intermediate", template, issuer=lab.root_rsa, issuer_key="rsa:2048")
    leaf = lab.leaf("leaf under expired", issuer=inter, issuer_key="ec:P-256#int", ext=None)
    return lab.at([lab.root_rsa], [leaf, inter], attime=lab.now + 601)


CASES = [
    # accepted shapes
    Case(
        "ok/rsa-root-ec-leaf-clientauth", None, lambda lab: lab.at([lab.root_rsa], [lab.leaf("c1")])
    ),
    Case(
        "ok/ec-root-rsa-leaf",
        None,
        lambda lab: lab.at(
            [lab.root_ec],
            [lab.leaf("c2", key="rsa:2048#leaf", issuer=lab.root_ec, issuer_key="ec:P-256")],
        ),
    ),
    Case(
        "ok/v1-leaf-sha512-like-the-seed",
        None,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("c3", ext=None, digest="sha512")]),
    ),
    Case(
        "ok/v1-leaf-under-ec-root",
        None,
        lambda lab: lab.at(
            [lab.root_ec], [lab.leaf("c4", ext=None, issuer=lab.root_ec, issuer_key="ec:P-256")]
        ),
    ),
    Case(
        "ok/several-anchors",
        None,
        lambda lab: lab.at([lab.root_ec, lab.root_rsa], [lab.leaf("c5")]),
    ),
    # purpose (sslclient)
    Case(
        "ok/eku-client-and-server",
        None,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("p1", ext="leaf_client_server")]),
    ),
    Case(
        "fail/eku-server-only",
        R.purpose,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("p2", ext="leaf_server_only")]),
    ),
    Case(
        "fail/eku-any-only",
        R.purpose,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("p3", ext="leaf_any_eku")]),
    ),
    Case(
        "fail/ku-keycertsign-only",
        R.purpose,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("p4", ext="leaf_ku_certsign")]),
    ),
    Case(
        "fail/ku-keyencipherment-only",
        R.purpose,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("p5", ext="leaf_ku_encipherment")]),
    ),
    Case(
        "ok/ku-keyagreement-only",
        None,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("p6", ext="leaf_ku_agreement")]),
    ),
    Case(
        "fail/nscerttype-server-only",
        R.purpose,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("p7", ext="leaf_ns_server")]),
    ),
    Case(
        "ok/nscerttype-client",
        None,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("p8", ext="leaf_ns_client")]),
    ),
    Case(
        "ok/leaf-marked-ca-true",
        None,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("p9", ext="leaf_ca_true")]),
    ),
    Case(
        "fail/registered-ca-sent-as-device",
        R.purpose,
        lambda lab: lab.at([lab.root_rsa], [lab.root_rsa]),
    ),
    Case(
        "ok/registered-ca-without-keyusage-sent-as-device",
        None,
        lambda lab: (lambda r: lab.at([r], [r]))(
            lab.root("Lab Root no KU", "ec:P-256#noku", ext="root_ca_no_ku")
        ),
    ),
    Case(
        "fail/intermediate-eku-server-only",
        R.purpose,
        lambda lab: _intermediate_chain(lab, "int_eku_server"),
    ),
    Case(
        "ok/intermediate-eku-client", None, lambda lab: _intermediate_chain(lab, "int_eku_client")
    ),
    # extensions and CA rules
    Case(
        "fail/unknown-critical-extension",
        R.unsupported_extension,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("e1", ext="leaf_unknown_critical")]),
    ),
    Case(
        "ok/unknown-noncritical-extension",
        None,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("e2", ext="leaf_unknown_noncritical")]),
    ),
    Case(
        "ok/intermediate-sent",
        None,
        lambda lab: lab.at(
            [lab.root_rsa],
            [lab.leaf("i1", issuer=lab.intermediate, issuer_key="ec:P-256#int"), lab.intermediate],
        ),
    ),
    Case(
        "fail/intermediate-missing",
        R.unknown_issuer,
        lambda lab: lab.at(
            [lab.root_rsa], [lab.leaf("i2", issuer=lab.intermediate, issuer_key="ec:P-256#int")]
        ),
    ),
    Case(
        "fail/intermediate-ca-false",
        R.invalid_ca,
        lambda lab: _intermediate_chain(lab, "int_ca_false"),
    ),
    Case(
        "fail/intermediate-without-basic-constraints",
        R.invalid_ca,
        lambda lab: _intermediate_chain(lab, "int_no_bc"),
    ),
    Case(
        "fail/intermediate-keyusage-without-certsign",
        R.invalid_ca,
        lambda lab: _intermediate_chain(lab, "int_ku_no_certsign"),
    ),
    Case("fail/pathlen-exceeded", R.path_length_exceeded, _pathlen),
    Case(
        "ok/partial-chain-to-registered-intermediate",
        None,
        lambda lab: lab.at(
            [lab.intermediate],
            [lab.leaf("i3", issuer=lab.intermediate, issuer_key="ec:P-256#int")],
            partial_chain=True,
        ),
    ),
    Case(
        "fail/registered-intermediate-without-partial-chain",
        R.unknown_issuer,
        lambda lab: lab.at(
            [lab.intermediate], [lab.leaf("i4", issuer=lab.intermediate, issuer_key="ec:P-256#int")]
        ),
    ),
    # issuers and signatures
    Case(
        "fail/unregistered-issuer",
        R.unknown_issuer,
        lambda lab: lab.at(
            [lab.root_rsa], [lab.leaf("s1", issuer=lab.root_ec, issuer_key="ec:P-256")]
        ),
    ),
    Case(
        "fail/self-signed-leaf",
        R.unknown_issuer,
        lambda lab: lab.at(
            [lab.root_rsa], [lab.root("Lonely Device", "ec:P-256#leaf", ext="root_ca_no_ku")]
        ),
    ),
    Case("fail/signed-by-impostor-with-the-root-name", R.bad_signature, _bad_signature),
    # key strength at level 2 (112 bits: RSA >= 1963 bits by OpenSSL's formula, EC >= 224)
    Case(
        "fail/rsa-1024-leaf",
        R.weak_key,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("k1", key="rsa:1024")]),
    ),
    Case(
        "ok/rsa-2048-leaf",
        None,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("k2", key="rsa:2048#leaf")]),
    ),
    Case(
        "ok/rsa-3072-leaf",
        None,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("k3", key="rsa:3072")]),
    ),
    Case(
        "fail/rsa-1962-bit-modulus",
        R.weak_key,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("k4", force_pubkey=lab.fake_rsa(1962))]),
    ),
    Case(
        "ok/rsa-1963-bit-modulus",
        None,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("k5", force_pubkey=lab.fake_rsa(1963))]),
    ),
    Case(
        "fail/secp192r1-leaf",
        R.weak_key,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("k6", key="ec:prime192v1")]),
    ),
    Case(
        "ok/secp224r1-leaf",
        None,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("k7", key="ec:secp224r1")]),
    ),
    Case(
        "ok/p384-leaf", None, lambda lab: lab.at([lab.root_rsa], [lab.leaf("k8", key="ec:P-384")])
    ),
    Case(
        "ok/p521-leaf", None, lambda lab: lab.at([lab.root_rsa], [lab.leaf("k9", key="ec:P-521")])
    ),
    Case(
        "ok/ed25519-leaf",
        None,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("k10", key="ed25519")]),
    ),
    Case(
        "fail/dsa-1024-leaf",
        R.weak_key,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("k11", key="dsa:1024")]),
    ),
    Case(
        "fail/intermediate-rsa-1024",
        R.weak_key,
        lambda lab: _intermediate_chain(lab, "int_ca", key="rsa:1024"),
    ),
    Case(
        "fail/root-rsa-1024",
        R.weak_key,
        lambda lab: (lambda r: lab.at([r], [lab.leaf("k12", issuer=r, issuer_key="rsa:1024")]))(
            lab.root("Lab Root RSA 1024", "rsa:1024")
        ),
    ),
    # signature digests at level 2 (112 bits: SHA-224 and up)
    Case(
        "fail/sha1-signed-leaf",
        R.weak_digest,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("d1", digest="sha1")]),
    ),
    Case(
        "fail/md5-signed-leaf",
        R.weak_digest,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("d2", digest="md5")]),
    ),
    Case(
        "ok/sha224-signed-leaf",
        None,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("d3", digest="sha224")]),
    ),
    Case(
        "ok/sha384-signed-leaf",
        None,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("d4", digest="sha384")]),
    ),
    Case(
        "fail/sha1-signed-intermediate",
        R.weak_digest,
        lambda lab: _intermediate_chain(lab, "int_ca", digest="sha1"),
    ),
    Case(
        "ok/sha1-self-signed-root-is-not-checked",
        None,
        lambda lab: (lambda r: lab.at([r], [lab.leaf("d5", issuer=r)]))(
            lab.root("Lab Root SHA1", "rsa:2048", digest="sha1")
        ),
    ),
    # validity, pinned one second either side of each boundary
    Case("ok/exactly-at-not-before", None, lambda lab: _window(lab, 0, end=False)),
    Case(
        "fail/one-second-before-not-before",
        R.not_yet_valid,
        lambda lab: _window(lab, -1, end=False),
    ),
    Case("ok/one-second-before-not-after", None, lambda lab: _window(lab, -1, end=True)),
    Case(
        "ok/exactly-at-not-after", None, lambda lab: _window(lab, 0, end=True), openssl_30=R.expired
    ),
    Case("fail/one-second-after-not-after", R.expired, lambda lab: _window(lab, 1, end=True)),
    Case("fail/expired-intermediate", R.expired, _expired_intermediate),
    # several defects: the one OpenSSL reports first
    Case(
        "fail/expired-and-server-only-reports-purpose",
        R.purpose,
        lambda lab: _window(lab, 1, end=True, usage=ExtendedKeyUsageOID.SERVER_AUTH),
    ),
    Case(
        "fail/expired-and-sha1-reports-digest",
        R.weak_digest,
        lambda lab: _window(lab, 1, end=True, digest="sha1"),
    ),
    Case(
        "fail/weak-key-before-unknown-issuer",
        R.weak_key,
        lambda lab: lab.at(
            [lab.root_rsa],
            [lab.leaf("m1", key="rsa:1024", issuer=lab.root_ec, issuer_key="ec:P-256")],
        ),
    ),
    Case(
        "fail/server-only-leaf-under-ca-false-intermediate",
        R.purpose,
        lambda lab: (
            lambda s: lab.at(
                s.anchors,
                [
                    lab.leaf(
                        "m2", ext="leaf_server_only", issuer=s.chain[1], issuer_key="ec:P-256#int2"
                    ),
                    s.chain[1],
                ],
            )
        )(_intermediate_chain(lab, "int_ca_false")),
    ),
    # other security levels
    Case(
        "ok/rsa-1024-at-level-1",
        None,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("l1", key="rsa:1024")], level=1),
    ),
    Case(
        "ok/secp192r1-at-level-1",
        None,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("l2", key="ec:prime192v1")], level=1),
    ),
    Case(
        "fail/sha1-at-level-1",
        R.weak_digest,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("l3", digest="sha1")], level=1),
    ),
    Case(
        "ok/md5-at-level-0",
        None,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("l4", digest="md5")], level=0),
    ),
    Case(
        "fail/rsa-2048-at-level-3",
        R.weak_key,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("l5", key="rsa:2048#leaf")], level=3),
    ),
    Case(
        "fail/rsa-2670-bit-modulus-at-level-3",
        R.weak_key,
        lambda lab: lab.at(
            [lab.root_ec],
            [
                lab.leaf(
                    "l6", force_pubkey=lab.fake_rsa(2670), issuer=lab.root_ec, issuer_key="ec:P-256"
                )
            ],
            level=3,
        ),
    ),
    Case(
        "ok/rsa-2671-bit-modulus-at-level-3",
        None,
        lambda lab: lab.at(
            [lab.root_ec],
            [
                lab.leaf(
                    "l7", force_pubkey=lab.fake_rsa(2671), issuer=lab.root_ec, issuer_key="ec:P-256"
                )
            ],
            level=3,
        ),
    ),
    Case(
        "fail/sha224-at-level-3",
        R.weak_digest,
        lambda lab: lab.at(
            [lab.root_ec],
            [lab.leaf("l8", digest="sha224", issuer=lab.root_ec, issuer_key="ec:P-256")],
            level=3,
        ),
    ),
    Case(
        "fail/rsa-root-2048-at-level-3",
        R.weak_key,
        lambda lab: lab.at([lab.root_rsa], [lab.leaf("l9", key="ec:P-384")], level=3),
    ),
    Case(
        "ok/p256-chain-at-level-3",
        None,
        lambda lab: lab.at(
            [lab.root_ec], [lab.leaf("l10", issuer=lab.root_ec, issuer_key="ec:P-256")], level=3
        ),
    ),
]


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory, openssl_cli: None) -> Lab:
    return Lab(tmp_path_factory.mktemp("openssl-lab"))


def _ours(lab: Lab, scenario: Scenario) -> tuple[RejectReason | None, str, str | None]:
    anchors = [(f"anchor-{i}", lab.load(f)) for i, f in enumerate(scenario.anchors)]
    store = TrustStore(anchors, partial_chain=scenario.partial_chain)
    decision = store.verify(
        [lab.load(f) for f in scenario.chain],
        now=datetime.fromtimestamp(scenario.attime, UTC),
        security_level=scenario.level,
    )
    assert decision.ok == (decision.reason is None)
    return decision.reason, decision.message, decision.anchor_key


def _theirs(verdict: OpensslVerdict) -> RejectReason | None:
    if verdict.ok:
        return None
    assert verdict.code is not None, verdict.output
    return reason_for_code(verdict.code)


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 25
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_agrees_with_openssl_verify(lab: Lab, case: Case) -> None:
    scenario = case.build(lab)
    ours, message, anchor_key = _ours(lab, scenario)
    verdict = lab.verify(
        scenario.anchors,
        scenario.chain,
        attime=scenario.attime,
        level=scenario.level,
        partial_chain=scenario.partial_chain,
    )
    assert ours == case.expect, message
    if case.openssl_30 == "agrees":
        assert _theirs(verdict) == ours, f"ours: {ours} ({message})\nopenssl: {verdict.output}"
    else:
        assert _theirs(verdict) == case.openssl_30, verdict.output
    if ours is None:
        assert anchor_key is not None and anchor_key.startswith("anchor-")
    else:
        assert message and anchor_key is None


def _bundled_openssl_with_purpose(lab: Lab, scenario: Scenario) -> RejectReason | None:
    """pyOpenSSL's own OpenSSL (4.0) with the sslclient purpose switched on through its private
    bindings: a second oracle for the purpose rules, on the library we actually run."""
    lib = pytest.importorskip("OpenSSL._util").lib
    if not hasattr(lib, "X509_STORE_set_purpose"):
        pytest.skip("this pyOpenSSL build does not bind X509_STORE_set_purpose")
    store = crypto.X509Store()
    for anchor in scenario.anchors:
        store.add_cert(crypto.X509.from_cryptography(lab.load(anchor)))
    assert lib.X509_STORE_set_purpose(store._store, lib.X509_PURPOSE_SSL_CLIENT) == 1
    if scenario.partial_chain:
        store.set_flags(crypto.X509StoreFlags.PARTIAL_CHAIN)
    store.set_time(datetime.fromtimestamp(scenario.attime, UTC))
    chain = [crypto.X509.from_cryptography(lab.load(f)) for f in scenario.chain]
    try:
        crypto.X509StoreContext(store, chain[0], chain[1:]).verify_certificate()
    except crypto.X509StoreContextError as exc:
        return reason_for_code(int(exc.errors[0]))
    return None


LEVEL_REASONS = {R.weak_key, R.weak_digest}


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c.expect not in LEVEL_REASONS and "level" not in c.id],
    ids=lambda c: c.id,
)
def test_purpose_rules_match_bundled_openssl(lab: Lab, case: Case) -> None:
    """Without security levels (which pyOpenSSL cannot set), OpenSSL 4.0's own sslclient
    purpose check decides every other case as we do, including the notAfter boundary."""
    scenario = case.build(lab)
    if scenario.level != 2:
        pytest.skip("level-specific case")
    ours, message, _ = _ours(lab, scenario)
    assert _bundled_openssl_with_purpose(lab, scenario) == ours, message
