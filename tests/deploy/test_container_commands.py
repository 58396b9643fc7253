"""What the containers run, run here: the compose stack's commands on the real PostgreSQL, and
the image's defaults on SQLite.

Docker cannot run on the test machines, so each test takes the exact command from the Dockerfile
or docker-compose.yml and runs it with the substitutions documented in
``container_files.on_loopback`` (host 127.0.0.1, a free port, the venv's console script) and
``container_files.probe_on_loopback`` (this interpreter, that port). The image itself (its build
and its venv) is only checked statically, in test_docker_files.py.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from mqtt_ca_registry.db.migrations import current_revision, head_revision
from mqtt_ca_registry.db.session import Database
from tests.deploy.container_files import (
    DATABASE_URL_VARIABLE,
    on_loopback,
    probe_on_loopback,
    read_compose,
    read_dockerfile,
)
from tests.support import servers
from tests.support.servers import LiveServer, LiveServerFactory, clean_environment, free_port

POSTGRESQL = pytest.mark.parametrize("scratch_database_url", ["postgresql"], indirect=True)


def compose_environment(service: dict[str, Any], database_url: str) -> dict[str, str]:
    """A service's environment, variable names as in docker-compose.yml; the database URL (host
    `db` on the compose network) points at the test database instead."""
    env = {name: str(value) for name, value in service["environment"].items()}
    assert DATABASE_URL_VARIABLE in env
    env[DATABASE_URL_VARIABLE] = database_url
    return env


def run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        env=clean_environment(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def _revision(database_url: str) -> str | None:
    database = Database(database_url)
    try:
        async with database.engine.connect() as connection:
            return await current_revision(connection)
    finally:
        await database.dispose()


def revision(database_url: str) -> str | None:
    return asyncio.run(_revision(database_url))


def serve_image_cmd(
    live_server: LiveServerFactory,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    env: dict[str, str],
) -> LiveServer:
    """Start the Dockerfile's CMD through the live_server fixture (which waits for /readyz)."""
    port = free_port()
    # The factory polls the port servers.free_port() gives it; make that the one CMD binds.
    monkeypatch.setattr(servers, "free_port", lambda: port)
    command = on_loopback(read_dockerfile()[-1].last("CMD").exec_form(), port)
    return live_server.start(database_url, command=command, env=env)


def port_of(server: LiveServer) -> int:
    port = urlsplit(server.base_url).port
    assert port is not None
    return port


class TestComposeStack:
    @pytest.mark.postgres
    @POSTGRESQL
    def test_migrate_twice_then_api_serves(
        self,
        scratch_database_url: str,
        live_server: LiveServerFactory,
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
    ) -> None:
        services = read_compose()["services"]
        migrate = on_loopback(services["migrate"]["command"])
        migrate_env = compose_environment(services["migrate"], scratch_database_url)

        for attempt in ("first", "second (idempotent)"):
            result = run(migrate, migrate_env, tmp_path)
            assert result.returncode == 0, f"{attempt} migrate:\n{result.stdout}{result.stderr}"
            assert revision(scratch_database_url) == head_revision(), attempt

        api_env = compose_environment(services["api"], scratch_database_url)
        server = serve_image_cmd(live_server, monkeypatch, scratch_database_url, api_env)
        with httpx.Client(base_url=server.base_url, trust_env=False, timeout=10) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["revision"] == head_revision()
            # The stack runs with the token of .env.example: without it, /v1 is closed.
            assert client.get("/v1/instances").status_code == 401
            token = api_env["MQTT_CA_REGISTRY_API_TOKEN"]
            instances = client.get("/v1/instances", headers={"Authorization": f"Bearer {token}"})
            assert instances.status_code == 200, instances.text
            # Seeded by the first migrate only: the second one and `serve` found nothing to do.
            assert [i["instance_id"] for i in instances.json()["items"]] == ["mqtt-cn-local"]

        probe = probe_on_loopback(services["api"]["healthcheck"]["test"][1:], port_of(server))
        result = run(probe, {}, tmp_path)
        assert result.returncode == 0, f"compose health check failed:\n{result.stderr}"


class TestImageDefaults:
    def test_serves_on_its_default_sqlite_database(
        self, live_server: LiveServerFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        runtime = read_dockerfile()[-1]
        data = tmp_path / "data"  # stands for /data, where the README mounts a volume
        data.mkdir()
        default_url = runtime.env()[DATABASE_URL_VARIABLE]
        database_url = default_url.replace("sqlite:////data/", f"sqlite:///{data}/", 1)
        assert database_url != default_url

        server = serve_image_cmd(live_server, monkeypatch, database_url, {})
        assert (data / Path(urlsplit(default_url).path).name).is_file()
        with httpx.Client(base_url=server.base_url, trust_env=False, timeout=10) as client:
            assert client.get("/v1/instances").status_code == 200

        result = run(probe_on_loopback(runtime.healthcheck(), port_of(server)), {}, tmp_path)
        assert result.returncode == 0, f"image health check failed:\n{result.stderr}"

    def test_health_check_fails_when_nothing_answers(self, tmp_path: Path) -> None:
        probe = probe_on_loopback(read_dockerfile()[-1].healthcheck(), free_port())
        assert run(probe, {}, tmp_path).returncode != 0
