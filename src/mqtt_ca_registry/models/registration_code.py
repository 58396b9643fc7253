"""Single-use registration codes that a verification certificate's CN must carry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mqtt_ca_registry.db.base import Base, UTCDateTime


class RegistrationCode(Base):
    __tablename__ = "registration_codes"
    __table_args__ = (
        # Counting and pruning an instance's unused codes, oldest first.
        Index("ix_registration_codes_instance_unused", "instance_id", "used_at", "id"),
    )

    # Issue order (the clock may stand still in tests); the oldest unused codes are pruned first.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    instance_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("instances.instance_id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Set once, by a conditional UPDATE ... WHERE used_at IS NULL: that is what makes it single-use.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
