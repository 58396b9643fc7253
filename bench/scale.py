"""Scale: a million device certificates loaded in bulk, then lists, cascades and size."""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from bench import alibaba
from bench.servers import BenchDatabase

BATCH = 50_000


@dataclass(frozen=True)
class Binding:
    id: int
    ca_sn: str


def device_sn(binding: Binding, n: int) -> str:
    """The canonical Sn (lowercase hex, even length) of synthetic device ``n`` of a binding."""
    digits = format((binding.id << 64) + n + 1, "x")
    return digits if len(digits) % 2 == 0 else "0" + digits


def _rows(
    binding: Binding, instance_id: str, count: int, pem_of: Callable[[], str]
) -> Iterator[tuple[tuple[object, ...], str]]:
    """Device rows as auto-registration writes them (synthetic serials, one real PEM shape)."""
    now = datetime.now(UTC).replace(microsecond=0)
    before, after = now - timedelta(days=1), now + timedelta(days=365)
    pem = pem_of()
    for n in range(count):
        sn = device_sn(binding, n)
        yield (
            binding.id, instance_id, sn, f"device-{binding.id}-{n}",
            f"{binding.id:08x}{n:056x}", f"CN=device-{binding.id}-{n},O=mqtt-ca-registry bench",
            before, after, "active", 0, now, None,
        ), pem  # fmt: skip


COLUMNS = (
    "binding_id", "instance_id", "device_sn", "device_name", "fingerprint_sha256", "subject",
    "not_before", "not_after", "status", "status_generation", "registered_at",
    "last_authenticated_at",
)  # fmt: skip


def _sqlite_time(value: object) -> object:
    if isinstance(value, datetime):  # as SQLAlchemy stores UTCDateTime on SQLite
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def bulk_load(
    database: BenchDatabase,
    instance_id: str,
    bindings: list[Binding],
    per_binding: int,
    pem_of: Callable[[], str],
) -> float:
    """Insert ``per_binding`` devices under each binding, bypassing the API; seconds taken."""
    started = time.perf_counter()
    if database.kind == "sqlite":
        _load_sqlite(database, instance_id, bindings, per_binding, pem_of)
    else:
        asyncio.run(_load_postgres(database, instance_id, bindings, per_binding, pem_of))
    return time.perf_counter() - started


def _load_sqlite(
    database: BenchDatabase,
    instance_id: str,
    bindings: list[Binding],
    per_binding: int,
    pem_of: Callable[[], str],
) -> None:
    assert database.path is not None
    connection = sqlite3.connect(database.path, isolation_level=None, timeout=60)
    connection.execute("PRAGMA synchronous=OFF")  # the benchmark's own bulk path only
    insert_device = (
        f"INSERT INTO device_certificates ({', '.join(COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in COLUMNS)})"
    )
    for binding in bindings:
        rows = _rows(binding, instance_id, per_binding, pem_of)
        while True:
            batch = [(tuple(_sqlite_time(v) for v in r), pem) for r, pem in _take(rows, BATCH)]
            if not batch:
                break
            connection.execute("BEGIN IMMEDIATE")
            first = connection.execute("SELECT coalesce(max(id), 0) FROM device_certificates")
            start = first.fetchone()[0] + 1
            connection.executemany(insert_device, [r for r, _ in batch])
            connection.executemany(
                "INSERT INTO device_certificate_pems (device_id, certificate_pem) VALUES (?, ?)",
                [(start + i, pem) for i, (_, pem) in enumerate(batch)],
            )
            connection.execute("COMMIT")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.execute("ANALYZE")
    connection.close()


def _take(
    rows: Iterator[tuple[tuple[object, ...], str]], n: int
) -> list[tuple[tuple[object, ...], str]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == n:
            break
    return batch


async def _load_postgres(
    database: BenchDatabase,
    instance_id: str,
    bindings: list[Binding],
    per_binding: int,
    pem_of: Callable[[], str],
) -> None:
    connection = await asyncpg.connect(database.url.replace("postgresql://", "postgres://"))
    try:
        for binding in bindings:
            rows = _rows(binding, instance_id, per_binding, pem_of)
            while True:
                batch = _take(rows, BATCH)
                if not batch:
                    break
                async with connection.transaction():
                    ids = await connection.fetch(
                        "SELECT nextval(pg_get_serial_sequence('device_certificates', 'id')) "
                        "FROM generate_series(1, $1)",
                        len(batch),
                    )
                    await connection.copy_records_to_table(
                        "device_certificates",
                        records=[(i[0], *r) for i, (r, _) in zip(ids, batch, strict=True)],
                        columns=("id", *COLUMNS),
                    )
                    await connection.copy_records_to_table(
                        "device_certificate_pems",
                        records=[(i[0], pem) for i, (_, pem) in zip(ids, batch, strict=True)],
                        columns=("device_id", "certificate_pem"),
                    )
        await connection.execute("VACUUM ANALYZE device_certificates")
        await connection.execute("VACUUM ANALYZE device_certificate_pems")
    finally:
        await connection.close()


def binding_ids(database: BenchDatabase, instance_id: str) -> list[Binding]:
    """The instance's bindings (id, CA Sn), read straight from the database."""
    sql = "SELECT id, ca_sn FROM ca_bindings WHERE instance_id = {} ORDER BY id"
    if database.kind == "sqlite":
        assert database.path is not None
        with sqlite3.connect(database.path) as connection:
            rows = connection.execute(sql.format("?"), (instance_id,)).fetchall()
        return [Binding(int(r[0]), str(r[1])) for r in rows]

    async def _read() -> list[Binding]:
        connection = await asyncpg.connect(database.url.replace("postgresql://", "postgres://"))
        try:
            rows = await connection.fetch(sql.format("$1"), instance_id)
        finally:
            await connection.close()
        return [Binding(int(r[0]), str(r[1])) for r in rows]

    return asyncio.run(_read())


def max_device_id(database: BenchDatabase) -> int:
    sql = "SELECT max(id) FROM device_certificates"
    if database.kind == "sqlite":
        assert database.path is not None
        with sqlite3.connect(database.path) as connection:
            return int(connection.execute(sql).fetchone()[0])

    async def _read() -> int:
        connection = await asyncpg.connect(database.url.replace("postgresql://", "postgres://"))
        try:
            return int(await connection.fetchval(sql))
        finally:
            await connection.close()

    return asyncio.run(_read())


# -- measurements through the API ---------------------------------------------------------------


def timed_get(http: httpx.Client, path: str, params: dict[str, str], repeat: int) -> float:
    """The median time of ``repeat`` sequential GETs (first one discarded), in milliseconds."""
    times = []
    for i in range(repeat + 1):
        query = params
        if "Action" in params:  # every Alibaba call needs a fresh nonce and signature
            action = params["Action"]
            query = alibaba.signed_query(
                action, **{k: v for k, v in params.items() if k != "Action"}
            )
        started = time.perf_counter()
        response = http.get(path, params=query)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:300]}")
        if i:
            times.append(elapsed)
    return statistics.median(times) * 1000
