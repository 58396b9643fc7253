"""Real `mqtt-ca-registry serve` processes on loopback, and the databases behind them."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

POSTGRES_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def console_script() -> list[str]:
    script = Path(sys.executable).parent / "mqtt-ca-registry"
    return [str(script)] if script.exists() else [sys.executable, "-m", "mqtt_ca_registry.cli"]


def server_environment(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Our environment minus proxies (loopback only) and minus any MQTT_CA_REGISTRY_ setting."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _PROXIES and not k.startswith("MQTT_CA_REGISTRY_")
    }
    env["MQTT_CA_REGISTRY_DATABASE_URL"] = database_url
    env["MQTT_CA_REGISTRY_SEED_DEFAULT_INSTANCE"] = "false"
    env.update(extra or {})
    return env


# -- databases -------------------------------------------------------------------------------


async def _postgres_admin(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL.replace("postgresql://", "postgres://"))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@dataclass
class BenchDatabase:
    """A scratch database for one benchmark run: a SQLite file or a PostgreSQL database."""

    kind: str
    url: str
    name: str
    path: Path | None = None

    @classmethod
    def create(cls, kind: str, workdir: Path) -> BenchDatabase:
        if kind == "sqlite":
            workdir.mkdir(parents=True, exist_ok=True)
            path = workdir / "bench.db"
            return cls(kind, f"sqlite:///{path}", path.name, path)
        name = f"mqttcar_bench_{uuid.uuid4().hex[:10]}"
        asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
        base = POSTGRES_ADMIN_URL.rpartition("/")[0]
        return cls(kind, f"{base}/{name}", name)

    def migrate(self) -> None:
        subprocess.run(
            [*console_script(), "migrate"],
            env=server_environment(self.url),
            check=True,
            capture_output=True,
        )

    def size_bytes(self) -> int:
        """The database's size on disk (SQLite: the file plus its WAL)."""
        if self.path is not None:
            wal = self.path.with_name(self.path.name + "-wal")
            return self.path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)

        async def _size() -> int:
            conn = await asyncpg.connect(self.url.replace("postgresql://", "postgres://"))
            try:
                return int(await conn.fetchval("SELECT pg_database_size(current_database())"))
            finally:
                await conn.close()

        return asyncio.run(_size())

    def drop(self) -> None:
        if self.kind == "postgresql":
            asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


# -- servers ---------------------------------------------------------------------------------


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    started_in: float  # seconds from process start to the first /readyz 200

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def pids(self) -> list[int]:
        """The server process and its worker processes (uvicorn spawns them with --workers)."""
        pids = [self.process.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    pids.append(int(entry.name))
        return pids

    def worker_cpu_seconds(self) -> dict[int, float]:
        """CPU time used so far (user + system) by each process that serves requests: the
        workers, or the server process itself when it has none."""
        pids = self.pids()
        serving = pids[1:] or pids
        used = {}
        for pid in serving:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return used

    def peak_rss_mb(self) -> dict[int, float]:
        """VmHWM (peak resident set) of each process of this server, in MiB."""
        peaks = {}
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks[pid] = int(line.split()[1]) / 1024
            except OSError:
                pass
        return peaks

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_server(
    database_url: str, workdir: Path, *, workers: int = 1, timeout: float = 60
) -> Server:
    """Start `mqtt-ca-registry serve` and wait for /readyz 200 (polled every 10 ms)."""
    port = free_port()
    log_path = workdir / f"server-{port}.log"
    args = [*console_script(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--workers", str(workers)]
    env = server_environment(database_url, {"MQTT_CA_REGISTRY_LOG_LEVEL": "WARNING"})
    started = time.perf_counter()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir,
            start_new_session=True,
        )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    deadline = started + timeout
    with httpx.Client(trust_env=False) as client:
        while time.perf_counter() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited:\n{log_path.read_text(errors='replace')}")
            try:
                if client.get(base_url + "/readyz", timeout=2).status_code == 200:
                    return Server(base_url, process, log_path, time.perf_counter() - started)
            except httpx.TransportError:
                pass
            time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError(
        f"server not ready after {timeout}s:\n{log_path.read_text(errors='replace')}"
    )
