"""``kit devices``: many device key and certificate pairs, on every core, interruptible.

Workers (one process per core: RSA key generation is CPU-bound) write each file under a hidden
temporary name; only the main process renames them into place, key first and certificate
last, between signals. Ctrl-C or SIGTERM stops handing out work, lets the batches in flight
finish, and leaves complete pairs only, with a manifest of exactly those.
"""

from __future__ import annotations

import math
import os
import secrets
import signal
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mqtt_ca_registry.kit import v1
from mqtt_ca_registry.kit.certs import Algorithm, Issuer, key_pem, new_key, v1_leaf, v3_device
from mqtt_ca_registry.kit.files import CERT_MODE, KEY_MODE, temporary_name, write_new
from mqtt_ca_registry.kit.progress import Progress

Version = Literal["v1", "v3"]


@dataclass(frozen=True)
class FleetOptions:
    """What ``kit devices`` was asked for."""

    out: Path
    count: int
    algorithm: Algorithm
    version: Version
    days: int
    prefix: str
    chain: bool
    jobs: int

    def cn(self, index: int) -> str:
        return f"{self.prefix}-{index:0{len(str(self.count))}d}"

    def files(self, index: int) -> dict[str, str]:
        """File names of device ``index`` (1-based), relative to ``out``; the certificate last."""
        stem = self.cn(index)
        names = {"key": f"{stem}.key"}
        if self.chain:
            names["chain"] = f"{stem}-chain.pem"
        names["certificate"] = f"{stem}.crt"
        return names

    def batches(self) -> list[range]:
        # About 50 ms of work a batch: interrupting waits for at most one batch per worker.
        size = 1 if self.algorithm == "rsa" else 50
        size = max(1, min(size, math.ceil(self.count / (self.jobs * 4))))
        return [range(i, min(i + size, self.count + 1)) for i in range(1, self.count + 1, size)]


@dataclass
class FleetResult:
    devices: list[tuple[int, str]] = field(default_factory=list)  # (index, serial), written
    interrupted: bool = False
    error: str | None = None
    seconds: float = 0.0
    workers: int = 0


class WorkerError(Exception):
    """A worker could not write its files (picklable: message only)."""


# --- worker side -------------------------------------------------------------------------

_state: dict[str, Any] = {}


def _init_worker(chain_pem: bytes, key_der: bytes, options: FleetOptions, token: str) -> None:
    # The main process decides when to stop (a terminal's Ctrl-C reaches the whole process
    # group); a worker always finishes its batch so that no pair is left half-written.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    certs = x509.load_pem_x509_certificates(chain_pem)
    key = serialization.load_der_private_key(key_der, password=None)
    intermediates = tuple(c for c in certs if c.issuer != c.subject)
    _state.update(
        issuer=Issuer(certs[0], key, intermediates),  # type: ignore[arg-type]
        bundle=b"".join(c.public_bytes(serialization.Encoding.PEM) for c in intermediates),
        options=options,
        token=token,
    )


def _issue(index: int, issuer: Issuer, options: FleetOptions) -> tuple[str, dict[str, bytes]]:
    key = new_key(options.algorithm)
    cn = options.cn(index)
    if options.version == "v1":
        serial = x509.random_serial_number()
        cert = v1.pem(v1_leaf(key.public_key(), cn, options.days, issuer, serial=serial))
    else:
        made = v3_device(key.public_key(), cn, options.days, issuer)
        serial, cert = made.serial_number, made.public_bytes(serialization.Encoding.PEM)
    digits = format(serial, "x")
    contents = {"key": key_pem(key), "certificate": cert}
    if options.chain:
        contents["chain"] = cert + _state["bundle"]
    return ("0" * (len(digits) % 2)) + digits, contents


