"""`python -m bench.kit`: `kit devices` against the documentation's openssl loop, same machine.

Runs everything as a user would, in a scratch directory: the installed `mqtt-ca-registry`
console script, and the product documentation's per-device openssl commands in a bash loop
(`openssl ecparam -genkey` or `genrsa`, `openssl req -new`, `openssl x509 -req -CA ...`). Rates
include each command's start-up, as the user waits for it. CPU is every process's user + system
time (the kit's workers included), so "cores busy" shows how much of the machine a run used.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.report import Table

_INSTALLED = Path(sys.executable).parent / "mqtt-ca-registry"
CLI = [str(_INSTALLED)] if _INSTALLED.exists() else [sys.executable, "-m", "mqtt_ca_registry.cli"]
ITEM = 9  # the row number in the table (after python -m bench's items 1-8)
TARGET = 20.0  # kit devices/s over the openssl loop's, P-256

# The documentation's commands for one device, non-interactive (-subj instead of the prompts).
KEYGEN = {
    "ec": "openssl ecparam -genkey -name prime256v1 -out d$i.key",
    "rsa": "openssl genrsa -out d$i.key 2048 2>/dev/null",
}
LOOP = (
    "set -e; for i in $(seq 1 {count}); do {keygen}; "
    'openssl req -new -key d$i.key -out d$i.csr -subj "/CN=device-$i"; '
    "openssl x509 -req -in d$i.csr -CA CA.crt -CAkey CA.key -CAcreateserial -out d$i.crt "
    "-days 365 -sha256 2>/dev/null; done"
)


@dataclass(frozen=True)
class Run:
    count: int
    wall: float
    cpu: float  # user + system seconds of every child process

    @property
    def rate(self) -> float:
        return self.count / self.wall

    def describe(self) -> str:
        return (
            f"{self.rate:,.0f}/s ({self.count:,} in {self.wall:.1f} s; "
            f"{self.cpu / self.wall:.2f} cores busy)"
        )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path, count: int) -> Run:
    """Run a command to completion; its wall time and the CPU time of it and its children."""
    cpu, started = _children_cpu(), time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr}")
    return Run(count, wall, _children_cpu() - cpu)


def make_ca(workdir: Path, algorithm: str) -> Path:
    directory = workdir / f"ca-{algorithm}"
    timed([*CLI, "kit", "ca", "--algorithm", algorithm, "--out", str(directory), "-q"], workdir, 1)
    return directory


def openssl_loop(ca: Path, algorithm: str, count: int) -> Run:
    loop = LOOP.format(count=count, keygen=KEYGEN[algorithm])
    return timed(["bash", "-c", loop], ca, count)


def kit_devices(ca: Path, algorithm: str, count: int, jobs: int | None = None) -> Run:
    out = ca / f"kit-{algorithm}-{count}-{jobs or 'all'}"
    command = [
        *CLI,
        "kit",
        "devices",
        "--ca",
        "CA.crt",
        "--ca-key",
        "CA.key",
        "--count",
        str(count),
        "--algorithm",
        algorithm,
        "--out",
        str(out),
        "-q",
    ]
    if jobs:
        command += ["--jobs", str(jobs)]
    return timed(command, ca, count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.kit", description=__doc__)
    parser.add_argument("--count", type=int, default=10_000, help="kit P-256 devices (10,000)")
    parser.add_argument("--rsa-count", type=int, default=400, help="kit RSA-2048 devices (400)")
    parser.add_argument(
        "--openssl-count",
        type=int,
        default=200,
        help="devices made by the openssl loop, each key type (200)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: small counts")
    parser.add_argument("--dir", type=Path, help="scratch directory (default: the system's temp)")
    args = parser.parse_args(argv)
    if args.quick:
        args.count, args.rsa_count, args.openssl_count = 300, 16, 10
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    table = Table()
    table.section("kit")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mqtt-ca-registry-kit-", dir=args.dir) as tmp:
        workdir = Path(tmp)
        ec_ca, rsa_ca = make_ca(workdir, "ec"), make_ca(workdir, "rsa")
        _log(f"openssl loop, P-256, {args.openssl_count} devices")
        ossl_ec = openssl_loop(ec_ca, "ec", args.openssl_count)
        _log(f"kit devices, P-256, {args.count:,} devices")
        kit_ec = kit_devices(ec_ca, "ec", args.count)
        _log(f"openssl loop, RSA-2048, {args.openssl_count} devices")
        ossl_rsa = openssl_loop(rsa_ca, "rsa", args.openssl_count)
        _log(f"kit devices, RSA-2048, {args.rsa_count:,} devices, 1 process then {cores}")
        kit_rsa_one = kit_devices(rsa_ca, "rsa", args.rsa_count, jobs=1)
        kit_rsa = kit_devices(rsa_ca, "rsa", args.rsa_count)

    table.text(ITEM, "documentation's openssl loop, P-256 devices (ECC CA)", ossl_ec.describe())
    table.text(ITEM, f"kit devices --count {args.count:,}, P-256 (ECC CA)", kit_ec.describe())
    table.ratio(ITEM, "kit / openssl loop, P-256", kit_ec.rate / ossl_ec.rate, TARGET)
    table.text(ITEM, "documentation's openssl loop, RSA-2048 devices (RSA CA)", ossl_rsa.describe())
    table.text(ITEM, "kit devices, RSA-2048, --jobs 1", kit_rsa_one.describe())
    table.text(ITEM, f"kit devices, RSA-2048, one process per core ({cores})", kit_rsa.describe())
    table.text(ITEM, "kit / openssl loop, RSA-2048", f"{kit_rsa.rate / ossl_rsa.rate:.2f}")
    table.text(ITEM, f"RSA-2048: {cores} processes / 1", f"{kit_rsa.rate / kit_rsa_one.rate:.2f}")
    took = time.perf_counter() - started
    header = (
        f"mqtt-ca-registry bench.kit{' --quick' if args.quick else ''}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}: {cores} cores, "
        f"Python {platform.python_version()}, {_openssl_version()}; took {took:.0f} s"
    )
    print(table.render(header))
    return 0


def _openssl_version() -> str:
    result = subprocess.run(["openssl", "version"], capture_output=True, text=True, check=False)
    return " ".join(result.stdout.split()[:2])


def _log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
