"""CA registry rules (docs/rules.md "Registering a CA", "CA lifecycle"), for every front end."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from mqtt_ca_registry.ca_certificates.repository import CaRepository, RegistrationCodeRepository
from mqtt_ca_registry.ca_certificates.schemas import CA_NAME_MAX
from mqtt_ca_registry.clock import Clock
from mqtt_ca_registry.config import Settings
from mqtt_ca_registry.db.unit_of_work import Work
from mqtt_ca_registry.errors import (
    ConflictError,
    ErrorCode,
    InvalidInputError,
    NotFoundError,
    Remedy,
)
from mqtt_ca_registry.events.recorder import EventType, new_event
from mqtt_ca_registry.events.repository import EventRepository
from mqtt_ca_registry.instances.service import InstanceService
from mqtt_ca_registry.models import CaBinding, CaBindingStatus, CaCertificate, RegistrationCode
from mqtt_ca_registry.pki.certinfo import CertificateInfo
from mqtt_ca_registry.pki.registration import check_registration
from mqtt_ca_registry.pki.serials import canonical_sn


def new_registration_code() -> str:
    """A UUID and 8 more hex digits (154 random bits), shaped like Alibaba's example codes."""
    return str(uuid.uuid4()) + secrets.token_hex(4)


@dataclass(frozen=True)
class CaView:
    """A binding with its certificate and device count: what every read returns."""

    binding: CaBinding
    certificate: CaCertificate
    device_count: int


@dataclass(frozen=True)
class CaPage:
    items: list[CaView]
    total: int
    has_more: bool


