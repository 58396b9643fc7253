"""A CA certificate, stored once however many instances it is bound to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mqtt_ca_registry.db.base import Base, UTCDateTime


class CaCertificate(Base):
    __tablename__ = "ca_certificates"

    # Canonical Sn (lowercase even-length hex). The primary key makes it unique registry-wide.
    sn: Mapped[str] = mapped_column(String(256), primary_key=True)
    fingerprint_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str] = mapped_column(Text)
    issuer: Mapped[str] = mapped_column(Text)
    key_algorithm: Mapped[str] = mapped_column(String(16))
    key_size: Mapped[int] = mapped_column(Integer)
    curve: Mapped[str | None] = mapped_column(String(32), nullable=True)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    not_after: Mapped[datetime] = mapped_column(UTCDateTime())
    certificate_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
