"""Device certificates registered on an instance under one CA binding."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mqtt_ca_registry.db.base import Base, UTCDateTime


class DeviceStatus(StrEnum):
    """A device's status: its own, or its CA binding's after a cascade (the effective one)."""

    ACTIVE = "active"
    INACTIVE = "inactive"


# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a bigint identity.
DeviceId = BigInteger().with_variant(Integer(), "sqlite")


class DeviceCertificate(Base):
    __tablename__ = "device_certificates"
    __table_args__ = (
        # One record per (instance, CA, device Sn): the binding fixes instance and CA.
        UniqueConstraint("binding_id", "device_sn"),
        CheckConstraint("status IN ('active', 'inactive')", name="status"),
        Index("ix_device_certificates_instance_id_id", "instance_id", "id"),
        Index("ix_device_certificates_binding_id_id", "binding_id", "id"),
    )

    id: Mapped[int] = mapped_column(DeviceId, primary_key=True, autoincrement=True)
    binding_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("ca_bindings.id", ondelete="CASCADE")
    )
    # Denormalised from the binding so instance-wide keyset pages need no join to filter.
    instance_id: Mapped[str] = mapped_column(String(64))
    device_sn: Mapped[str] = mapped_column(String(256))
    device_name: Mapped[str | None] = mapped_column(String(256), nullable=True)
    fingerprint_sha256: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(Text)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    not_after: Mapped[datetime] = mapped_column(UTCDateTime())
    # The device's own status and the binding's cascade_generation when it was last set.
    status: Mapped[str] = mapped_column(String(16))
    status_generation: Mapped[int] = mapped_column(Integer)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_authenticated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class DeviceCertificatePem(Base):
    """The PEM in a side table, so list pages scan narrow rows (see bench/ scale figures)."""

    __tablename__ = "device_certificate_pems"

    device_id: Mapped[int] = mapped_column(
        DeviceId, ForeignKey("device_certificates.id", ondelete="CASCADE"), primary_key=True
    )
    certificate_pem: Mapped[str] = mapped_column(Text)
