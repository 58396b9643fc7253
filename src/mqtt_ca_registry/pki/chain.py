"""Device chain validation, deciding as ``openssl verify -purpose sslclient -auth_level N`` does.

Path building, signatures, validity, basicConstraints, path length and critical extensions are
OpenSSL's own verifier (pyOpenSSL ``X509Store``/``X509StoreContext``). pyOpenSSL exposes neither
a purpose nor an auth level, so the two checks it skips are added on the verified chain, in
the order ``X509_verify_cert`` runs them:

1. the leaf key's security level (before anything else, ``X509_V_ERR_EE_KEY_TOO_SMALL``);
2. path building (OpenSSL);
3. per certificate: OpenSSL's extension checks, then the sslclient purpose (:mod:`.purpose`);
4. CA key levels and signature digest levels below the anchor (:mod:`.strength`);
5. signatures and validity times (OpenSSL).

When OpenSSL fails in step 5 on a validity time, the chain is rebuilt without time checks to
find whether step 3 or 4 would have failed first, so the reported reason is OpenSSL's. For
other step-5 failures (bad signature) only the leaf's own purpose and digest can be checked
first, since OpenSSL does not hand back the chain it built (tests/pki/test_chain_agreement.py
pins the cases).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from OpenSSL import crypto

from mqtt_ca_registry.errors import CertificateError
from mqtt_ca_registry.pki.certinfo import CertificateInfo, describe_encoded
from mqtt_ca_registry.pki.chain_policy import (
    Problem,
    leaf_problem,
    policy_problem,
    weak_key_problem,
)
from mqtt_ca_registry.pki.chain_reasons import (
    TIME_ERRORS,
    Phase,
    RejectReason,
    openssl_rejection,
    phase_of,
    subject_of,
)
from mqtt_ca_registry.pki.strength import key_security_bits, min_bits

__all__ = ["ChainDecision", "RejectReason", "TrustStore", "chain_fingerprint"]

logger = logging.getLogger(__name__)

# X509_V_FLAG_NO_CHECK_TIME (x509_vfy.h); pyOpenSSL's X509StoreFlags does not list it.
_NO_CHECK_TIME = 0x200000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
LEAF_FIELD = "device_certificate"
# OpenSSL stores kept per TrustStore: the current second, the untimed one, and a little slack.
_STORES_KEPT = 4


@dataclass(frozen=True)
class ChainDecision:
    """The verdict on one chain: accepted or not, why, and which trust anchor it reached."""

    ok: bool
    reason: RejectReason | None
    message: str
    anchor_key: str | None
    leaf: CertificateInfo | None


def chain_fingerprint(chain: Sequence[x509.Certificate]) -> str:
    """A stable cache key for a chain: SHA-256 over each certificate's length-prefixed DER.

    A cached decision also depends on the verification time, the security level and the set
    of anchors; key the cache on those too.
    """
    digest = hashlib.sha256()
    for cert in chain:
        der = cert.public_bytes(Encoding.DER)
        digest.update(len(der).to_bytes(4, "big"))
        digest.update(der)
    return digest.hexdigest()


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _refuse(reason: RejectReason, message: str, leaf: CertificateInfo | None) -> ChainDecision:
    return ChainDecision(False, reason, message, None, leaf)


class TrustStore:
    """An immutable set of trust anchors (the active CAs of one instance), keyed by CA Sn.

    Build it once per anchor set; :meth:`verify` is then cheap and safe to call from several
    threads at once. An ``X509Store``'s verification time cannot be changed once set and
    OpenSSL keeps it in whole seconds, so one store is built per second of verification time
    (a few are kept) and shared by the verifications at that second, which only read it.
    """

    def __init__(
        self, anchors: Iterable[tuple[str, x509.Certificate]], *, partial_chain: bool = False
    ) -> None:
        """``anchors`` are ``(key, certificate)`` pairs; the key is reported on acceptance.

        With ``partial_chain`` a chain may end at an anchor that is not self-signed (OpenSSL's
        ``-partial_chain``); by default, as with ``openssl verify``, it must reach a root.
        """
        converted: list[crypto.X509] = []
        key_by_der: dict[bytes, str] = {}
        cert_by_der: dict[bytes, x509.Certificate] = {}
        for key, cert in anchors:
            der = cert.public_bytes(Encoding.DER)
            if der not in key_by_der:  # the same certificate twice: the first key wins
                key_by_der[der] = key
                cert_by_der[der] = cert
                converted.append(_openssl_x509(der))
        self._anchors = tuple(converted)
        self._key_by_der = MappingProxyType(key_by_der)
        # The anchors as given: verified chains end in these objects, so what cryptography
        # decodes of an anchor (extensions, key, names) is decoded once, not per verification.
        self._cert_by_der = MappingProxyType(cert_by_der)
        # Anchor subjects for acceptance messages, printed on first use (at most one per anchor;
        # two threads racing both store the same text).
        self._subject_by_der: dict[bytes, str] = {}
        self._flags = crypto.X509StoreFlags.PARTIAL_CHAIN if partial_chain else 0
        # Verification second (None: no time checks) -> the store set to it.
        self._stores: dict[int | None, crypto.X509Store] = {}
        self._stores_lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._anchors)

    @property
    def keys(self) -> tuple[str, ...]:
        """The anchor keys, in insertion order."""
        return tuple(self._key_by_der.values())

    def verify(
        self, chain: Sequence[x509.Certificate], *, now: datetime, security_level: int = 2
    ) -> ChainDecision:
        """Decide ``chain`` (leaf first, then untrusted intermediates) at time ``now``.

        Never raises: an unexpected failure becomes a refusal with reason ``other``.
        """
        try:
            return self._verify(list(chain), _utc(now), security_level)
        except (crypto.Error, ValueError):
            # cryptography decoded it but OpenSSL's stricter decoder refuses it: bad input,
            # not a failure of ours (found by tests/fuzz).
            return _refuse(
                RejectReason.malformed,
                "A certificate in the chain is malformed (OpenSSL cannot decode it); reissue it.",
                None,
            )
        except Exception:
            logger.exception("unexpected failure while verifying a device chain")
            return _refuse(
                RejectReason.other,
                "The certificate chain could not be verified because of an internal error.",
                None,
            )

    def _verify(self, chain: list[x509.Certificate], now: datetime, level: int) -> ChainDecision:
        if not chain:
            return _refuse(
                RejectReason.malformed,
                "No certificate was sent; send the device certificate first, then any "
                "intermediate CA certificates.",
                None,
            )
        sent = _SentChain(chain)
        leaf = sent.leaf
        leaf_info, leaf_error = _describe_leaf(leaf, sent.leaf_der)
        need = min_bits(level)
        if need and key_security_bits(leaf) < need:
            return _refuse(*weak_key_problem(leaf, 0, level, need, is_anchor=False), leaf_info)
        try:
            verified, verified_ders = self._openssl_chain(sent, now)
        except crypto.X509StoreContextError as exc:
            return _refuse(*self._openssl_failure(exc, sent, level), leaf_info)
        problem = policy_problem(verified, level)
        if problem is not None:
            return _refuse(*problem, leaf_info)
        if leaf_error is not None or leaf_info is None:
            message = leaf_error.message if leaf_error else "The device certificate is unreadable."
            return _refuse(RejectReason.malformed, message, None)
        anchor_der = verified_ders[-1]
        return ChainDecision(
            True,
            None,
            f"Accepted: '{leaf_info.subject}' chains to the registered CA "
            f"'{self._anchor_subject(verified[-1], anchor_der)}'.",
            self._key_by_der.get(anchor_der),
            leaf_info,
        )

    def _anchor_subject(self, anchor: x509.Certificate, der: bytes) -> str:
        """``subject_of(anchor)``, remembered for the store's own anchors."""
        subject = self._subject_by_der.get(der)
        if subject is None:
            subject = subject_of(anchor)
            if der in self._key_by_der:
                self._subject_by_der[der] = subject
        return subject

    def _openssl_chain(
        self, sent: _SentChain, now: datetime | None
    ) -> tuple[list[x509.Certificate], list[bytes]]:
        """Run OpenSSL's verifier; ``now=None`` skips validity times. Returns the built chain
        and the DER encoding of each of its certificates."""
        context = crypto.X509StoreContext(
            self._store_at(now),
            _openssl_x509(sent.leaf_der),
            [_openssl_x509(der) for der in sent.intermediate_ders],
        )
        built = context.get_verified_chain()
        # OpenSSL's chain starts with the certificate it was asked to verify, our leaf; the
        # others are sent intermediates or anchors, found by their encoding (what OpenSSL
        # writes out is what it read, which is what cryptography wrote).
        certs, ders = [sent.leaf], [sent.leaf_der]
        for cert in built[1:]:
            der = crypto.dump_certificate(crypto.FILETYPE_ASN1, cert)
            known = self._cert_by_der.get(der)
            if known is None:
                known = sent.intermediate(der)
            certs.append(known if known is not None else x509.load_der_x509_certificate(der))
            ders.append(der)
        return certs, ders

    def _store_at(self, now: datetime | None) -> crypto.X509Store:
        """The anchors in an OpenSSL store set to ``now``, as ``X509Store.set_time`` sets it
        (whole seconds since the epoch); ``None`` turns time checks off."""
        # Whole seconds, floored as calendar.timegm(now.timetuple()) would, in integers.
        second = None if now is None else (now - _EPOCH) // _SECOND
        store = self._stores.get(second)
        if store is not None:
            return store
        store = crypto.X509Store()
        for anchor in self._anchors:
            store.add_cert(anchor)
        flags = self._flags | (_NO_CHECK_TIME if now is None else 0)
        if flags:
            store.set_flags(flags)
        if now is not None:
            store.set_time(now)
        with self._stores_lock:
            while len(self._stores) >= _STORES_KEPT:
                self._stores.pop(next(iter(self._stores)))
            self._stores[second] = store
        return store

    def _openssl_failure(
        self, exc: crypto.X509StoreContextError, sent: _SentChain, level: int
    ) -> Problem:
        code, depth, text = int(exc.errors[0]), int(exc.errors[1]), str(exc.errors[2])
        failing = exc.certificate.to_cryptography()
        phase = phase_of(code)
        leaf = sent.leaf
        earlier: Problem | None = None
        if code in TIME_ERRORS:
            # OpenSSL checks purpose and levels before times: rebuild the chain to look.
            try:
                untimed, _ders = self._openssl_chain(sent, None)
                earlier = policy_problem(untimed, level)
            except crypto.X509StoreContextError:
                earlier = leaf_problem(leaf, level, late=True)
        elif phase is Phase.extensions and depth >= 1:
            earlier = leaf_problem(leaf, level, late=False)
        elif phase is Phase.late:
            earlier = leaf_problem(leaf, level, late=True)
        if earlier is not None:
            return earlier
        is_anchor = failing.public_bytes(Encoding.DER) in self._key_by_der
        return openssl_rejection(code, text, failing, depth, is_anchor=is_anchor)


