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
MAX_COUNT = 1_000_000  # files per directory beyond this help nobody; run again into another
CN_LIMIT = 64  # X.509's upper bound on a Common Name (RFC 5280 ub-common-name)


def _check(name: str, days: int, flag: str = "--name") -> None:
    """Refuse what cryptography would refuse later with a traceback."""
    if not 1 <= len(name) <= CN_LIMIT:
        raise KitError(f"{flag}: a Common Name has 1 to {CN_LIMIT} characters, not {len(name)}")
    if days < 1:
        raise KitError(f"--days must be at least 1, not {days}")


def _say(args: argparse.Namespace, line: str) -> None:
    if not getattr(args, "quiet", False):
        print(line, flush=True)


def _pair_paths(out: Path, stem: str, force: bool) -> tuple[Path, Path]:
    """``stem``.key and ``stem``.crt in ``out``, refused before any work if they exist."""
    key_path, cert_path = out / f"{stem}.key", out / f"{stem}.crt"
    refuse_existing([key_path, cert_path], force)
    return key_path, cert_path


def _write_pair(paths: tuple[Path, Path], key: bytes, cert: bytes) -> None:
    key_path, cert_path = paths
    ensure_directory(key_path.parent)
    write_atomically(key_path, key, KEY_MODE)
    write_atomically(cert_path, cert, CERT_MODE)


def ca_command(args: argparse.Namespace) -> int:
    """``kit ca``: CA.key and CA.crt, as the documentation's openssl commands make them."""
    _check(args.name, args.days)
    key_path, cert_path = _pair_paths(args.out, "CA", args.force)
    key = new_key(args.algorithm)
    cert = make_ca(key, args.name, args.days)
    _write_pair((key_path, cert_path), key_pem(key), cert_pem(cert))
    _say(
        args,
        f"wrote {cert_path} and {key_path} ({KEY_LABELS[args.algorithm]} CA, "
        f"serial {sn(cert)}, valid {args.days} days)",
    )
    return OK


def intermediate_command(args: argparse.Namespace) -> int:
    """``kit intermediate``: a sub-CA signed by ``--ca``, for chain tests."""
    _check(args.name, args.days)
    issuer = load_issuer(args.ca, args.ca_key)
    key_path, cert_path = _pair_paths(args.out, "intermediate", args.force)
    algorithm = args.algorithm or key_algorithm(issuer.key)
    key = new_key(algorithm)
    cert = make_intermediate(key, args.name, args.days, issuer)
    _write_pair((key_path, cert_path), key_pem(key), cert_pem(cert))
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
    if not 1 <= args.count <= MAX_COUNT:
        raise KitError(f"--count must be 1 to {MAX_COUNT:,} (run again with another --out)")
    _check(f"{args.name_prefix}-{args.count}", args.days, "--name-prefix")
    if any(c in args.name_prefix for c in "/\\") or args.name_prefix.startswith("."):
        raise KitError("--name-prefix names files in --out: no '/', '\\' or leading '.'")
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
        "devices": [
            {"serial": serial, "cn": options.cn(index), "files": options.files(index)}
            for index, serial in result.devices
        ],
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
    count, workers = len(result.devices), result.workers
    rate = count / result.seconds if result.seconds else 0.0
    _say(
        args,
        f"wrote {count:,} {KEY_LABELS[options.algorithm]} device certificate"
        f"{'s' * (count != 1)} (X.509 {options.version}) to {options.out} in "
        f"{result.seconds:.1f} s ({rate:,.0f}/s, {workers} process{'es' * (workers != 1)}); "
        f"manifest {manifest}",
    )
    return OK
