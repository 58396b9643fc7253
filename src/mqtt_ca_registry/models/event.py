"""The audit trail: every state change and every rejected authentication."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mqtt_ca_registry.db.base import Base, UTCDateTime

EventId = BigInteger().with_variant(Integer(), "sqlite")


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_instance_id_id", "instance_id", "id"),
        Index("ix_events_instance_id_type_id", "instance_id", "type", "id"),
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    # No foreign key: an instance's trail (its deletion included) outlives the instance.
    instance_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Who: "api-token", "anonymous", an AccessKeyId, or "system". Never a secret.
    actor: Mapped[str] = mapped_column(String(128))
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    ca_sn: Mapped[str | None] = mapped_column(String(256), nullable=True)
    device_sn: Mapped[str | None] = mapped_column(String(256), nullable=True)
    # Small facts only (reason code, fingerprint, subject); never certificate or key material.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
