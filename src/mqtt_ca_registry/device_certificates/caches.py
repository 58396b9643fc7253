"""Per-process caches for the authenticate hot path.

Only work that cannot change under us is cached: a trust store built from a given set of CA
certificates, and an accepted chain verification for a given input under a given trust store
(re-checked when the clock leaves the chain's validity window). Status — of the CA binding and of
the device — is never cached: it is read from the database on every call, so a deactivation in
any process takes effect on the very next connect.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from cryptography import x509

from mqtt_ca_registry.pki.chain import ChainDecision, TrustStore

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """A small bounded LRU map (no locking needed: used from one event loop thread)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


@dataclass(frozen=True)
class CachedDecision:
    decision: ChainDecision
    valid_from: datetime  # the latest notBefore in the verified chain
    valid_until: datetime  # the earliest notAfter in the verified chain

    def usable_at(self, now: datetime) -> bool:
        return self.valid_from <= now <= self.valid_until


# A trust store is identified by the exact set of bindings it serves: (CA Sn, binding id) pairs.
AnchorsKey = frozenset[tuple[str, str]]
DecisionKey = tuple[str, str, int]


@dataclass(frozen=True)
class TrustAnchors:
    """An OpenSSL store built once for a set of CA bindings, and the CA certificates in it."""

    store: TrustStore
    certificates: Mapping[str, x509.Certificate]


class AuthenticationCaches:
    """What one server process remembers between authenticate calls."""

    def __init__(self, *, max_stores: int = 256, max_decisions: int = 20_000) -> None:
        self.stores: LruCache[AnchorsKey, TrustAnchors] = LruCache(max_stores)
        # (instance, SHA-256 of the input, security level) -> the anchor set it was decided
        # against, and the decision; used only while that set is still the instance's.
        self.decisions: LruCache[DecisionKey, tuple[AnchorsKey, CachedDecision]] = LruCache(
            max_decisions
        )