def _issue_batch(indices: range) -> list[tuple[int, str]]:
    """Make and write (under temporary names) the devices ``indices``: (index, serial) each."""
    issuer, options, token = _state["issuer"], _state["options"], _state["token"]
    records: list[tuple[int, str]] = []
    written: list[Path] = []
    try:
        for index in indices:
            serial, contents = _issue(index, issuer, options)
            names = options.files(index)
            for kind, name in names.items():
                temp = temporary_name(options.out / name, token)
                write_new(temp, contents[kind], KEY_MODE if kind == "key" else CERT_MODE)
                written.append(temp)
            records.append((index, serial))
    except OSError as exc:
        for temp in written:
            temp.unlink(missing_ok=True)
        raise WorkerError(f"cannot write in {options.out}: {exc.strerror}") from None
    return records


# --- main side ---------------------------------------------------------------------------


class _StopSignals:
    """Turns SIGINT and SIGTERM into a flag while installed (main thread only)."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopSignals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _publish(options: FleetOptions, token: str, index: int) -> None:
    # The certificate is renamed last (files() lists it last): a .crt means a complete pair.
    for name in options.files(index).values():
        os.replace(temporary_name(options.out / name, token), options.out / name)


def _remove_temporaries(out: Path, token: str) -> None:
    suffix = f".{token}.tmp"
    with os.scandir(out) as entries:
        for entry in entries:
            if entry.name.startswith(".") and entry.name.endswith(suffix):
                Path(entry.path).unlink(missing_ok=True)


def _worker_args(issuer: Issuer) -> tuple[bytes, bytes]:
    """The CA (with its chain) and its key in forms that cross a process boundary."""
    chain_pem = issuer.cert.public_bytes(serialization.Encoding.PEM) + b"".join(
        c.public_bytes(serialization.Encoding.PEM) for c in issuer.intermediates if c != issuer.cert
    )
    key_der = issuer.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return chain_pem, key_der


def make_fleet(issuer: Issuer, options: FleetOptions, progress: Progress) -> FleetResult:
    """Write ``options.count`` device pairs into ``options.out`` (which must exist)."""
    token = f"{os.getpid()}-{secrets.token_hex(3)}"
    result = FleetResult()
    planned = options.batches()
    result.workers = min(options.jobs, len(planned))
    started = time.monotonic()
    with _StopSignals() as stop:
        pool = ProcessPoolExecutor(
            result.workers,
            initializer=_init_worker,
            initargs=(*_worker_args(issuer), options, token),
        )
        try:
            _drive(pool, iter(planned), options, token, stop, result, progress)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            _remove_temporaries(options.out, token)
        result.interrupted = stop.requested
    result.devices.sort()
    result.seconds = time.monotonic() - started
    return result


def _drive(
    pool: ProcessPoolExecutor,
    batches: Iterator[range],
    options: FleetOptions,
    token: str,
    stop: _StopSignals,
    result: FleetResult,
    progress: Progress,
) -> None:
    """Keep every worker busy until the work is done, a stop is asked for, or an error."""
    window = result.workers * 2  # batches in flight: enough to keep every worker busy
    pending: set[Future[list[tuple[int, str]]]] = set()
    while True:
        while not (stop.requested or result.error) and len(pending) < window:
            batch = next(batches, None)
            if batch is None:
                break
            pending.add(pool.submit(_issue_batch, batch))
        if not pending:
            return
        finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
        for future in finished:
            try:
                records = future.result()
            except BrokenProcessPool:
                # Workers killed along with an interrupt are part of that interrupt.
                if not stop.requested:
                    result.error = result.error or "a worker process died"
                continue
            except WorkerError as exc:
                result.error = result.error or str(exc)
                continue
            published = 0
            for index, serial in records:
                try:
                    _publish(options, token, index)
                except OSError as exc:
                    result.error = result.error or f"cannot rename into {options.out}: {exc}"
                    break
                result.devices.append((index, serial))  # complete: it goes in the manifest
                published += 1
            progress.advance(published)
        progress.tick()
