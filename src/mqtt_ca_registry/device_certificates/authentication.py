"""What the broker does when a device connects: chain decision, then the registry step.

This is the hot path. It opens its own short transactions instead of one per request: a
read-only one for the usual case (known, active device), and a write one only to auto-register
a device or to record its last authentication (at most once a minute). On SQLite that keeps
connects from queueing behind the write lock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mqtt_ca_registry.clock import Clock
from mqtt_ca_registry.config import Settings
from mqtt_ca_registry.db.session import Database
from mqtt_ca_registry.device_certificates.caches import (
    AnchorsKey,
    AuthenticationCaches,
    CachedDecision,
    TrustAnchors,
)
from mqtt_ca_registry.device_certificates.repository import DeviceRepository, DeviceRow
from mqtt_ca_registry.events.recorder import EventType, record
from mqtt_ca_registry.instances.service import InstanceService
from mqtt_ca_registry.models import CaBinding, CaBindingStatus, CaCertificate
from mqtt_ca_registry.pki.certinfo import CertificateInfo
from mqtt_ca_registry.pki.chain import ChainDecision, RejectReason, TrustStore
from mqtt_ca_registry.pki.pem import load_certificates

TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class AuthOutcome:
    """A decision plus the device record it concerns (if any)."""

    accepted: bool
    reason_code: str
    reason: str
    auto_registered: bool
    device: DeviceRow | None
    ca_sn: str | None
    leaf: CertificateInfo | None = None


class Authenticator:
    def __init__(
        self, database: Database, clock: Clock, settings: Settings, caches: AuthenticationCaches
    ) -> None:
        self.database = database
        self.clock = clock
        self.settings = settings
        self.caches = caches

    async def authenticate(
        self, instance_id: str, chain_text: str, *, record_connect: bool = True
    ) -> AuthOutcome:
        """Decide a connect attempt; auto-registers a valid, unknown device (active).

        ``record_connect=False`` is the explicit registration: same checks, but it is not a
        connection, so ``last_authenticated_at`` is left alone.
        """
        now = self.clock.now()
        outcome = await self._decide_and_register(instance_id, chain_text, now, record_connect)
        if not outcome.accepted and record_connect:
            await self._record_rejection(instance_id, outcome)
        return outcome

    async def _decide_and_register(
        self, instance_id: str, chain_text: str, now: datetime, record_connect: bool
    ) -> AuthOutcome:
        async with self.database.session() as session:
            await InstanceService(session, self.clock).get_for_certificates(instance_id)
            repository = DeviceRepository(session)
            bindings = await repository.bindings_of(instance_id)
            decision = await self._decide(session, bindings, chain_text, now)
            if not decision.ok:
                return _rejected(
                    decision.reason or RejectReason.other,
                    decision.message,
                    None,
                    leaf=decision.leaf,
                )
            binding = next(b for b in bindings if b.ca_sn == decision.anchor_key)
            if binding.status != CaBindingStatus.ACTIVE:
                return _rejected(
                    RejectReason.ca_inactive,
                    f"The CA {binding.ca_sn} that issued this chain is deregistered (inactive) on "
                    f"instance {instance_id!r}; activate it to let its devices connect.",
                    binding.ca_sn,
                    leaf=decision.leaf,
                )
            assert decision.leaf is not None
            existing = await repository.get(binding.id, decision.leaf.sn)
        if existing is not None:
            return await self._known(existing, decision.leaf, now, record_connect)
        return await self._first_connect(binding, decision.leaf, now, record_connect)

    async def _decide(
        self,
        session: AsyncSession,
        bindings: Sequence[CaBinding],
        chain_text: str,
        now: datetime,
    ) -> ChainDecision:
        anchors_key: AnchorsKey = frozenset((b.ca_sn, str(b.id)) for b in bindings)
        digest = hashlib.sha256(chain_text.encode("utf-8", "surrogatepass")).hexdigest()
        cache_key = (anchors_key, digest, self.settings.security_level)
        cached = self.caches.decisions.get(cache_key)
        if cached is not None and cached.usable_at(now):
            return cached.decision
        chain = load_certificates(
            chain_text,
            field="certificate_chain",
            max_bytes=self.settings.max_pem_bytes * self.settings.max_chain_length,
            max_count=self.settings.max_chain_length,
        )
        anchors = await self._trust_anchors(session, anchors_key)
        decision = anchors.store.verify(chain, now=now, security_level=self.settings.security_level)
        if decision.ok:
            self.caches.decisions.put(cache_key, _cacheable(decision, chain, anchors))
        return decision

    async def _trust_anchors(self, session: AsyncSession, key: AnchorsKey) -> TrustAnchors:
        cached = self.caches.stores.get(key)
        if cached is not None:
            return cached
        sns = [sn for sn, _ in key]
        rows = (await session.scalars(select(CaCertificate).where(CaCertificate.sn.in_(sns)))).all()
        certificates = {
            row.sn: x509.load_pem_x509_certificate(row.certificate_pem.encode()) for row in rows
        }
        # A registered CA is a trust anchor even when it is an intermediate (not self-signed).
        store = TrustStore(list(certificates.items()), partial_chain=True)
        anchors = TrustAnchors(store, certificates)
        self.caches.stores.put(key, anchors)
        return anchors

    async def _record_rejection(self, instance_id: str, outcome: AuthOutcome) -> None:
        """Audit a refused connect: reason, and the leaf's fingerprint and subject only."""
        leaf = outcome.leaf
        details: dict[str, object] = {"reason_code": outcome.reason_code}
        if leaf is not None:
            details |= {"fingerprint_sha256": leaf.fingerprint_sha256, "subject": leaf.subject}
        async with self.database.session(write=True) as session:
            await record(
                session,
                self.clock,
                EventType.AUTHENTICATION_REJECTED,
                instance_id,
                outcome="rejected",
                ca_sn=outcome.ca_sn,
                device_sn=leaf.sn if leaf else None,
                details=details,
            )

    async def _known(
        self, row: DeviceRow, leaf: CertificateInfo, now: datetime, record_connect: bool
    ) -> AuthOutcome:
        device, ca_sn, status = row
        if device.fingerprint_sha256 != leaf.fingerprint_sha256:
            return _rejected(
                RejectReason.serial_conflict,
                f"Another certificate with serial {leaf.sn} is registered under CA {ca_sn}; "
                "device serials must be unique per CA. Reissue the device certificate with a "
                "new serial, or delete the registered one.",
                ca_sn,
                row,
                leaf=leaf,
            )
        if status != CaBindingStatus.ACTIVE:
            return _rejected(
                RejectReason.device_inactive,
                f"Device certificate {device.device_sn} is inactive; activate it to connect.",
                ca_sn,
                row,
                leaf=leaf,
            )
        last = device.last_authenticated_at
        if record_connect and (last is None or last < now - TOUCH_INTERVAL):
            async with self.database.session(write=True) as session:
                await DeviceRepository(session).touch(
                    device.id, now, older_than=now - TOUCH_INTERVAL
                )
            device.last_authenticated_at = now
        return AuthOutcome(True, "accepted", "The broker accepts this device.", False, row, ca_sn)

    async def _first_connect(
        self, binding: CaBinding, leaf: CertificateInfo, now: datetime, record_connect: bool
    ) -> AuthOutcome:
        try:
            device_id, row = await self._insert_device(binding, leaf, now, record_connect)
        except IntegrityError:  # the CA binding was deleted between our read and this write
            device_id, row = None, None
        if row is None:
            return _rejected(
                RejectReason.unknown_issuer,
                "The issuing CA was deleted while this device connected.",
                binding.ca_sn,
                leaf=leaf,
            )
        if device_id is None:  # a concurrent first connect registered it: decide as known
            return await self._known(row, leaf, now, record_connect)
        return AuthOutcome(
            True,
            "auto_registered",
            "The broker accepts this device and registered its certificate (first connect).",
            True,
            row,
            binding.ca_sn,
        )

    async def _insert_device(
        self, binding: CaBinding, leaf: CertificateInfo, now: datetime, record_connect: bool
    ) -> tuple[int | None, DeviceRow | None]:
        """Insert unless present (ON CONFLICT DO NOTHING); the new id (or None) and the row."""
        async with self.database.session(write=True) as session:
            repository = DeviceRepository(session)
            device_id = await repository.insert_if_absent(
                {
                    "binding_id": binding.id,
                    "instance_id": binding.instance_id,
                    "device_sn": leaf.sn,
                    "device_name": leaf.common_name,
                    "fingerprint_sha256": leaf.fingerprint_sha256,
                    "subject": leaf.subject,
                    "not_before": leaf.not_before,
                    "not_after": leaf.not_after,
                    "status": CaBindingStatus.ACTIVE.value,
                    "status_generation": binding.cascade_generation,
                    "registered_at": now,
                    "last_authenticated_at": now if record_connect else None,
                },
                leaf.pem,
            )
            row = await repository.get(binding.id, leaf.sn)
            if device_id is not None:
                await record(
                    session,
                    self.clock,
                    EventType.DEVICE_AUTO_REGISTERED
                    if record_connect
                    else EventType.DEVICE_REGISTERED,
                    binding.instance_id,
                    ca_sn=binding.ca_sn,
                    device_sn=leaf.sn,
                    details={
                        "fingerprint_sha256": leaf.fingerprint_sha256,
                        "subject": leaf.subject,
                    },
                )
        return device_id, row


def _rejected(
    reason: RejectReason,
    message: str,
    ca_sn: str | None,
    row: DeviceRow | None = None,
    *,
    leaf: CertificateInfo | None = None,
) -> AuthOutcome:
    return AuthOutcome(False, reason.value, message, False, row, ca_sn, leaf)


def _cacheable(
    decision: ChainDecision, chain: list[x509.Certificate], anchors: TrustAnchors
) -> CachedDecision:
    # The decision holds while every certificate of the verified path, anchor included, is valid.
    path = [*chain]
    anchor = anchors.certificates.get(decision.anchor_key or "")
    if anchor is not None:
        path.append(anchor)
    return CachedDecision(
        decision=decision,
        valid_from=max(c.not_valid_before_utc for c in path),
        valid_until=min(c.not_valid_after_utc for c in path),
    )
