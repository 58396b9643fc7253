"""Per-process caches for the authenticate hot path.

Only work that cannot change under us is cached: a trust store built from a given set of CA
certificates, and an accepted chain verification for a given chain under a given trust store
(re-checked when the clock leaves the chain's validity window). Status — of the CA binding and of
the device — is never cached: it is read from the database on every call, so a deactivation in
any process takes effect on the very next connect.

Keys name content, never storage: a trust store by the SHA-256 fingerprints of its CA
certificates (a row id can be reused by SQLite for another CA after a delete), a decision by the
digest of the chain's DER encodings (so the spellings of one chain in PEM text are one entry).
Each cache is bounded by an estimate of the bytes its entries hold, not by their count: one
certificate can be half a megabyte.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Generic, TypeVar

from cryptography import x509

from mqtt_ca_registry.pki.chain import ChainDecision, TrustStore

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# What a cache entry costs beyond the bytes counted for it (objects, dict slots, the key).
ENTRY_OVERHEAD = 1024
# Per cache. A trust store keeps each CA certificate a few times (cryptography's and OpenSSL's
# copies, one OpenSSL store per second of verification time), hence the factor below.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
STORE_BYTES_PER_DER_BYTE = 8


class ByteBoundedLru(Generic[K, V]):
    """An LRU map bounded by the bytes its entries are said to hold (one event loop: no lock)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._data: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def get(self, key: K) -> V | None:
        found = self._data.get(key)
        if found is None:
            return None
        self._data.move_to_end(key)
        value, _size = found
        return value

    def put(self, key: K, value: V, size: int) -> None:
        """Keep ``value`` (about ``size`` bytes), dropping the least recently used to fit."""
        self.discard(key)
        size += ENTRY_OVERHEAD
        if size > self.max_bytes:
            return  # larger than the whole cache: not worth evicting everything for
        self._data[key] = (value, size)
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, (_, dropped) = self._data.popitem(last=False)
            self.bytes -= dropped

    def discard(self, key: K) -> None:
        found = self._data.pop(key, None)
        if found is not None:
            _value, size = found
            self.bytes -= size

    def __len__(self) -> int:
        return len(self._data)


def chain_digest(ders: Sequence[bytes]) -> bytes:
    """SHA-256 over each certificate's length-prefixed DER: the chain, whatever its spelling."""
    digest = hashlib.sha256()
    for der in ders:
        digest.update(len(der).to_bytes(4, "big"))
        digest.update(der)
    return digest.digest()


# A trust store is identified by the CA certificates it holds: (CA Sn, SHA-256 fingerprint).
AnchorsKey = frozenset[tuple[str, str]]
# (instance, chain digest, security level)
DecisionKey = tuple[str, bytes, int]


@dataclass(frozen=True)
class CachedDecision:
    """An accepted decision, without the leaf's PEM (the request carries the leaf's DER)."""

    decision: ChainDecision
    anchors: AnchorsKey  # the CA certificates it was made against: valid only while the same
    anchor_sn: str  # the Sn of the CA it chains to, to find the device in the same read
    valid_from: datetime  # the latest notBefore in the verified chain
    valid_until: datetime  # the earliest notAfter in the verified chain

    def usable_at(self, now: datetime) -> bool:
        return self.valid_from <= now <= self.valid_until

    @classmethod
    def of(
        cls,
        decision: ChainDecision,
        anchors: AnchorsKey,
        anchor_sn: str,
        path: Sequence[x509.Certificate],
    ) -> CachedDecision:
        """The entry for ``decision``, valid while every certificate of ``path`` is."""
        slim = replace(decision, leaf=replace(decision.leaf, pem="")) if decision.leaf else decision
        return cls(
            decision=slim,
            anchors=anchors,
            anchor_sn=anchor_sn,
            valid_from=max(c.not_valid_before_utc for c in path),
            valid_until=min(c.not_valid_after_utc for c in path),
        )

    @property
    def size(self) -> int:
        leaf = self.decision.leaf
        text = len(self.decision.message) + sum(len(sn) + 64 for sn, _ in self.anchors)
        if leaf is not None:
            text += len(leaf.sn) + len(leaf.subject) + len(leaf.issuer)
            text += len(leaf.common_name or "") + len(leaf.fingerprint_sha256)
        return 4 * text  # a str keeps up to 4 bytes per character


@dataclass(frozen=True)
class TrustAnchors:
    """An OpenSSL store built once for a set of CA certificates, keyed in it by fingerprint."""

    key: AnchorsKey
    store: TrustStore
    certificates: Mapping[str, tuple[str, x509.Certificate]]  # fingerprint -> (Sn, CA)
    size: int

    @classmethod
    def build(cls, cas: Iterable[tuple[str, str, str]]) -> TrustAnchors:
        """The store of these CA certificates: (Sn, SHA-256 fingerprint, PEM) each."""
        certificates: dict[str, tuple[str, x509.Certificate]] = {}
        size = 0
        for sn, fingerprint, pem in cas:
            certificates[fingerprint] = (sn, x509.load_pem_x509_certificate(pem.encode()))
            size += len(pem) * STORE_BYTES_PER_DER_BYTE
        # A registered CA is a trust anchor even when it is an intermediate (not self-signed).
        store = TrustStore([(f, ca) for f, (_, ca) in certificates.items()], partial_chain=True)
        key = frozenset((sn, fingerprint) for fingerprint, (sn, _) in certificates.items())
        return cls(key, store, certificates, size)


class AuthenticationCaches:
    """What one server process remembers between authenticate calls."""

    def __init__(
        self,
        *,
        max_store_bytes: int = DEFAULT_MAX_BYTES,
        max_decision_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.stores: ByteBoundedLru[AnchorsKey, TrustAnchors] = ByteBoundedLru(max_store_bytes)
        # Used only while the instance's CA certificates are still those it was made against.
        self.decisions: ByteBoundedLru[DecisionKey, CachedDecision] = ByteBoundedLru(
            max_decision_bytes
        )
