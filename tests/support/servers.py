"""Real server processes on loopback, started as users start them (`mqtt-ca-registry serve`)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def console_script() -> list[str]:
    """The installed `mqtt-ca-registry` script next to this interpreter."""
    script = Path(sys.executable).parent / "mqtt-ca-registry"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "mqtt_ca_registry.cli"]


def clean_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test's environment without proxies (loopback only) and without our settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in PROXY_VARIABLES and not k.startswith("MQTT_CA_REGISTRY_")
    }
    env.update(extra or {})
    return env


@dataclass
class LiveServer:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the server and its worker processes (a crash, not a shutdown)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@dataclass
class LiveServerFactory:
    tmp_path: Path
    servers: list[LiveServer] = field(default_factory=list)

    def start(
        self,
        database_url: str,
        *,
        workers: int = 1,
        env: dict[str, str] | None = None,
        command: list[str] | None = None,
        ready_timeout: float = 60,
        port: int | None = None,
    ) -> LiveServer:
        port = port or free_port()
        log_path = self.tmp_path / f"server-{port}.log"
        settings = {"MQTT_CA_REGISTRY_DATABASE_URL": database_url, **(env or {})}
        args = command or [
            *console_script(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                args,
                env=clean_environment(settings),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.tmp_path,
                start_new_session=True,
            )
        server = LiveServer(f"http://127.0.0.1:{port}", process, log_path)
        self.servers.append(server)
        wait_ready(server, ready_timeout)
        return server

    def stop_all(self) -> None:
        for server in self.servers:
            server.stop()


def wait_ready(server: LiveServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(trust_env=False) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(
                    f"server exited with {server.process.returncode}:\n{server.log()}"
                )
            try:
                if client.get(server.base_url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server not ready after {timeout}s:\n{server.log()}")
