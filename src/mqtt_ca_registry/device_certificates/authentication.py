"""What the broker does when a device connects: chain decision, then the registry step.

This is the hot path, shaped by bench/ (see the README's performance section):

* A known device's connect is one SQL statement (:class:`ConnectRepository`: the instance, its
  CA bindings with their status, and the device with its effective status), compiled once and
  run on the driver connection, and no write unless ``last_authenticated_at`` is a minute old.
* The chain decision for a given chain is cached per process (keyed by the instance, the
  digest of the chain's DER encodings and the security level, and valid only for the exact set
  of CA certificates it was made against and inside the chain's validity window), so a known
  device is neither parsed nor verified again. Status is never cached: it comes from the
  database on every call, and the device record is always the one under the decision's CA.
* A first connect is one short write transaction: device, PEM and audit event.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from cryptography import x509
from sqlalchemy.exc import IntegrityError

from mqtt_ca_registry.clock import Clock
from mqtt_ca_registry.config import Settings
from mqtt_ca_registry.db.session import Database
from mqtt_ca_registry.device_certificates.caches import (
    STORE_BYTES_PER_DER_BYTE,
    AnchorsKey,
    AuthenticationCaches,
    CachedDecision,
    DecisionKey,
    TrustAnchors,
    chain_digest,
)
from mqtt_ca_registry.device_certificates.connect_repository import (
    BindingState,
    ConnectRepository,
    ConnectView,
)
from mqtt_ca_registry.device_certificates.repository import DeviceRow, new_device
from mqtt_ca_registry.errors import CertificateError
from mqtt_ca_registry.events.recorder import EventType, new_event
from mqtt_ca_registry.instances.service import CERTIFICATE_EDITIONS, InstanceService
from mqtt_ca_registry.models import CaBindingStatus
from mqtt_ca_registry.pki.certinfo import CertificateInfo
from mqtt_ca_registry.pki.chain import ChainDecision, RejectReason, TrustStore
from mqtt_ca_registry.pki.pem import EncodedChain, decode_chain, der_to_pem, parse_chain

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
        self.connects = ConnectRepository(database.dispatch)
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
        try:
            chain = decode_chain(
                chain_text,
                field="certificate_chain",
                max_bytes=self.settings.max_pem_bytes * self.settings.max_chain_length,
                max_count=self.settings.max_chain_length,
            )
        except CertificateError:
            await self._view(instance_id, None)  # an unknown instance is reported first
            raise
        cache_key = (instance_id, chain_digest(chain.ders), self.settings.security_level)
        cached = self.caches.decisions.get(cache_key)
        hint = cached if cached is not None and cached.usable_at(now) else None
        view = await self._view(instance_id, hint)
        anchors_key: AnchorsKey = frozenset((b.ca_sn, b.ca_fingerprint) for b in view.bindings)
        if hint is not None and hint.anchors == anchors_key:
            decision = hint.decision
        else:  # not seen, expired, or the instance's CAs changed since: decide afresh
            decision = await self._decide(instance_id, anchors_key, cache_key, chain, now)
        if not decision.ok:
            return _rejected(
                decision.reason or RejectReason.other, decision.message, None, leaf=decision.leaf
            )
        assert decision.leaf is not None
        leaf = replace(decision.leaf, pem=der_to_pem(chain.ders[0]))
        binding = next((b for b in view.bindings if b.ca_fingerprint == decision.anchor_key), None)
        if binding is None:  # the anchor's CA was deleted or replaced between two reads
            return _rejected(
                RejectReason.unknown_issuer,
                "The CA this chain leads to was deleted or replaced while this device "
                "connected; connect again.",
                None,
                leaf=leaf,
            )
        if binding.ca_status != CaBindingStatus.ACTIVE:
            return _rejected(
                RejectReason.ca_inactive,
                f"The CA {binding.ca_sn} that issued this chain is deregistered (inactive) on "
                f"instance {instance_id!r}; activate it to let its devices connect.",
                binding.ca_sn,
                leaf=leaf,
            )
        # The device read with the view is the one under the CA the hint named; it is this
        # decision's device only if the decision names the same CA (the CAs may have changed).
        if view.device is not None and view.device.ca_sn == binding.ca_sn:
            return await self._known(view.device, leaf, now, record_connect)
        # Not seen in the read (or not looked for: a decision just made). Register it; if it
        # was there after all, _first_connect decides it as known.
        return await self._first_connect(binding, leaf, now, record_connect)

    async def _view(self, instance_id: str, hint: CachedDecision | None) -> ConnectView:
        """One read: the instance, its bindings, and the device the hint names (if any)."""
        leaf = hint.decision.leaf if hint is not None else None
        while True:
            view = await self.connects.view(
                instance_id,
                hint.anchor_sn if hint is not None else None,
                leaf.sn if leaf is not None else None,
            )
            if view is not None and view.edition in CERTIFICATE_EDITIONS:
                return view
            # Rare: let the instance service raise its documented error. If it finds nothing
            # to object to, the instance was created between the two reads: read again.
            async with self.database.session() as session:
                await InstanceService(session, self.clock).get_for_certificates(instance_id)

    async def _decide(
        self,
        instance_id: str,
        anchors_key: AnchorsKey,
        cache_key: DecisionKey,
        chain: EncodedChain,
        now: datetime,
    ) -> ChainDecision:
        """Parse and verify the chain against the instance's CAs; cache an acceptance."""
        certificates = parse_chain(chain, field="certificate_chain")
        anchors = self.caches.stores.get(anchors_key) or await self._trust_anchors(instance_id)
        decision = anchors.store.verify(
            certificates, now=now, security_level=self.settings.security_level
        )
        if decision.ok and decision.anchor_key is not None:
            anchor_sn, anchor = anchors.certificates[decision.anchor_key]
            entry = CachedDecision.of(decision, anchors.key, anchor_sn, [*certificates, anchor])
            self.caches.decisions.put(cache_key, entry, entry.size)
        return decision

    async def _trust_anchors(self, instance_id: str) -> TrustAnchors:
        """A store of the instance's CA certificates, keyed in it by their fingerprints.

        Keyed by what this read found, not by what the view found before it: a store (and a
        decision cached with it) is used only while the instance's CAs are exactly these.
        """
        rows = await self.connects.anchors(instance_id)
        key: AnchorsKey = frozenset((row.sn, row.fingerprint_sha256) for row in rows)
        certificates = {
            row.fingerprint_sha256: (
                row.sn,
                x509.load_pem_x509_certificate(row.certificate_pem.encode()),
            )
            for row in rows
        }
        # A registered CA is a trust anchor even when it is an intermediate (not self-signed).
        store = TrustStore([(f, c) for f, (_, c) in certificates.items()], partial_chain=True)
        size = sum(len(row.certificate_pem) for row in rows) * STORE_BYTES_PER_DER_BYTE
        anchors = TrustAnchors(key, store, certificates, size)
        self.caches.stores.put(key, anchors, anchors.size)
        return anchors

    async def _record_rejection(self, instance_id: str, outcome: AuthOutcome) -> None:
        """Audit a refused connect: reason, and the leaf's fingerprint and subject only."""
        leaf = outcome.leaf
        details: dict[str, object] = {"reason_code": outcome.reason_code}
        if leaf is not None:
            details |= {"fingerprint_sha256": leaf.fingerprint_sha256, "subject": leaf.subject}
        event = new_event(
            EventType.AUTHENTICATION_REJECTED,
            instance_id,
            occurred_at=self.clock.now(),
            outcome="rejected",
            ca_sn=outcome.ca_sn,
            device_sn=leaf.sn if leaf else None,
            details=details,
        )
        await self.connects.record(event)

    async def _known(
        self, device: DeviceRow, leaf: CertificateInfo, now: datetime, record_connect: bool
    ) -> AuthOutcome:
        if device.fingerprint_sha256 != leaf.fingerprint_sha256:
            return _rejected(
                RejectReason.serial_conflict,
                f"Another certificate with serial {leaf.sn} is registered under CA "
                f"{device.ca_sn}; device serials must be unique per CA. Reissue the device "
                "certificate with a new serial, or delete the registered one.",
                device.ca_sn,
                device,
                leaf=leaf,
            )
        if device.status != CaBindingStatus.ACTIVE:
            return _rejected(
                RejectReason.device_inactive,
                f"Device certificate {device.device_sn} is inactive; activate it to connect.",
                device.ca_sn,
                device,
                leaf=leaf,
            )
        last = device.last_authenticated_at
        if record_connect and (last is None or last < now - TOUCH_INTERVAL):
            await self.connects.touch(device.id, now, older_than=now - TOUCH_INTERVAL)
            device = device._replace(last_authenticated_at=now)
        return AuthOutcome(
            True, "accepted", "The broker accepts this device.", False, device, device.ca_sn
        )

    async def _first_connect(
        self, binding: BindingState, leaf: CertificateInfo, now: datetime, record_connect: bool
    ) -> AuthOutcome:
        values = new_device(
            binding_id=binding.binding_id,
            instance_id=binding.instance_id,
            leaf=leaf,
            cascade_generation=binding.cascade_generation,
            now=now,
            connected=record_connect,
        )
        event = new_event(
            EventType.DEVICE_AUTO_REGISTERED if record_connect else EventType.DEVICE_REGISTERED,
            binding.instance_id,
            occurred_at=self.clock.now(),
            ca_sn=binding.ca_sn,
            device_sn=leaf.sn,
            details={"fingerprint_sha256": leaf.fingerprint_sha256, "subject": leaf.subject},
        )
        try:
            row = await self.connects.register(binding, values, leaf.pem, event)
            existing = None if row is not None else await self.connects.device(binding, leaf.sn)
        except IntegrityError:  # the CA binding was deleted between our read and this write
            row = existing = None
        if row is not None:
            return AuthOutcome(
                True,
                "auto_registered",
                "The broker accepts this device and registered its certificate (first connect).",
                True,
                row,
                binding.ca_sn,
            )
        if existing is not None:  # registered already (concurrently, or before this process)
            return await self._known(existing, leaf, now, record_connect)
        return _rejected(
            RejectReason.unknown_issuer,
            "The issuing CA was deleted while this device connected.",
            binding.ca_sn,
            leaf=leaf,
        )


def _rejected(
    reason: RejectReason,
    message: str,
    ca_sn: str | None,
    row: DeviceRow | None = None,
    *,
    leaf: CertificateInfo | None = None,
) -> AuthOutcome:
    return AuthOutcome(False, reason.value, message, False, row, ca_sn, leaf)
