"""All SQL about instances."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mqtt_ca_registry.ca_certificates.repository import delete_unbound_certificates
from mqtt_ca_registry.db.unit_of_work import Repository, query
from mqtt_ca_registry.models import CaBinding, Instance


class InstanceRepository(Repository):
    @query
    def get(self, session: Session, instance_id: str) -> Instance | None:
        return session.get(Instance, instance_id)

    @query
    def add(self, session: Session, instance: Instance) -> bool:
        """Insert; False if an instance with this id exists (a concurrent create won)."""
        try:
            with session.begin_nested():
                session.add(instance)
        except IntegrityError:
            return False
        return True

    @query
    def page(self, session: Session, *, after: str | None, limit: int) -> Sequence[Instance]:
        statement = select(Instance).order_by(Instance.instance_id).limit(limit)
        if after is not None:
            statement = statement.where(Instance.instance_id > after)
        return session.scalars(statement).all()

    @query
    def all(self, session: Session) -> Sequence[Instance]:
        return session.scalars(select(Instance).order_by(Instance.instance_id)).all()

    @query
    def count(self, session: Session) -> int:
        return session.scalar(select(func.count()).select_from(Instance)) or 0

    @query
    def delete(self, session: Session, instance_id: str) -> None:
        """Delete an instance (codes, bindings and devices go by FK cascade), and the CA
        certificates that were bound to it only."""
        bound = session.scalars(
            select(CaBinding.ca_sn).where(CaBinding.instance_id == instance_id)
        ).all()
        session.execute(delete(Instance).where(Instance.instance_id == instance_id))
        delete_unbound_certificates(session, bound)
