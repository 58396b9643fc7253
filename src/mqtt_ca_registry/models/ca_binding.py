"""A CA registered on an instance. Status belongs here: every lifecycle call names the instance."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mqtt_ca_registry.db.base import Base, UTCDateTime


class CaBindingStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class CaBinding(Base):
    __tablename__ = "ca_bindings"
    __table_args__ = (
        UniqueConstraint("instance_id", "ca_sn"),
        UniqueConstraint("registration_code"),
        CheckConstraint("status IN ('active', 'inactive')", name="status"),
        Index("ix_ca_bindings_ca_sn", "ca_sn"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("instances.instance_id", ondelete="CASCADE")
    )
    ca_sn: Mapped[str] = mapped_column(String(256), ForeignKey("ca_certificates.sn"))
    name: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    # Bumped by every activate/deactivate cascade. A device whose status_generation is older
    # takes this binding's status; see docs/rules.md "CA lifecycle". O(1) whatever the device count.
    cascade_generation: Mapped[int] = mapped_column(Integer, default=0)
    verification_certificate_pem: Mapped[str] = mapped_column(Text)
    registration_code: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
