"""The ``mqtt-ca-registry`` console script."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mqtt_ca_registry.kit import cli as kit_cli

if TYPE_CHECKING:
    from mqtt_ca_registry.config import Settings

logger = logging.getLogger("mqtt_ca_registry.cli")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mqtt-ca-registry",
        description="Emulator of the ApsaraMQ for MQTT CA-certificate registry.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="migrate the database, then serve the API")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    sub.add_parser("migrate", help="upgrade the database to the latest schema and exit")
    kit_cli.add_subcommands(sub)  # kit, ca register, check: they set a `func` of their own
    return parser


def _load_settings() -> Settings:
    # Imported here: the kit's client-side commands start without pydantic-settings.
    from pydantic import ValidationError

    from mqtt_ca_registry.config import Settings

    try:
        return Settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = "MQTT_CA_REGISTRY_" + "_".join(str(p) for p in error["loc"]).upper()
            print(f"mqtt-ca-registry: invalid setting {name}: {error['msg']}", file=sys.stderr)
        raise SystemExit(2) from None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if hasattr(args, "func"):  # client-side commands: no settings, no database
        code: int = args.func(args)
        return code
    from mqtt_ca_registry.config import LOCAL_ACCESS_KEY_ID, LOCAL_ACCESS_KEY_SECRET
    from mqtt_ca_registry.logging_setup import configure_logging

    settings = _load_settings()
    configure_logging(settings.log_level)

    from mqtt_ca_registry.bootstrap import prepare_database

    try:
        prepare_database(settings)
    except Exception as exc:
        logger.error("cannot prepare the database: %s: %s", type(exc).__name__, exc)
        return 1
    if args.command == "migrate":
        logger.info("database is at the latest revision")
        return 0

    if args.workers < 1:
        print("mqtt-ca-registry: --workers must be at least 1", file=sys.stderr)
        return 2
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
    logger.info("serving on http://%s:%d (docs at /docs)", args.host, args.port)

    import uvicorn

    uvicorn.run(
        "mqtt_ca_registry.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        http="mqtt_ca_registry.http_protocol:ClearErrorsHttpToolsProtocol",
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=10,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
