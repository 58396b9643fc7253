"""All SQL about registration codes, CA certificates and their bindings to instances."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mqtt_ca_registry.db.unit_of_work import Repository, query
from mqtt_ca_registry.models import CaBinding, CaCertificate, DeviceCertificate, RegistrationCode


class BoundCa(NamedTuple):
    """A CA certificate as bound to one instance."""

    binding: CaBinding
    certificate: CaCertificate


def delete_unbound_certificates(session: Session, sns: Sequence[str]) -> None:
    """Delete the CA records among ``sns`` that no binding holds: they go with their last one."""
    if not sns:
        return
    still_bound = select(CaBinding.ca_sn).where(CaBinding.ca_sn.in_(sns))
    session.execute(
        delete(CaCertificate).where(CaCertificate.sn.in_(sns), CaCertificate.sn.not_in(still_bound))
    )


def _changed_one(result: object) -> bool:
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


class RegistrationCodeRepository(Repository):
    @query
    def add(self, session: Session, code: RegistrationCode) -> None:
        session.add(code)
        session.flush()

    @query
    def get(self, session: Session, code: str) -> RegistrationCode | None:
        return session.scalar(select(RegistrationCode).where(RegistrationCode.code == code))

    @query
    def prune_unused(self, session: Session, instance_id: str, *, keep: int) -> None:
        """Delete the oldest unused codes of an instance beyond the newest ``keep``."""
        newest = (
            select(RegistrationCode.id)
            .where(RegistrationCode.instance_id == instance_id, RegistrationCode.used_at.is_(None))
            .order_by(RegistrationCode.id.desc())
            .limit(keep)
        )
        session.execute(
            delete(RegistrationCode).where(
                RegistrationCode.instance_id == instance_id,
                RegistrationCode.used_at.is_(None),
                RegistrationCode.id.not_in(newest),
            )
        )

    @query
    def consume(self, session: Session, code: str, *, now: datetime) -> bool:
        """Mark a code used. False if it was already used (by a concurrent registration too)."""
        return _changed_one(
            session.execute(
                update(RegistrationCode)
                .where(RegistrationCode.code == code, RegistrationCode.used_at.is_(None))
                .values(used_at=now)
            )
        )


class CaRepository(Repository):
    @query
    def get_certificate(self, session: Session, sn: str) -> CaCertificate | None:
        return session.get(CaCertificate, sn)

    @query
    def add_certificate(self, session: Session, certificate: CaCertificate) -> bool:
        """Insert; False if this serial or fingerprint is stored already (a concurrent
        registration stored it first)."""
        try:
            with session.begin_nested():
                session.add(certificate)
        except IntegrityError:
            return False
        return True

    @query
    def add_binding(self, session: Session, binding: CaBinding) -> bool:
        """Insert; False if the CA is bound to the instance already (a concurrent
        registration won)."""
        try:
            with session.begin_nested():
                session.add(binding)
        except IntegrityError:
            return False
        return True

    @query
    def get_binding(self, session: Session, instance_id: str, sn: str) -> BoundCa | None:
        row = session.execute(
            select(CaBinding, CaCertificate)
            .join(CaCertificate, CaCertificate.sn == CaBinding.ca_sn)
            .where(CaBinding.instance_id == instance_id, CaBinding.ca_sn == sn)
        ).first()
        return BoundCa(row.CaBinding, row.CaCertificate) if row else None

    @staticmethod
    def _filtered(instance_id: str, sn: str | None, status: str | None) -> Any:
        statement = select(CaBinding, CaCertificate).join(
            CaCertificate, CaCertificate.sn == CaBinding.ca_sn
        )
        statement = statement.where(CaBinding.instance_id == instance_id)
        if sn is not None:
            statement = statement.where(CaBinding.ca_sn == sn)
        if status is not None:
            statement = statement.where(CaBinding.status == status)
        return statement

    @query
    def page(
        self,
        session: Session,
        instance_id: str,
        *,
        sn: str | None,
        status: str | None,
        after_id: int | None,
        limit: int,
        offset: int = 0,
    ) -> list[BoundCa]:
        """A page of an instance's bindings in registration order (keyset or offset)."""
        statement = self._filtered(instance_id, sn, status).order_by(CaBinding.id).limit(limit)
        if after_id is not None:
            statement = statement.where(CaBinding.id > after_id)
        if offset:
            statement = statement.offset(offset)
        rows = session.execute(statement).all()
        return [BoundCa(row.CaBinding, row.CaCertificate) for row in rows]

    @query
    def count(
        self, session: Session, instance_id: str, *, sn: str | None, status: str | None
    ) -> int:
        statement = select(func.count()).select_from(
            self._filtered(instance_id, sn, status).subquery()
        )
        return session.scalar(statement) or 0

    @query
    def device_counts(self, session: Session, binding_ids: Sequence[int]) -> dict[int, int]:
        if not binding_ids:
            return {}
        rows = session.execute(
            select(DeviceCertificate.binding_id, func.count().label("devices"))
            .where(DeviceCertificate.binding_id.in_(binding_ids))
            .group_by(DeviceCertificate.binding_id)
        )
        return {row.binding_id: row.devices for row in rows.all()}

    @query
    def cascade_status(
        self, session: Session, binding: CaBinding, status: str, *, now: datetime
    ) -> bool:
        """Set a binding's status and start a new cascade generation: O(1) for any device count.

        False if the binding is gone (deleted concurrently); otherwise ``binding`` is
        refreshed.
        """
        changed = _changed_one(
            session.execute(
                update(CaBinding)
                .where(CaBinding.id == binding.id)
                .values(
                    status=status,
                    cascade_generation=CaBinding.cascade_generation + 1,
                    status_changed_at=now,
                )
            )
        )
        if changed:
            session.refresh(binding)
        return changed

    @query
    def delete_binding(self, session: Session, binding_id: int) -> bool:
        """Delete a binding; its devices (and their PEMs) go by FK cascade. False if gone."""
        return _changed_one(session.execute(delete(CaBinding).where(CaBinding.id == binding_id)))

    @query
    def delete_certificates_if_unbound(self, session: Session, sns: Sequence[str]) -> None:
        """The CA records go with their last binding."""
        delete_unbound_certificates(session, sns)
