"""The ``mqtt-ca-registry`` console script.

Server commands (``serve``, ``migrate``, ``config``) read and validate every setting before they
start: a bad one is one line on stderr and exit status 2, whatever the command. The kit's
client-side commands (kit/cli.py) read no settings and start without pydantic-settings.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from mqtt_ca_registry import __version__
from mqtt_ca_registry.kit import cli as kit_cli

if TYPE_CHECKING:
    from mqtt_ca_registry.config import Settings

logger = logging.getLogger("mqtt_ca_registry.cli")

Command = Callable[[argparse.Namespace, "Settings"], int]


class _Parser(argparse.ArgumentParser):
    """A parser whose help can end with every setting and its default (``show_settings``),
    worked out only when the help is shown."""

    show_settings = False

    def format_help(self) -> str:
        text = super().format_help()
        if not self.show_settings:
            return text
        from mqtt_ca_registry.settings_report import help_epilog

        return f"{text}\n{help_epilog()}\n"


def _bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {value}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand: the server's set ``run`` (settings first), the kit's set ``func``."""
    parser = _Parser(
        prog="mqtt-ca-registry",
        description="Emulator of the ApsaraMQ for MQTT CA-certificate registry.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.show_settings = True
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser(
        "serve",
        help="migrate the database, then serve the API",
        description="Upgrade the database to the latest schema, then serve the API.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.show_settings = True
    serve.add_argument(
        "--host", help="address to listen on (default: MQTT_CA_REGISTRY_HOST, else 127.0.0.1)"
    )
    serve.add_argument(
        "--port",
        type=_bounded_int(1, 65535),
        help="port to listen on (default: MQTT_CA_REGISTRY_PORT, else 8000)",
    )
    serve.add_argument(
        "--workers", type=_bounded_int(1, 64), default=1, help="worker processes (default 1)"
    )
    serve.set_defaults(run=run_serve)
    migrate = sub.add_parser(
        "migrate",
        help="upgrade the database to the latest schema and exit",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    migrate.show_settings = True
    migrate.set_defaults(run=run_migrate)
    config = sub.add_parser("config", help="print the effective settings (secrets masked) and exit")
    config.set_defaults(run=run_config)
    kit_cli.add_subcommands(sub)  # kit, ca register, check: they set a `func` of their own
    return parser


def load_settings() -> Settings:
    """The settings from the environment; an invalid one ends the program (exit status 2)."""
    # Imported here: the kit's client-side commands start without pydantic-settings.
    from pydantic import ValidationError

    from mqtt_ca_registry.config import Settings
    from mqtt_ca_registry.settings_report import setting_errors

    try:
        return Settings()
    except ValidationError as exc:
        for line in setting_errors(exc):
            print(f"mqtt-ca-registry: {line}", file=sys.stderr)
        raise SystemExit(2) from None


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    from mqtt_ca_registry.server import serve

    host = args.host if args.host is not None else settings.host
    port = args.port if args.port is not None else settings.port
    return serve(settings, host=host, port=port, workers=args.workers)


def run_migrate(_args: argparse.Namespace, settings: Settings) -> int:
    from mqtt_ca_registry.bootstrap import prepare_database

    try:
        prepare_database(settings)
    except Exception as exc:
        logger.error("cannot prepare the database: %s: %s", type(exc).__name__, exc)
        return 1
    logger.info("database is at the latest revision")
    return 0


def run_config(_args: argparse.Namespace, settings: Settings) -> int:
    from mqtt_ca_registry.settings_report import config_report

    print(config_report(settings))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if hasattr(args, "func"):  # client-side commands: no settings, no database
        code: int = args.func(args)
        return code
    from mqtt_ca_registry.logging_setup import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    run: Command = args.run
    return run(args, settings)


if __name__ == "__main__":
    raise SystemExit(main())
