"""Log format: one line per event, with the request id."""

from __future__ import annotations

import logging
import sys

from mqtt_ca_registry.request_context import RequestIdFilter

LOG_FORMAT = "%(asctime)s %(levelname)s [%(name)s] [%(request_id)s] %(message)s"


def configure_logging(level: str = "INFO") -> None:
    """Send our logs to stderr with the request id; idempotent."""
    root = logging.getLogger("mqtt_ca_registry")
    root.setLevel(level.upper())
    if any(getattr(h, "_mqtt_ca_registry", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RequestIdFilter())
    handler._mqtt_ca_registry = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.propagate = False