class _SentChain:
    """The chain as sent (leaf first), each certificate's DER encoded once, when first needed.

    The encoding is what ``X509.from_cryptography`` would hand OpenSSL; the leaf's also gives
    its fingerprint and PEM text.
    """

    __slots__ = ("_ders", "_sent", "leaf", "leaf_der")

    def __init__(self, chain: list[x509.Certificate]) -> None:
        self.leaf = chain[0]
        self.leaf_der = self.leaf.public_bytes(Encoding.DER)
        self._sent = chain[1:]
        self._ders: list[bytes] | None = None

    @property
    def intermediate_ders(self) -> list[bytes]:
        """The intermediates' DER, in the order sent, repeats included."""
        if self._ders is None:
            self._ders = [cert.public_bytes(Encoding.DER) for cert in self._sent]
        return self._ders

    def intermediate(self, der: bytes) -> x509.Certificate | None:
        """The sent intermediate encoded as ``der``, if any."""
        for sent_der, cert in zip(self.intermediate_ders, self._sent, strict=True):
            if sent_der == der:
                return cert
        return None


def _openssl_x509(der: bytes) -> crypto.X509:
    """OpenSSL's copy of a certificate, as ``X509.from_cryptography`` makes it from ``der``."""
    return crypto.load_certificate(crypto.FILETYPE_ASN1, der)


def _describe_leaf(
    leaf: x509.Certificate, der: bytes
) -> tuple[CertificateInfo | None, CertificateError | None]:
    try:
        return describe_encoded(leaf, der, field=LEAF_FIELD), None
    except CertificateError as exc:
        return None, exc
