"""`serve`: check that the address is free, prepare the database, then run uvicorn."""

from __future__ import annotations

import errno
import logging
import socket
import sys

from mqtt_ca_registry.config import LOCAL_ACCESS_KEY_ID, LOCAL_ACCESS_KEY_SECRET, Settings
from mqtt_ca_registry.logging_setup import logging_config

logger = logging.getLogger("mqtt_ca_registry.cli")

_BIND_ERRORS = {
    errno.EADDRINUSE: "port {port} on {host} is already in use (is another server running?); "
    "stop it, or choose another port with --port or MQTT_CA_REGISTRY_PORT",
    errno.EADDRNOTAVAIL: "{host} is not an address of this machine; use one of its addresses "
    "(127.0.0.1, or 0.0.0.0 for every interface) with --host or MQTT_CA_REGISTRY_HOST",
    errno.EACCES: "not allowed to listen on port {port} (ports below 1024 need privileges); "
    "choose a port from 1024 up",
}


def listen_problem(host: str, port: int) -> str | None:
    """Why uvicorn could not listen on (host, port), found by binding as it will; or None.

    The socket is bound the way uvicorn binds its own (same family rule, SO_REUSEADDR) and
    closed at once, so the answer is uvicorn's, only given before anything else starts.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except socket.gaierror:
        return f"cannot listen on {host}: no such host name or address"
    except OSError as error:
        template = _BIND_ERRORS.get(error.errno or 0)
        if template is None:
            return f"cannot listen on {host}:{port}: {error.strerror or error}"
        return template.format(host=host, port=port)
    return None


def serve(settings: Settings, *, host: str, port: int, workers: int) -> int:
    """Serve until stopped; returns the exit status."""
    problem = listen_problem(host, port)
    if problem is not None:
        print(f"mqtt-ca-registry: {problem}", file=sys.stderr)
        return 1

    from mqtt_ca_registry.bootstrap import prepare_database

    try:
        prepare_database(settings)
    except Exception as exc:
        logger.error("cannot prepare the database: %s: %s", type(exc).__name__, exc)
        return 1
    if (
        settings.access_keys.get_secret_value()
        == f"{LOCAL_ACCESS_KEY_ID}:{LOCAL_ACCESS_KEY_SECRET}"
    ):
        logger.info(
            "Alibaba API: using the documented local AccessKey pair %s / %s "
            "(set MQTT_CA_REGISTRY_ACCESS_KEYS to use your own)",
            LOCAL_ACCESS_KEY_ID,
            LOCAL_ACCESS_KEY_SECRET,
        )
    logger.info("serving on http://%s:%d (docs at /docs)", host, port)

    import uvicorn

    uvicorn.run(
        "mqtt_ca_registry.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        http="mqtt_ca_registry.http_protocol:ClearErrorsHttpToolsProtocol",
        # The same configuration in every worker process: one format for every line.
        log_config=logging_config(settings.log_level, settings.log_format),
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=10,
    )
    return 0
