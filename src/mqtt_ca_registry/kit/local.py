"""``kit ca``, ``kit intermediate`` and ``kit devices``: files made on this machine only."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from mqtt_ca_registry.kit.certs import (
    KEY_LABELS,
    Issuer,
    cert_pem,
    key_algorithm,
    key_pem,
    make_ca,
    make_intermediate,
    new_key,
    sn,
)
from mqtt_ca_registry.kit.errors import INTERRUPTED, OK, REFUSED, KitError
from mqtt_ca_registry.kit.files import (
    CERT_MODE,
    KEY_MODE,
    ensure_directory,
    load_issuer,
    refuse_existing,
    write_atomically,
)
from mqtt_ca_registry.kit.fleet import FleetOptions, FleetResult, make_fleet
from mqtt_ca_registry.kit.progress import Progress

MANIFEST = "manifest.json"


def _say(args: argparse.Namespace, line: str) -> None:
    if not getattr(args, "quiet", False):
        print(line, flush=True)


def _write_pair(out: Path, stem: str, key: bytes, cert: bytes, force: bool) -> tuple[Path, Path]:
    ensure_directory(out)
    key_path, cert_path = out / f"{stem}.key", out / f"{stem}.crt"
    refuse_existing([key_path, cert_path], force)
    write_atomically(key_path, key, KEY_MODE)
    write_atomically(cert_path, cert, CERT_MODE)
    return key_path, cert_path


def ca_command(args: argparse.Namespace) -> int:
    """``kit ca``: CA.key and CA.crt, as the documentation's openssl commands make them."""
    key = new_key(args.algorithm)
    cert = make_ca(key, args.name, args.days)
    key_path, cert_path = _write_pair(args.out, "CA", key_pem(key), cert_pem(cert), args.force)
    _say(
        args,
        f"wrote {cert_path} and {key_path} ({KEY_LABELS[args.algorithm]} CA, "
        f"serial {sn(cert)}, valid {args.days} days)",
    )
    return OK


def intermediate_command(args: argparse.Namespace) -> int:
    """``kit intermediate``: a sub-CA signed by ``--ca``, for chain tests."""
    issuer = load_issuer(args.ca, args.ca_key)
    algorithm = args.algorithm or key_algorithm(issuer.key)
    key = new_key(algorithm)
    cert = make_intermediate(key, args.name, args.days, issuer)
    key_path, cert_path = _write_pair(
        args.out, "intermediate", key_pem(key), cert_pem(cert), args.force
    )
    _say(
        args,
        f"wrote {cert_path} and {key_path} ({KEY_LABELS[algorithm]} sub-CA of "
        f"{issuer.cert.subject.rfc4514_string()}, serial {sn(cert)})",
    )
    return OK


def _jobs(requested: int | None) -> int:
    if requested is not None:
        return requested
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def devices_command(args: argparse.Namespace) -> int:
    """``kit devices``: ``--count`` key and certificate pairs and a manifest."""
    if args.count < 1:
        raise KitError("--count must be at least 1")
    if args.jobs is not None and args.jobs < 1:
        raise KitError("--jobs must be at least 1")
    issuer = load_issuer(args.ca, args.ca_key)
    options = FleetOptions(
        out=args.out,
        count=args.count,
        algorithm=args.algorithm or key_algorithm(issuer.key),
        version="v3" if args.v3 else "v1",
        days=args.days,
        prefix=args.name_prefix,
        chain=args.chain,
        jobs=_jobs(args.jobs),
    )
    ensure_directory(options.out)
    names = [
        options.out / n for i in range(1, options.count + 1) for n in options.files(i).values()
    ]
    refuse_existing([options.out / MANIFEST, *names], args.force)
    progress = Progress(
        options.count,
        "devices",
        Progress.mode_for(sys.stderr, args.quiet),
        every=args.progress_every,
    )
    result = make_fleet(issuer, options, progress)
    progress.finish()
    manifest = _write_manifest(issuer, options, result)
    return _report(args, options, result, manifest)


def _write_manifest(issuer: Issuer, options: FleetOptions, result: FleetResult) -> Path:
    complete = len(result.devices) == options.count
    document: dict[str, Any] = {
        "ca": {"subject": issuer.cert.subject.rfc4514_string(), "serial": sn(issuer.cert)},
        "algorithm": KEY_LABELS[options.algorithm],
        "x509_version": options.version,
        "days": options.days,
        "requested": options.count,
        "written": len(result.devices),
        "complete": complete,
        "devices": [{k: r[k] for k in ("serial", "cn", "files")} for r in result.devices],
    }
    path = options.out / MANIFEST
    write_atomically(path, (json.dumps(document, indent=1) + "\n").encode(), CERT_MODE)
    return path


def _report(
    args: argparse.Namespace, options: FleetOptions, result: FleetResult, manifest: Path
) -> int:
    written = f"{len(result.devices):,} of {options.count:,} devices written"
    if result.error:
        print(
            f"mqtt-ca-registry: {result.error}; {written} (complete pairs only), listed in "
            f"{manifest}",
            file=sys.stderr,
        )
        return REFUSED
    if result.interrupted:
        print(
            f"mqtt-ca-registry: interrupted; {written} (complete pairs only), listed in {manifest}",
            file=sys.stderr,
        )
        return INTERRUPTED
    rate = len(result.devices) / result.seconds if result.seconds else 0.0
    _say(
        args,
        f"wrote {len(result.devices):,} {KEY_LABELS[options.algorithm]} device "
        f"certificates (X.509 {options.version}) to {options.out} in "
        f"{result.seconds:.1f} s ({rate:,.0f}/s, {options.jobs} processes); "
        f"manifest {manifest}",
    )
    return OK
