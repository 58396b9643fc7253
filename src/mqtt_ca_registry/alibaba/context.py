"""What every Alibaba action adapter gets: the same services the REST API uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mqtt_ca_registry.backend import Backend


@dataclass(frozen=True)
class ActionContext:
    """The backend: adapters open ``backend.read()`` or ``backend.write()`` for one action."""

    backend: Backend


def millis(moment: datetime) -> int:
    """Epoch milliseconds, as the Alibaba API reports times."""
    return int(moment.timestamp() * 1000)


def status_flag(status: str) -> str:
    """Alibaba's Status: the string "1" for active, "0" for inactive."""
    return "1" if status == "active" else "0"
