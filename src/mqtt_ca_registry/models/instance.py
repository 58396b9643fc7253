"""An MQTT instance: the unit CA certificates are bound to."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from mqtt_ca_registry.db.base import Base, UTCDateTime


class Edition(StrEnum):
    """Instance editions, with the Alibaba ``InstanceType`` code of each."""

    BASIC = "basic"
    ENTERPRISE_PLATINUM = "enterprise_platinum"
    PROFESSIONAL = "professional"
    SERVERLESS = "serverless"

    @property
    def instance_type(self) -> int:
        return _INSTANCE_TYPES[self]


_INSTANCE_TYPES = {
    Edition.BASIC: 0,
    Edition.ENTERPRISE_PLATINUM: 1,
    Edition.PROFESSIONAL: 4,
    Edition.SERVERLESS: 5,
}


class Instance(Base):
    __tablename__ = "instances"
    __table_args__ = (
        CheckConstraint(
            "edition IN ('basic', 'enterprise_platinum', 'professional', 'serverless')",
            name="edition",
        ),
    )

    instance_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    edition: Mapped[str] = mapped_column(String(32))
    region_id: Mapped[str] = mapped_column(String(64))
    tags: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
