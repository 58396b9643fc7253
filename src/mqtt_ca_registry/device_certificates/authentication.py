"""What the broker does when a device connects: chain decision, then the registry step.

:class:`Authenticator` is the service every front end calls for it: the REST API with the PEM
text a client posts, an MQTT gateway with the DER certificates a TLS client presented. It is
the hot path, shaped by bench/ (see bench/README.md):

* A known device's connect is one SQL statement (:class:`ConnectRepository`: the instance, its
  CA bindings with their status, and the device with its effective status), and no write
  unless ``last_authenticated_at`` is a minute old.
* The chain decision for a given chain is cached per process (keyed by the instance, the
  digest of the chain's DER encodings and the security level, and valid only for the exact set
  of CA certificates it was made against and inside the chain's validity window), so a known
  device is neither parsed nor verified again. Status is never cached: it comes from the
  database on every call, and the device record is always the one under the decision's CA.
* A first connect is one short write transaction: device, PEM and audit event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from mqtt_ca_registry.clock import Clock
from mqtt_ca_registry.config import Settings
from mqtt_ca_registry.device_certificates.caches import (
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
from mqtt_ca_registry.device_certificates.outcomes import (
    CHAIN_FIELD,
    AuthOutcome,
    ConnectReason,
    Registration,
    registration_of,
)
from mqtt_ca_registry.device_certificates.repository import DeviceRow, new_device
from mqtt_ca_registry.errors import CertificateError
from mqtt_ca_registry.events.recorder import EventType, new_event
from mqtt_ca_registry.instances.service import check_certificates_allowed, instance_not_found
from mqtt_ca_registry.models import CaBindingStatus, DeviceStatus
from mqtt_ca_registry.pki.certinfo import CertificateInfo
from mqtt_ca_registry.pki.chain import ChainDecision, RejectReason
from mqtt_ca_registry.pki.pem import EncodedChain, decode_chain, der_chain, der_to_pem, parse_chain

TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class _Attempt:
    """One connect attempt: where, when, over what, and whether it is a connection at all."""

    instance_id: str
    now: datetime
    transport: str
    record_connect: bool


class Authenticator:
    """Decides connect attempts for every front end (see the module docstring)."""

    def __init__(
        self,
        connects: ConnectRepository,
        clock: Clock,
        settings: Settings,
        caches: AuthenticationCaches,
    ) -> None:
        self.connects = connects
        self.clock = clock
        self.settings = settings
        self.caches = caches

    async def authenticate(
        self,
        instance_id: str,
        chain: str | Sequence[bytes],
        *,
        transport: str = "http",
        record_connect: bool = True,
    ) -> AuthOutcome:
        """Decide a connect attempt; auto-registers a valid, unknown device (active).

        ``chain`` is PEM text (or one base64 DER), or the DER certificates a TLS client
        presented, leaf first. ``transport`` is recorded in the audit events ("http", "mqtt").
        ``record_connect=False`` is the explicit registration: same checks, but it is not a
        connection, so ``last_authenticated_at`` is left alone and a refusal is not recorded.
        """
        attempt = _Attempt(instance_id, self.clock.now(), transport, record_connect)
        outcome = await self._decide_and_register(attempt, chain)
        if not outcome.accepted and record_connect:
            await self._record_rejection(attempt, outcome)
        return outcome

    async def register(
        self, instance_id: str, chain: str | Sequence[bytes], *, transport: str = "http"
    ) -> Registration:
        """Register a device explicitly: the checks of a connect, without it being one.

        Raises the domain error of a refusal (:func:`registration_of`).
        """
        outcome = await self.authenticate(
            instance_id, chain, transport=transport, record_connect=False
        )
        return registration_of(outcome)

    def _encoded(self, chain: str | Sequence[bytes]) -> EncodedChain:
        max_bytes = self.settings.max_pem_bytes * self.settings.max_chain_length
        max_count = self.settings.max_chain_length
        if isinstance(chain, str):
            return decode_chain(chain, field=CHAIN_FIELD, max_bytes=max_bytes, max_count=max_count)
        return der_chain(chain, field=CHAIN_FIELD, max_bytes=max_bytes, max_count=max_count)

    async def _decide_and_register(
        self, attempt: _Attempt, presented: str | Sequence[bytes]
    ) -> AuthOutcome:
        try:
            chain = self._encoded(presented)
        except CertificateError:
            await self._view(attempt.instance_id, None)  # an unknown instance is reported first
            raise
        key = (attempt.instance_id, chain_digest(chain.ders), self.settings.security_level)
        cached = self.caches.decisions.get(key)
        hint = cached if cached is not None and cached.usable_at(attempt.now) else None
        view = await self._view(attempt.instance_id, hint)
        anchors: AnchorsKey = frozenset((b.ca_sn, b.ca_fingerprint) for b in view.bindings)
        if hint is not None and hint.anchors == anchors:
            decision = hint.decision
        else:  # not seen, expired, or the instance's CAs changed since: decide afresh
            decision = await self._decide(attempt, anchors, key, chain)
        if not decision.ok:
            reason = ConnectReason.of(decision.reason or RejectReason.other)
            return _rejected(reason, decision.message, None, leaf=decision.leaf)
        assert decision.leaf is not None
        leaf = replace(decision.leaf, pem=der_to_pem(chain.ders[0]))
        binding = next((b for b in view.bindings if b.ca_fingerprint == decision.anchor_key), None)
        if binding is None:  # the anchor's CA was deleted or replaced between two reads
            return _rejected(
                ConnectReason.unknown_issuer,
                "The CA this chain leads to was deleted or replaced while this device "
                "connected; connect again.",
                None,
                leaf=leaf,
            )
        if binding.ca_status != CaBindingStatus.ACTIVE:
            return _rejected(
                ConnectReason.ca_inactive,
                f"The CA {binding.ca_sn} that issued this chain is deregistered (inactive) on "
                f"instance {attempt.instance_id!r}; activate it to let its devices connect.",
                binding.ca_sn,
                leaf=leaf,
            )
        # The device read with the view is the one under the CA the hint named; it is this
        # decision's device only if the decision names the same CA (the CAs may have changed).
        if view.device is not None and view.device.ca_sn == binding.ca_sn:
            return await self._known(attempt, view.device, leaf)
        # Not seen in the read (or not looked for: a decision just made). Register it; if it
        # was there after all, _first_connect decides it as known.
        return await self._first_connect(attempt, binding, leaf)

    async def _view(self, instance_id: str, hint: CachedDecision | None) -> ConnectView:
        """One read: the instance, its bindings, and the device the hint names (if any)."""
        leaf = hint.decision.leaf if hint is not None else None
        view = await self.connects.view(
            instance_id,
            hint.anchor_sn if hint is not None else None,
            leaf.sn if leaf is not None else None,
        )
        if view is None:
            raise instance_not_found(instance_id)
        check_certificates_allowed(instance_id, view.edition)
        return view

    async def _decide(
        self, attempt: _Attempt, anchors_key: AnchorsKey, key: DecisionKey, chain: EncodedChain
    ) -> ChainDecision:
        """Parse and verify the chain against the instance's CAs; cache an acceptance."""
        certificates = parse_chain(chain, field=CHAIN_FIELD)
        anchors = self.caches.stores.get(anchors_key)
        if anchors is None:
            # Keyed by what this read finds, not by what the view found before it: a store
            # (and a decision cached with it) serves only while the CAs are exactly these.
            anchors = TrustAnchors.build(await self.connects.anchors(attempt.instance_id))
            self.caches.stores.put(anchors.key, anchors, anchors.size)
        decision = anchors.store.verify(
            certificates, now=attempt.now, security_level=self.settings.security_level
        )
        if decision.ok and decision.anchor_key is not None:
            anchor_sn, anchor = anchors.certificates[decision.anchor_key]
            entry = CachedDecision.of(decision, anchors.key, anchor_sn, [*certificates, anchor])
            self.caches.decisions.put(key, entry, entry.size)
        return decision

    async def _record_rejection(self, attempt: _Attempt, outcome: AuthOutcome) -> None:
        """Audit a refused connect: reason, and the leaf's fingerprint and subject only."""
        leaf = outcome.leaf
        details: dict[str, object] = {
            "reason_code": outcome.reason.value,
            "transport": attempt.transport,
        }
        if leaf is not None:
            details |= {"fingerprint_sha256": leaf.fingerprint_sha256, "subject": leaf.subject}
        event = new_event(
            EventType.AUTHENTICATION_REJECTED,
            attempt.instance_id,
            occurred_at=self.clock.now(),
            outcome="rejected",
            ca_sn=outcome.ca_sn,
            device_sn=leaf.sn if leaf else None,
            details=details,
        )
        await self.connects.record(event)

    async def _known(
        self, attempt: _Attempt, device: DeviceRow, leaf: CertificateInfo
    ) -> AuthOutcome:
        if device.fingerprint_sha256 != leaf.fingerprint_sha256:
            return _rejected(
                ConnectReason.serial_conflict,
                f"Another certificate with serial {leaf.sn} is registered under CA "
                f"{device.ca_sn}; device serials must be unique per CA. Reissue the device "
                "certificate with a new serial, or delete the registered one.",
                device.ca_sn,
                device,
                leaf=leaf,
            )
        if device.status != DeviceStatus.ACTIVE:
            return _rejected(
                ConnectReason.device_inactive,
                f"Device certificate {device.device_sn} is inactive; activate it to connect.",
                device.ca_sn,
                device,
                leaf=leaf,
            )
        now, last = attempt.now, device.last_authenticated_at
        if attempt.record_connect and (last is None or last < now - TOUCH_INTERVAL):
            await self.connects.touch(device.id, now, older_than=now - TOUCH_INTERVAL)
            device = device._replace(last_authenticated_at=now)
        return AuthOutcome(
            True, ConnectReason.accepted, "The broker accepts this device.", False, device,
            device.ca_sn,
        )  # fmt: skip

    async def _first_connect(
        self, attempt: _Attempt, binding: BindingState, leaf: CertificateInfo
    ) -> AuthOutcome:
        values = new_device(
            binding_id=binding.binding_id,
            instance_id=binding.instance_id,
            leaf=leaf,
            cascade_generation=binding.cascade_generation,
            now=attempt.now,
            connected=attempt.record_connect,
        )
        event = new_event(
            EventType.DEVICE_AUTO_REGISTERED
            if attempt.record_connect
            else EventType.DEVICE_REGISTERED,
            binding.instance_id,
            occurred_at=self.clock.now(),
            ca_sn=binding.ca_sn,
            device_sn=leaf.sn,
            details={
                "fingerprint_sha256": leaf.fingerprint_sha256,
                "subject": leaf.subject,
                "transport": attempt.transport,
            },
        )
        try:
            row = await self.connects.register(binding, values, leaf.pem, event)
            existing = None if row is not None else await self.connects.device(binding, leaf.sn)
        except IntegrityError:  # the CA binding was deleted between our read and this write
            row = existing = None
        if row is not None:
            return AuthOutcome(
                True,
                ConnectReason.auto_registered,
                "The broker accepts this device and registered its certificate (first connect).",
                True,
                row,
                binding.ca_sn,
            )
        if existing is not None:  # registered already (concurrently, or before this process)
            return await self._known(attempt, existing, leaf)
        return _rejected(
            ConnectReason.unknown_issuer,
            "The issuing CA was deleted while this device connected.",
            binding.ca_sn,
            leaf=leaf,
        )


def _rejected(
    reason: ConnectReason,
    message: str,
    ca_sn: str | None,
    row: DeviceRow | None = None,
    *,
    leaf: CertificateInfo | None = None,
) -> AuthOutcome:
    return AuthOutcome(False, reason, message, False, row, ca_sn, leaf)
