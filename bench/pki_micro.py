"""Micro-benchmark of a device's first connect inside ``pki``: PEM loading plus chain verification.

``python -m bench.pki_micro`` makes a CA per key type (RSA 2048, P-256), a few hundred device
certificates under each, and a trust store built as ``TrustAnchors.build`` builds it,
then prints the median microseconds per certificate of each step: every certificate of every
round timed on its own, in this thread's CPU time (each round loads every certificate afresh,
so nothing parsed in one round flatters the next).
``--profile`` prints the heaviest functions of load + verify under cProfile instead.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from bench.certs import NOW, DeviceFactory, make_ca, pem, sn
from mqtt_ca_registry.pki.certinfo import describe
from mqtt_ca_registry.pki.chain import TrustStore
from mqtt_ca_registry.pki.pem import load_certificates

# As the default settings (Settings.max_pem_bytes, max_chain_length) make authenticate call it.
MAX_COUNT = 10
MAX_BYTES = 64 * 1024 * MAX_COUNT
FIELD = "certificate_chain"
LEAF = "device_certificate"
T = TypeVar("T")
# CPU time of this thread: the figures then move less when other work shares the machine.
CLOCK = time.thread_time


@dataclass(frozen=True)
class Variant:
    """One key type: its trust store and the PEM chains of its devices."""

    name: str
    store: TrustStore
    chains: list[str]


def _name(cn: str) -> x509.Name:
    # The shape bench/certs.py gives its names.
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mqtt-ca-registry bench"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _rsa_certificates(devices: int) -> tuple[x509.Certificate, list[x509.Certificate]]:
    """An RSA 2048 root and ``devices`` certificates it issued, sharing one RSA 2048 key."""
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    device_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()

    def issue(subject: x509.Name, key: rsa.RSAPublicKey, days: int) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(_name("bench RSA CA"))
            .public_key(key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - timedelta(days=1))
            .not_valid_after(NOW + timedelta(days=days))
        )

    ca = (
        issue(_name("bench RSA CA"), ca_key.public_key(), 3650)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    issued = [
        issue(_name(f"rsa-device-{i}"), device_key, 365).sign(ca_key, hashes.SHA256())
        for i in range(1, devices + 1)
    ]
    return ca, issued


def _store(cas: Sequence[x509.Certificate]) -> TrustStore:
    # As TrustAnchors.build does: anchors re-read from their stored PEM, partial chains allowed.
    certificates = {sn(ca): x509.load_pem_x509_certificate(pem(ca).encode()) for ca in cas}
    return TrustStore(list(certificates.items()), partial_chain=True)


def make_variants(devices: int, extra_anchors: int) -> list[Variant]:
    """RSA and P-256 issuers, each in a store with ``extra_anchors`` unrelated P-256 CAs."""
    others = [make_ca(f"bench other CA {i}").cert for i in range(extra_anchors)]
    rsa_ca, rsa_devices = _rsa_certificates(devices)
    ec_ca = make_ca("bench P-256 CA")
    ec_devices = list(DeviceFactory(ec_ca, "ec-device").many(devices))
    return [
        Variant("RSA-2048", _store([*others, rsa_ca]), [pem(c) for c in rsa_devices]),
        Variant("P-256", _store([*others, ec_ca.cert]), [pem(c) for c in ec_devices]),
    ]


def _load(text: str) -> list[x509.Certificate]:
    return load_certificates(text, field=FIELD, max_bytes=MAX_BYTES, max_count=MAX_COUNT)


def _per_cert_us(
    rounds: int, prepare: Callable[[], Sequence[T]], run: Callable[[T], object]
) -> float:
    """Median microseconds of ``run(item)`` over every item of ``rounds`` calls of ``prepare``.

    Each call is timed on its own, so a burst of other work on the machine moves a few
    samples, not the median.
    """
    samples: list[float] = []
    clock = CLOCK
    for _ in range(rounds):
        items = prepare()
        gc.disable()  # as timeit does
        try:
            for item in items:
                start = clock()
                run(item)
                samples.append(clock() - start)
        finally:
            gc.enable()
    return statistics.median(samples) * 1e6


def measure(variant: Variant, rounds: int) -> dict[str, float]:
    """Median µs per certificate of each step, and of load + verify together."""
    store, chains = variant.store, variant.chains
    first = store.verify(_load(chains[0]), now=NOW, security_level=2)
    assert first.ok, first.message

    def fresh() -> list[list[x509.Certificate]]:
        return [_load(text) for text in chains]

    def verify(chain: list[x509.Certificate]) -> object:
        return store.verify(chain, now=NOW, security_level=2)

    def both(text: str) -> object:
        return store.verify(_load(text), now=NOW, security_level=2)

    return {
        "load": _per_cert_us(rounds, lambda: chains, _load),
        "verify": _per_cert_us(rounds, fresh, verify),
        "describe": _per_cert_us(rounds, fresh, lambda c: describe(c[0], field=LEAF)),
        "load+verify": _per_cert_us(rounds, lambda: chains, both),
    }


def profile(variants: Sequence[Variant], rounds: int, top: int) -> None:
    """cProfile of load + verify over every variant, heaviest functions by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(rounds):
        for variant in variants:
            for text in variant.chains:
                variant.store.verify(_load(text), now=NOW, security_level=2)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main(argv: Sequence[str] | None = None) -> None:
    """Print the table (or, with ``--profile``, the profile)."""
    parser = argparse.ArgumentParser(prog="python -m bench.pki_micro", description=__doc__)
    parser.add_argument("--devices", type=int, default=300, help="certificates per key type")
    parser.add_argument("--rounds", type=int, default=25, help="timed rounds per figure")
    parser.add_argument("--extra-anchors", type=int, default=2, help="unrelated CAs per store")
    parser.add_argument("--profile", action="store_true", help="print a cProfile instead")
    parser.add_argument("--top", type=int, default=30, help="functions shown by --profile")
    args = parser.parse_args(argv)
    variants = make_variants(args.devices, args.extra_anchors)
    if args.profile:
        profile(variants, max(1, args.rounds // 5), args.top)
        return
    steps = ("load", "verify", "describe", "load+verify")
    print(
        f"µs of CPU per certificate: median over {args.rounds} rounds x {args.devices} "
        "certificates, each timed on its own"
    )
    print("(describe is part of verify; it is shown on its own to size it)\n")
    print("| key type | " + " | ".join(steps) + " |")
    print("|---|" + "---:|" * len(steps))
    for variant in variants:
        figures = measure(variant, args.rounds)
        print(f"| {variant.name} | " + " | ".join(f"{figures[s]:.1f}" for s in steps) + " |")


if __name__ == "__main__":
    main()
