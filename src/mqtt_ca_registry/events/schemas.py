"""Shapes of the events API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class EventOut(BaseModel):
    """One audit event."""

    id: int
    type: str = Field(description="e.g. ca.registered, device.deactivated, authentication.rejected")
    occurred_at: datetime
    actor: str = Field(description="api-token, an AccessKeyId, anonymous, unsigned or system")
    request_id: str | None
    outcome: Literal["success", "rejected"]
    instance_id: str
    ca_sn: str | None
    device_sn: str | None
    details: dict[str, Any]