class CaCertificateService:
    def __init__(self, work: Work, clock: Clock, settings: Settings) -> None:
        self.cas = CaRepository(work)
        self.codes = RegistrationCodeRepository(work)
        self.events = EventRepository(work)
        self.instances = InstanceService(work, clock)
        self.clock = clock
        self.settings = settings

    async def _record(self, type_: EventType, instance_id: str, **facts: Any) -> None:
        await self.events.add(new_event(type_, instance_id, occurred_at=self.clock.now(), **facts))

    # -- registration codes --------------------------------------------------------------

    async def issue_registration_code(self, instance_id: str) -> RegistrationCode:
        """A fresh single-use code; the oldest unused ones beyond the bound are dropped."""
        await self.instances.get_for_certificates(instance_id)
        now = self.clock.now()
        ttl = self.settings.registration_code_ttl_seconds
        code = RegistrationCode(
            code=new_registration_code(),
            instance_id=instance_id,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl) if ttl else None,
            used_at=None,
        )
        await self.codes.add(code)
        await self.codes.prune_unused(instance_id, keep=self.settings.max_unused_registration_codes)
        # The code itself is not recorded: it is a bearer credential until used.
        await self._record(EventType.REGISTRATION_CODE_ISSUED, instance_id)
        return code

    # -- registration ----------------------------------------------------------------------

    async def register(
        self, instance_id: str, *, name: str, ca_certificate: str, verification_certificate: str
    ) -> CaView:
        """The ten checks of docs/rules.md in order, then one transaction: code, CA, binding."""
        await self.instances.get_for_certificates(instance_id)  # 1
        _check_name(name)  # 2 (the PEM limits are checked with their content in pki)
        now = self.clock.now()
        evidence = check_registration(  # 3-8
            ca_certificate,
            verification_certificate,
            now=now,
            max_pem_bytes=self.settings.max_pem_bytes,
        )
        code = await self._usable_code(instance_id, evidence.registration_code)  # 9
        ca = evidence.ca
        existing = await self.cas.get_certificate(ca.sn)  # 10
        if existing is not None:
            self._same_certificate_or_conflict(existing, ca)
            if await self.cas.get_binding(instance_id, ca.sn) is not None:
                raise _already_registered(instance_id, ca.sn)
        if not await self.codes.consume(code.code, now=now):
            raise _code_used(code.code)
        certificate = existing or await self._insert_certificate(ca, now)
        binding = CaBinding(
            instance_id=instance_id,
            ca_sn=ca.sn,
            name=name,
            status=CaBindingStatus.ACTIVE.value,
            cascade_generation=0,
            verification_certificate_pem=evidence.verification.pem,
            registration_code=code.code,
            registered_at=now,
            status_changed_at=now,
        )
        if not await self.cas.add_binding(binding):  # a concurrent registration here won
            raise _already_registered(instance_id, ca.sn)
        await self._record(
            EventType.CA_REGISTERED,
            instance_id,
            ca_sn=ca.sn,
            details={"fingerprint_sha256": ca.fingerprint_sha256, "subject": ca.subject},
        )
        return CaView(binding, certificate, 0)

    async def _usable_code(self, instance_id: str, cn: str | None) -> RegistrationCode:
        code = await self.codes.get(cn) if cn else None
        if code is None or code.instance_id != instance_id:
            raise InvalidInputError(
                ErrorCode.REGISTER_CODE_ERROR,
                "The verification certificate's subject CN is not a registration code of "
                f"instance {instance_id!r}.",
                field="verification_certificate",
                remedy=Remedy.GET_REGISTRATION_CODE,
                remedy_args={"instance_id": instance_id},
            )
        if code.used_at is not None:
            raise _code_used(code.code)
        if code.expires_at is not None and self.clock.now() > code.expires_at:
            raise InvalidInputError(
                ErrorCode.REGISTER_CODE_ERROR,
                f"The registration code expired at {code.expires_at.isoformat()}; get a new one.",
                field="verification_certificate",
            )
        return code

    @staticmethod
    def _same_certificate_or_conflict(existing: CaCertificate, ca: CertificateInfo) -> None:
        if existing.fingerprint_sha256 != ca.fingerprint_sha256:
            raise ConflictError(
                ErrorCode.SN_NOT_UNIQUE,
                f"Another CA certificate with serial {ca.sn} is already registered; serial "
                "numbers must be unique. Re-issue your CA with a new serial (-set_serial).",
                field="ca_certificate",
            )

    async def _insert_certificate(self, ca: CertificateInfo, now: object) -> CaCertificate:
        certificate = CaCertificate(
            sn=ca.sn,
            fingerprint_sha256=ca.fingerprint_sha256,
            subject=ca.subject,
            issuer=ca.issuer,
            key_algorithm=ca.key_algorithm,
            key_size=ca.key_size,
            curve=ca.curve,
            not_before=ca.not_before,
            not_after=ca.not_after,
            certificate_pem=ca.pem,
            created_at=now,
        )
        if not await self.cas.add_certificate(certificate):
            # A concurrent registration stored this serial (or fingerprint) first.
            existing = await self.cas.get_certificate(ca.sn)
            if existing is None:
                raise ConflictError(
                    ErrorCode.SN_NOT_UNIQUE,
                    "This CA certificate is already registered under another serial.",
                    field="ca_certificate",
                ) from None
            self._same_certificate_or_conflict(existing, ca)
            return existing
        return certificate

    # -- reads -------------------------------------------------------------------------

    async def get(self, instance_id: str, sn: str) -> CaView:
        await self.instances.get_for_certificates(instance_id)
        found = await self.cas.get_binding(instance_id, canonical_sn(sn, field="sn"))
        if found is None:
            raise ca_not_found(instance_id, sn)
        counts = await self.cas.device_counts([found.binding.id])
        return CaView(found.binding, found.certificate, counts.get(found.binding.id, 0))

    async def list(
        self,
        instance_id: str,
        *,
        sn: str | None = None,
        status: str | None = None,
        after_id: int | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> CaPage:
        """A page of an instance's CAs (keyset with ``after_id``, or ``offset`` for PageNo)."""
        await self.instances.get_for_certificates(instance_id)
        canonical = canonical_sn(sn, field="sn") if sn else None
        rows = await self.cas.page(
            instance_id,
            sn=canonical,
            status=status,
            after_id=after_id,
            limit=limit + 1,
            offset=offset,
        )
        counts = await self.cas.device_counts([row.binding.id for row in rows[:limit]])
        items = [
            CaView(row.binding, row.certificate, counts.get(row.binding.id, 0))
            for row in rows[:limit]
        ]
        total = await self.cas.count(instance_id, sn=canonical, status=status)
        return CaPage(items=items, total=total, has_more=len(rows) > limit)

    # -- lifecycle ---------------------------------------------------------------------

    async def set_status(self, instance_id: str, sn: str, status: CaBindingStatus) -> CaView:
        """Activate or deregister; every device of the CA on this instance follows (O(1))."""
        view = await self.get(instance_id, sn)
        now = self.clock.now()
        if not await self.cas.cascade_status(view.binding, status.value, now=now):
            raise ca_not_found(instance_id, sn)  # deleted by a concurrent request
        event = (
            EventType.CA_ACTIVATED if status is CaBindingStatus.ACTIVE else EventType.CA_DEACTIVATED
        )
        await self._record(event, instance_id, ca_sn=view.certificate.sn)
        return view

    async def delete(self, instance_id: str, sn: str) -> str:
        """Delete the binding and its devices; the CA record goes with its last binding."""
        view = await self.get(instance_id, sn)
        if not await self.cas.delete_binding(view.binding.id):
            raise ca_not_found(instance_id, sn)  # deleted by a concurrent request
        await self.cas.delete_certificates_if_unbound([view.certificate.sn])
        await self._record(EventType.CA_DELETED, instance_id, ca_sn=view.certificate.sn)
        return view.certificate.sn


def _check_name(name: str) -> None:
    if not name or not name.strip() or len(name) > CA_NAME_MAX:
        raise InvalidInputError(
            ErrorCode.INVALID_PARAMETER,
            f"name (CaName) must be 1-{CA_NAME_MAX} characters.",
            field="name",
        )


def _code_used(code: str) -> ConflictError:
    return ConflictError(
        ErrorCode.REGISTER_CODE_USED,
        "This registration code has already been used; each code registers one CA. "
        "Get a new code and make a new verification certificate with it as CN.",
        field="verification_certificate",
    )


def _already_registered(instance_id: str, sn: str) -> ConflictError:
    return ConflictError(
        ErrorCode.CA_ALREADY_REGISTERED,
        f"CA {sn} is already registered on instance {instance_id!r}.",
        field="ca_certificate",
    )


def ca_not_found(instance_id: str, sn: str, *, field: str = "sn") -> NotFoundError:
    """The one CaNotFound error, for CA and device operations alike."""
    return NotFoundError(
        ErrorCode.CA_NOT_FOUND,
        f"No CA certificate with serial {sn!r} is registered on instance {instance_id!r}.",
        field=field,
        remedy=Remedy.LIST_CA_CERTIFICATES,
        remedy_args={"instance_id": instance_id},
    )
