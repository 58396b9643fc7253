"""`python -m bench`: real servers on loopback, data made here, one table of figures.

Every ratio compares two figures measured on the same server in the same run, so machine noise
cancels out. See bench/README.md for what each row means and how to read it.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import api, peer, preload, registration, scale, wrk
from bench.certs import DeviceFactory, chain_body, make_ca, pem
from bench.certs import sn as certs_sn
from bench.report import Table
from bench.servers import BenchDatabase, Server, start_server
from mqtt_ca_registry.api.pagination import encode_cursor


@dataclass(frozen=True)
class Sizes:
    seconds: float  # each wrk run
    pool: int  # first-connect bodies per run (each run must not use them all)
    known: int  # distinct known devices cycled through
    registrations: int
    cas: int  # CAs on the scale instance
    per_ca: int  # devices under each of them
    peer_certificates: int
    starts: int

    @property
    def devices(self) -> int:
        return self.cas * self.per_ca


FULL = Sizes(5, 12_000, 2_000, 300, 10, 100_000, 10_000, 3)
QUICK = Sizes(2, 3_000, 500, 40, 10, 2_000, 1_000, 1)
AUTH_INSTANCE, CA_INSTANCE, SCALE_INSTANCE, PEER_INSTANCE = (
    "bench-auth",
    "bench-ca",
    "bench-scale",
    "bench-peer",
)
ACCEPTED, REGISTERED = '"reason_code":"accepted"', '"reason_code":"auto_registered"'


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


class Auth:
    """Known-device and first-connect load against one server, beside /healthz."""

    def __init__(self, workdir: Path, factory: DeviceFactory, sizes: Sizes) -> None:
        self.workdir = workdir
        self.factory = factory
        self.sizes = sizes
        self.path = f"/v1/instances/{AUTH_INSTANCE}/authenticate"
        self.healthz = wrk.write_requests(workdir / "healthz.txt", [("GET", "/healthz", "")])
        self.known = wrk.write_requests(
            workdir / "known.txt",
            [("POST", self.path, chain_body(c)) for c in factory.many(sizes.known)],
        )

    def register_known(self, server: Server) -> None:
        """Register the known devices (by first connect) before any measurement."""
        lines = [tuple(line.rstrip("\n").split("\t", 2)) for line in self.known.open()]
        preload.send_all(server.base_url, lines)  # type: ignore[arg-type]

    def run(self, server: Server, label: str, table: Table) -> None:
        seconds = self.sizes.seconds
        log(f"{label}: making {self.sizes.pool} device certificates")
        first_file = wrk.write_requests(
            self.workdir / f"first-{label}.txt",
            [("POST", self.path, chain_body(c)) for c in self.factory.many(self.sizes.pool)],
        )
        log(f"{label}: /healthz, known devices, first connects, /healthz")
        # Steady state: every known device connected within the minute (so a connect is a
        # read, not the once-a-minute write), and each worker's decision cache warm.
        self.register_known(server)
        wrk.run(server.base_url, self.known, seconds=2, expect=ACCEPTED)
        health_a, share_a = balanced(server, self.healthz, seconds, "ok")
        known, share_k = balanced(server, self.known, seconds, ACCEPTED)
        first, share_f = balanced(server, first_file, seconds, REGISTERED, once=True)
        health_b, share_b = balanced(server, self.healthz, seconds, "ok")
        health = (health_a.rate + health_b.rate) / 2
        shares = f" [{share_a}; {share_b}]" if share_a else ""
        table.load(1, f"GET /healthz, {label}{shares}", health_a, health_b)
        figure = f"authenticate, known device ({self.sizes.known:,} cycled), {label}"
        figure += f" [{share_k}]" if share_k else ""
        table.load(1, figure, known)
        table.ratio(1, f"known / healthz, {label}", known.rate / health, 0.5)
        figure = f"authenticate, first connect (auto-registers), {label}"
        table.load(2, figure + (f" [{share_f}]" if share_f else ""), first)
        note = " (ran out of new devices: a lower bound)" if first.exhausted else ""
        table.ratio(2, f"first connect / healthz, {label}{note}", first.rate / health, 0.25)


# With several workers, uvicorn's processes share one listening socket, and the first to wake
# can accept a whole burst of connections: all 16 of wrk's may land on one worker, and the run
# then measures one worker, not two. Such a run is repeated (a cycling one; a first-connect run
# would use up its devices), and the busiest worker's share of the CPU is printed beside it.
SKEWED = 0.8
ATTEMPTS = 3


def balanced(
    server: Server, requests: Path, seconds: float, expect: str, *, once: bool = False
) -> tuple[wrk.Load, str]:
    """A wrk run, and a note on how the load spread over the workers ('' with one worker)."""
    for attempt in range(1, ATTEMPTS + 1):
        before = server.worker_cpu_seconds()
        load = wrk.run(server.base_url, requests, seconds=seconds, expect=expect, once=once)
        after = server.worker_cpu_seconds()
        used = [after[pid] - before.get(pid, 0.0) for pid in after]
        if len(used) < 2 or not sum(used):
            return load, ""
        share = max(used) / sum(used)
        if share <= SKEWED or once or attempt == ATTEMPTS:
            tries = f", try {attempt}" if attempt > 1 else ""
            return load, f"busiest worker {share:.0%} of CPU{tries}"
        log(f"one worker took {share:.0%} of the CPU: the connections landed unevenly; again")
    raise AssertionError("unreachable")


def run_database(kind: str, sizes: Sizes, workdir: Path, table: Table) -> None:
    database = BenchDatabase.create(kind, workdir)
    try:
        database.migrate()
        ca = make_ca(f"bench {kind} devices CA")
        auth = Auth(workdir, DeviceFactory(ca, f"{kind}-device"), sizes)
        table.section(kind)

        server = start_server(database.url, workdir, workers=2)
        try:
            with api.client(server.base_url) as http:
                api.create_instance(http, AUTH_INSTANCE)
                api.register_ca(http, AUTH_INSTANCE, ca, "devices")
            auth.register_known(server)
            auth.run(server, "2 workers", table)
            table.memory("2 workers, after items 1-2", server.peak_rss_mb())
        finally:
            server.stop()

        server = start_server(database.url, workdir, workers=1)
        try:
            auth.run(server, "1 worker", table)
            with api.client(server.base_url) as http:
                api.create_instance(http, CA_INSTANCE)
            log(f"{kind}: CA registrations")
            registered, ceiling = registration.measure(
                server.base_url, CA_INSTANCE, sizes.registrations
            )
            table.rate(3, "CA registrations/s (code + proof of possession + register)", registered)
            table.rate(3, "  the client's own ceiling (2 x GET /healthz per iteration)", ceiling)
            run_scale(database, server, sizes, table)
            table.memory("1 worker, after items 1-5", server.peak_rss_mb(), limit=200)
        finally:
            server.stop()

        log(f"{kind}: start-up")
        starts = []
        for _ in range(sizes.starts):
            server = start_server(database.url, workdir, workers=1)
            starts.append(server.started_in)
            server.stop()
        starts.sort()
        table.seconds(6, "process start to /readyz 200 (median)", starts[len(starts) // 2], 1.5)
    finally:
        database.drop()


def run_scale(database: BenchDatabase, server: Server, sizes: Sizes, table: Table) -> None:
    kind = database.kind
    with api.client(server.base_url) as http:
        api.create_instance(http, SCALE_INSTANCE)
        for i in range(sizes.cas):
            api.register_ca(http, SCALE_INSTANCE, make_ca(f"bench scale CA {i}"), f"scale-{i}")
    bindings = scale.binding_ids(database, SCALE_INSTANCE)
    sample = pem(DeviceFactory(make_ca("bench sample"), "sample").issue())
    before = database.size_bytes()
    log(f"{kind}: loading {sizes.devices:,} device certificates (bulk path)")
    loaded_in = scale.bulk_load(database, SCALE_INSTANCE, bindings, sizes.per_ca, lambda: sample)
    size = database.size_bytes() - before
    table.text(
        4, f"bulk load of {sizes.devices:,} devices (benchmark's own path)", f"{loaded_in:.0f} s"
    )
    table.text(
        4, "database size per million devices", f"{size / sizes.devices * 1e6 / 2**20:,.0f} MiB"
    )

    last_id = scale.max_device_id(database)
    repeat = 5
    with api.client(server.base_url) as http:
        devices = f"/v1/instances/{SCALE_INSTANCE}/device-certificates"
        first = scale.timed_get(http, devices, {"page_size": "100"}, repeat)
        deepest = scale.timed_get(
            http,
            devices,
            {"page_size": "100", "cursor": encode_cursor("device", last_id - 100)},
            repeat,
        )
        table.ms(4, f"device list, keyset, first page (100 of {sizes.devices:,})", first)
        table.ms(4, "device list, keyset, deepest page", deepest)
        table.ratio(4, "deepest / first keyset page", deepest / first, 1.5, lower_is_better=True)
        pages = sizes.devices // 100
        alibaba = {"Action": "ListDeviceCertificate", "MqttInstanceId": SCALE_INSTANCE}
        for label, page_no, limit in (
            ("first page", 1, None),
            (f"middle page (PageNo {pages // 2:,})", pages // 2, None),
            (f"deepest page (PageNo {pages:,})", pages, 100.0),
        ):
            took = scale.timed_get(
                http, "/", {**alibaba, "PageNo": str(page_no), "PageSize": "100"}, repeat
            )
            if limit is None:
                table.ms(4, f"ListDeviceCertificate, {label}", took)
            else:
                table.ms(4, f"ListDeviceCertificate, {label}", took, limit)
        run_cascade(http, bindings[0], sizes.per_ca, table)


def run_cascade(http: object, binding: scale.Binding, devices: int, table: Table) -> None:
    import httpx

    assert isinstance(http, httpx.Client)
    base = f"/v1/instances/{SCALE_INSTANCE}/ca-certificates/{binding.ca_sn}"
    # Three devices deactivated one by one first: activating the CA must override them.
    for n in range(3):
        sn = scale.device_sn(binding, n)
        response = http.post(f"{base}/device-certificates/{sn}/deactivate")
        assert response.status_code == 200, response.text

    def totals() -> tuple[int, int]:
        counts = []
        for status in ("active", "inactive"):
            response = http.get(
                f"{base}/device-certificates", params={"status": status, "page_size": 1}
            )
            counts.append(int(response.json()["total"]))
        return counts[0], counts[1]

    for action, expected in (("deactivate", (0, devices)), ("activate", (devices, 0))):
        started = time.perf_counter()
        response = http.post(f"{base}/{action}")
        took = time.perf_counter() - started
        assert response.status_code == 200, response.text
        started = time.perf_counter()
        seen = totals()
        read_back = time.perf_counter() - started
        correct = "every device reads back correctly" if seen == expected else f"WRONG: {seen}"
        table.seconds(5, f"CA {action} with {devices:,} devices", took, 1.0)
        table.text(
            5,
            f"  effective status read back (active, inactive) = {seen}",
            f"{read_back * 1000:.0f} ms, {correct}",
        )


def run_peer(sizes: Sizes, workdir: Path, table: Table) -> None:
    table.section("peer")
    log("peer: moto[server] in bench/.venv-moto")
    try:
        peer.install()
    except Exception as exc:  # no network or no PyPI: say so in the table
        table.text(8, "moto[server] could not be installed", type(exc).__name__)
        return
    ca = make_ca("bench peer CA")
    factory = DeviceFactory(ca, "peer-device")
    log(f"peer: making {sizes.peer_certificates + sizes.pool} device certificates")
    preloaded = [pem(c) for c in factory.many(sizes.peer_certificates)]
    fresh = [pem(c) for c in factory.many(sizes.pool // 2)]
    seconds = sizes.seconds

    moto = peer.start(workdir)
    try:
        peer.register_ca(moto, ca.pem)
        log(f"peer: moto, registering {len(preloaded):,} certificates")
        peer_lines = [peer.register_line(p, ca.pem) for p in preloaded]
        preload.send_all(moto.base_url, peer_lines, peer.HEADERS)
        register_file = wrk.write_requests(
            workdir / "moto-register.txt", [peer.register_line(p, ca.pem) for p in fresh]
        )
        describe_file = wrk.write_requests(
            workdir / "moto-describe.txt", [peer.describe_line(p) for p in preloaded[:1000]]
        )
        moto_register = wrk.run(
            moto.base_url, register_file, seconds=seconds, expect="certificateId", once=True,
            headers=peer.HEADERS,
        )  # fmt: skip
        moto_describe = wrk.run(
            moto.base_url, describe_file, seconds=seconds, expect="certificateDescription",
            headers=peer.HEADERS,
        )  # fmt: skip
    finally:
        moto.stop()

    database = BenchDatabase.create("sqlite", workdir / "peer")
    try:
        database.migrate()
        server = start_server(database.url, workdir, workers=1)
        try:
            with api.client(server.base_url) as http:
                api.create_instance(http, PEER_INSTANCE)
                ca_sn = api.register_ca(http, PEER_INSTANCE, ca, "peer")
            path = f"/v1/instances/{PEER_INSTANCE}/authenticate"
            log(f"peer: ours, registering {len(preloaded):,} devices by first connect")
            preload.send_all(
                server.base_url,
                [("POST", path, json.dumps({"certificate_chain": p})) for p in preloaded],
            )
            connect_file = wrk.write_requests(
                workdir / "ours-connect.txt",
                [("POST", path, json.dumps({"certificate_chain": p})) for p in fresh],
            )
            devices = f"/v1/instances/{PEER_INSTANCE}/ca-certificates/{ca_sn}/device-certificates"
            get_file = wrk.write_requests(
                workdir / "ours-get.txt",
                [("GET", f"{devices}/{certs_sn(c)}", "") for c in _certs(preloaded[:1000])],
            )
            ours_register = wrk.run(
                server.base_url, connect_file, seconds=seconds, expect=REGISTERED, once=True
            )
            ours_get = wrk.run(server.base_url, get_file, seconds=seconds, expect="device_sn")
        finally:
            server.stop()
    finally:
        database.drop()

    n = f"{len(preloaded):,} registered"
    table.load(8, f"moto {peer.version()}: RegisterCertificate under a CA ({n})", moto_register)
    table.load(8, "ours: authenticate, first connect (verifies the chain)", ours_register)
    table.ratio(8, "ours / moto, registration", ours_register.rate / moto_register.rate, 5)
    table.load(8, f"moto: DescribeCertificate ({n})", moto_describe)
    table.load(8, "ours: GET device certificate", ours_get)
    table.ratio(8, "ours / moto, describe", ours_get.rate / moto_describe.rate, 10)


def _certs(pems: list[str]) -> list[object]:
    from cryptography import x509

    return [x509.load_pem_x509_certificate(p.encode()) for p in pems]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (~2 minutes)")
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql"
    )
    parser.add_argument("--skip-peer", action="store_true", help="skip the moto comparison")
    parser.add_argument("--install-wrk", action="store_true", help="apt-get install wrk if missing")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    if args.install_wrk:
        wrk.install_wrk()
    wrk.require_wrk()
    sizes = QUICK if args.quick else FULL
    started = time.perf_counter()
    table = Table()
    with tempfile.TemporaryDirectory(prefix="mqtt-ca-registry-bench-") as tmp:
        workdir = Path(tmp)
        for kind in args.databases.split(","):
            (workdir / kind).mkdir()
            run_database(kind, sizes, workdir / kind, table)
        if not args.skip_peer:
            (workdir / "peer").mkdir()
            run_peer(sizes, workdir, table)
    took = time.perf_counter() - started
    header = (
        f"mqtt-ca-registry bench{' --quick' if args.quick else ''}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}: {_machine()}, "
        f"Python {platform.python_version()}, wrk -t1 -c16, {sizes.seconds:g} s per run; "
        f"took {took / 60:.1f} min"
    )
    print(table.render(header))
    if args.json:
        args.json.write_text(json.dumps(table.rows, indent=2))
    return 0


def _machine() -> str:
    cpus = sum(
        1 for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("processor")
    )
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.machine(),
    )  # fmt: skip
    memory = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )  # fmt: skip
    return f"{cpus} x {model}, {memory / 2**20:.0f} GiB"


if __name__ == "__main__":
    raise SystemExit(main())
