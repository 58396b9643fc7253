"""One log format for every line: the service's, uvicorn's, Alembic's and any library's.

Every record goes through one handler on the root logger, which adds the request id and
formats it as text (the default) or as one JSON object per line (``LOG_FORMAT=json``). uvicorn
applies the same configuration in each worker process (``uvicorn.run(log_config=...)``).
"""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s [%(name)s] [%(request_id)s] %(message)s"
# Loggers that follow LOG_LEVEL; everything else (the root, Alembic's chatty INFO lines
# included) logs warnings and errors only.
SERVICE_LOGGERS = ("mqtt_ca_registry", "uvicorn", "uvicorn.error", "uvicorn.access")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and request_id in a request."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id and request_id != "-":
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def logging_config(level: str = "INFO", log_format: str = "text") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dictionary for the given level and format."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"} if log_format == "json" else {"format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        # Module loggers exist before this runs (created at import); keep them working.
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "mqtt_ca_registry.request_context.RequestIdFilter"}},
        "formatters": {"service": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "service",
                "filters": ["request_id"],
            }
        },
        # No handler of their own: they propagate to the root's one handler, so no line is
        # written twice and none escapes the format.
        "loggers": {
            name: {"level": level.upper(), "handlers": [], "propagate": True}
            for name in SERVICE_LOGGERS
        },
        "root": {"level": "WARNING", "handlers": ["stderr"]},
    }


def configure_logging(level: str = "INFO", log_format: str = "text") -> None:
    """Apply :func:`logging_config` to this process (idempotent)."""
    logging.config.dictConfig(logging_config(level, log_format))
