"""The kit's subcommands of ``mqtt-ca-registry``: ``kit ca|intermediate|devices``,
``ca register`` and ``check``. None of them reads the server's settings or its database."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mqtt_ca_registry.kit.defaults import DEFAULT_INSTANCE, DEFAULT_URL, TOKEN_ENV, URL_ENV
from mqtt_ca_registry.kit.errors import EXIT_CODES_HELP, INTERRUPTED, KitError

Command = Callable[[argparse.Namespace], int]
_FORMAT = argparse.RawDescriptionHelpFormatter


def _guarded(command: Command) -> Command:
    """Expected failures as one line on stderr with their exit code; never a traceback."""

    def run(args: argparse.Namespace) -> int:
        if hasattr(args, "url"):
            args.url = args.url or os.environ.get(URL_ENV) or DEFAULT_URL
            args.token = args.token or os.environ.get(TOKEN_ENV) or None
        try:
            return command(args)
        except KitError as exc:
            print(f"mqtt-ca-registry: {exc.message}", file=sys.stderr)
            return exc.exit_code
        except KeyboardInterrupt:
            print("mqtt-ca-registry: interrupted", file=sys.stderr)
            return INTERRUPTED

    return run


def _lazy(module: str, name: str) -> Command:
    # Import a command's module only when it runs: `serve` never pays for httpx or the kit.
    def command(args: argparse.Namespace) -> int:
        import importlib

        function: Command = getattr(importlib.import_module(module), name)
        return function(args)

    return _guarded(command)


def _parser(sub: Any, name: str, help_text: str, description: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help_text,
        description=description,
        epilog=EXIT_CODES_HELP,
        formatter_class=_FORMAT,
    )
    return parser


def _issuer_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ca",
        type=Path,
        required=True,
        metavar="CA.crt",
        help="the issuing CA certificate (PEM; may be followed by its own chain)",
    )
    parser.add_argument(
        "--ca-key",
        type=Path,
        required=True,
        metavar="CA.key",
        help="its private key (unencrypted PEM or DER)",
    )


def _output_options(parser: argparse.ArgumentParser, out: str) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(out),
        metavar="DIR",
        help=f"directory to write into, created if needed (default {out})",
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")


def _service_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--instance",
        default=DEFAULT_INSTANCE,
        metavar="ID",
        help=f"instance id (default {DEFAULT_INSTANCE})",
    )
    parser.add_argument(
        "--url", metavar="URL", help=f"the registry (default ${URL_ENV}, else {DEFAULT_URL})"
    )
    parser.add_argument(
        "--token", metavar="T", help=f"API token, when the server sets one (default ${TOKEN_ENV})"
    )


def _add_kit(sub: Any) -> None:
    kit = _parser(
        sub,
        "kit",
        "make CA, sub-CA and device certificates on this machine",
        "Keys and certificates as the product documentation's openssl commands make "
        "them, without openssl. Nothing is sent anywhere.",
    )
    kit_sub = kit.add_subparsers(
        dest="kit_command", required=True, metavar="{ca,intermediate,devices}"
    )

    ca = _parser(
        kit_sub,
        "ca",
        "a self-signed CA: CA.key and CA.crt",
        "Writes CA.key (mode 0600) and CA.crt into --out: RSA 2048 or ECC prime256v1, "
        "self-signed, with the v3_ca extensions of openssl.cnf (subjectKeyIdentifier, "
        "authorityKeyIdentifier, basicConstraints critical CA:TRUE), as the "
        "documentation's `openssl genrsa` / `openssl ecparam` + `openssl req` + "
        "`openssl x509 -req -extensions v3_ca` make them.",
    )
    ca.add_argument(
        "--algorithm",
        choices=("rsa", "ec"),
        default="rsa",
        help="rsa: RSA 2048 (default); ec: ECC prime256v1 (P-256)",
    )
    ca.add_argument(
        "--name",
        default="mqtt-ca-registry kit CA",
        metavar="CN",
        help="subject Common Name (default %(default)r)",
    )
    ca.add_argument("--days", type=int, default=3650, help="validity in days (default 3650)")
    _output_options(ca, ".")
    ca.set_defaults(func=_lazy("mqtt_ca_registry.kit.local", "ca_command"))

    sub_ca = _parser(
        kit_sub,
        "intermediate",
        "a sub-CA signed by a CA, for chain tests",
        "Writes intermediate.key (mode 0600) and intermediate.crt into --out: a CA "
        "certificate with the v3_ca extensions, signed by --ca. Issue devices from "
        "it with `kit devices --ca intermediate.crt --chain` to get bundles that "
        "carry it.",
    )
    _issuer_options(sub_ca)
    sub_ca.add_argument(
        "--algorithm",
        choices=("rsa", "ec"),
        help="key of the sub-CA (default: the same as the CA's)",
    )
    sub_ca.add_argument(
        "--name",
        default="mqtt-ca-registry kit intermediate CA",
        metavar="CN",
        help="subject Common Name (default %(default)r)",
    )
    sub_ca.add_argument("--days", type=int, default=1825, help="validity in days (default 1825)")
    _output_options(sub_ca, ".")
    sub_ca.set_defaults(func=_lazy("mqtt_ca_registry.kit.local", "intermediate_command"))

    devices = _parser(
        kit_sub,
        "devices",
        "N device keys and certificates, on every core",
        "Writes NAME.key (mode 0600) and NAME.crt for each device, and "
        "manifest.json (serial, CN, files of every device written). Keys are made "
        "in parallel on every core. Ctrl-C stops cleanly: only complete pairs are "
        "left, and the manifest lists exactly those. Progress goes to stderr: a "
        "live bar on a terminal, a plain line every --progress-every seconds "
        "otherwise.",
    )
    _issuer_options(devices)
    devices.add_argument("--count", type=int, required=True, metavar="N", help="how many devices")
    devices.add_argument(
        "--algorithm",
        choices=("rsa", "ec"),
        help="device keys: rsa (RSA 2048) or ec (P-256; much faster to make); "
        "default: the same as the CA's",
    )
    version = devices.add_mutually_exclusive_group()
    version.add_argument(
        "--v1",
        action="store_true",
        help="X.509 v1, no extensions, as `openssl x509 -req` makes (default)",
    )
    version.add_argument(
        "--v3",
        action="store_true",
        help="X.509 v3 client certificates (keyUsage, extendedKeyUsage "
        "clientAuth, key identifiers)",
    )
    devices.add_argument("--days", type=int, default=365, help="validity in days (default 365)")
    devices.add_argument(
        "--name-prefix",
        default="device",
        metavar="PREFIX",
        help="CN and file names are PREFIX-0001, PREFIX-0002, ... (default %(default)r)",
    )
    devices.add_argument(
        "--chain",
        action="store_true",
        help="also write NAME-chain.pem: the device certificate followed by the "
        "intermediates of --ca (what a client sends; a root is not sent)",
    )
    devices.add_argument(
        "--jobs", type=int, metavar="N", help="worker processes (default: one per core)"
    )
    devices.add_argument(
        "--progress-every",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="without a terminal, a progress line this often (default 5)",
    )
    _output_options(devices, "devices")
    devices.set_defaults(func=_lazy("mqtt_ca_registry.kit.local", "devices_command"))


def _add_remote(sub: Any) -> None:
    ca = _parser(
        sub,
        "ca",
        "CA certificates on a running registry",
        "Talk to a running registry's REST API about CA certificates.",
    )
    ca_sub = ca.add_subparsers(dest="ca_command", required=True, metavar="{register}")
    register = _parser(
        ca_sub,
        "register",
        "register a CA in one step (code, proof, upload)",
        "Fetches a registration code (POST .../registration-codes), makes the "
        "verification certificate (CN = the code) signed with --ca-key on this "
        "machine, and registers the CA (POST .../ca-certificates). Prints the "
        "serial and status. The private key never leaves this machine; a "
        "refusal prints the service's message.",
    )
    _issuer_options(register)
    _service_options(register)
    register.add_argument(
        "--name",
        metavar="NAME",
        help="the CA's name in the registry (1-64 characters; default its Common Name)",
    )
    register.add_argument("--json", action="store_true", help="print the registered CA as JSON")
    register.set_defaults(func=_lazy("mqtt_ca_registry.kit.remote", "register_command"))

    check = _parser(
        sub,
        "check",
        "would the broker accept this device certificate?",
        "Sends the chain to POST /v1/instances/{id}/authenticate and prints the "
        "decision and its reason in one line (exit 0 if accepted, 1 if not). Like "
        "the broker at a first connect, the service registers a valid device it "
        "has not seen (auto_registered). Only certificates are sent: private-key "
        "blocks in the file are left out.",
    )
    check.add_argument(
        "--chain",
        type=Path,
        required=True,
        metavar="device.crt",
        help="the device certificate, optionally followed by intermediates (PEM)",
    )
    _service_options(check)
    check.add_argument("--json", action="store_true", help="print the whole decision as JSON")
    check.set_defaults(func=_lazy("mqtt_ca_registry.kit.remote", "check_command"))


def add_subcommands(sub: Any) -> None:
    """Add ``kit``, ``ca`` and ``check`` to the console script's subparsers."""
    _add_kit(sub)
    _add_remote(sub)
